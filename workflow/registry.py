"""The region a deployment serves: its flows (validated on load), role kinds and reference data."""

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from workflow.definition import Flow
from workflow.errors import NotFound
from workflow.machine import FlowMachine
from workflow.roles import RoleKind
from workflow.validation import validate_flow


@dataclass(frozen=True)
class Region:
    """What a flows package exports as `REGION`; the engine needs nothing else from it."""

    name: str
    role_kinds: Sequence[RoleKind]
    flows: Sequence[Flow]
    seed: Callable[[Session], dict[str, int]]
    system_actor_label: str
    participant_labels: dict[str, str] = field(default_factory=dict)  # status → Dutch label
    # Labels of steps the engine itself records outside any flow (e.g. "extend_deadline").
    engine_step_labels: dict[str, str] = field(default_factory=dict)
    # Reads guards and effects may make inside the write path's transaction, by name:
    # fn(session, initiative_view, *args). They must not write.
    lookups: dict[str, Callable[..., object]] = field(default_factory=dict)


class FlowRegistry:
    """All versions of all flows of a region, each validated and with its machine built once."""

    def __init__(self, region: Region) -> None:
        self.region = region
        self.role_kinds = {k.name: k for k in region.role_kinds}
        self._flows: dict[tuple[str, int], Flow] = {}
        self._machines: dict[tuple[str, int], FlowMachine] = {}
        for flow in region.flows:
            self.add(flow)

    def add(self, flow: Flow) -> None:
        key = (flow.name, flow.version)
        if key in self._flows:
            raise ValueError(f"flow {flow.name!r} version {flow.version} is registered twice")
        validate_flow(flow)
        self._flows[key] = flow
        self._machines[key] = FlowMachine(flow)

    def get(self, name: str, version: int | None = None) -> Flow:
        """The given version, or the newest one (which new initiatives start on)."""
        if version is None:
            versions = [v for (n, v) in self._flows if n == name]
            if not versions:
                known = ", ".join(sorted(self.names())) or "geen"
                raise NotFound(f"Onbekend proces {name!r}. Bekende processen: {known}.")
            version = max(versions)
        try:
            return self._flows[(name, version)]
        except KeyError:
            raise NotFound(f"Proces {name!r} heeft geen versie {version}.") from None

    def machine(self, flow: Flow) -> FlowMachine:
        return self._machines[(flow.name, flow.version)]

    def names(self) -> set[str]:
        return {n for (n, _) in self._flows}

    def latest(self) -> Iterable[Flow]:
        """The newest version of each flow, in the order the region declares them: the first is
        the one offered by default (e.g. the Groeiagenda before the coalition route)."""
        order = list(dict.fromkeys(f.name for f in self.region.flows))
        order += sorted(self.names() - set(order))  # flows added later (tests, migrations)
        return (self.get(n) for n in order)


def load_region(module_name: str) -> FlowRegistry:
    module = importlib.import_module(module_name)
    region = getattr(module, "REGION", None)
    if not isinstance(region, Region):
        raise RuntimeError(f"module {module_name!r} exports no REGION")
    return FlowRegistry(region)
