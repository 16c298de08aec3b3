"""Flow validation at load time: every problem is reported, naming the flow and the states."""

from collections import deque

from workflow.definition import Flow, StateKind
from workflow.errors import FlowDefinitionError


def validate_flow(flow: Flow) -> None:
    """Raise `FlowDefinitionError` listing every problem in `flow`; return quietly if sound."""
    problems: list[str] = []
    registered = {id(s) for s in flow.states.values()}
    starts = [t for t in flow.transitions if t.source is None]
    if len(starts) != 1:
        problems.append(f"needs exactly one creating transition (source=None), has {len(starts)}")

    seen_triggers: set[str] = set()
    for t in flow.transitions:
        if t.trigger in seen_triggers:
            problems.append(f"trigger {t.trigger!r} is declared twice")
        seen_triggers.add(t.trigger)
        for s in (*t.sources, *((t.dest,) if t.dest else ())):
            if id(s) not in registered:
                problems.append(f"transition {t.trigger!r} uses state {s.label!r} not in the flow")
        if t.dest is None and not t.sources:
            problems.append(f"transition {t.trigger!r} has neither source nor destination")
        if any(s.final for s in t.sources):
            finals = sorted(s.name for s in t.sources if s.final)
            problems.append(f"transition {t.trigger!r} leaves final states: {finals}")
        if not t.roles and not t.automatic:
            problems.append(f"transition {t.trigger!r} names no role that may fire it")
        if t.automatic and not t.guards:
            problems.append(f"automatic transition {t.trigger!r} has no guard (it would always fire)")
        for audience in (*t.roles, *(n.audience for n in t.notify)):
            if flow.known_roles and audience.role not in flow.known_roles:
                problems.append(
                    f"transition {t.trigger!r} names unknown role {audience.role!r} "
                    f"(audience {audience.name!r})"
                )
        for n in t.notify:
            if flow.known_templates is not None and n.template not in flow.known_templates:
                problems.append(f"transition {t.trigger!r} sends unknown template {n.template!r}")
        for g in t.guards:
            if not g.name or not callable(g.check):
                problems.append(f"transition {t.trigger!r} has an unnamed or uncallable guard")
        if t.actor_scope_field and (
            t.requires is None or t.actor_scope_field not in t.requires.model_fields
        ):
            problems.append(
                f"transition {t.trigger!r} fills {t.actor_scope_field!r} from the actor, "
                "but its input has no such field"
            )
        if t.requires is not None and not hasattr(t.requires, "model_validate"):
            problems.append(f"transition {t.trigger!r} requires {t.requires!r}, not an input model")

    for state in flow.states.values():
        policy = state.deadline
        if policy is None:
            continue
        for template in policy.templates():
            if flow.known_templates is not None and template not in flow.known_templates:
                problems.append(f"deadline of state {state.name!r} sends unknown template {template!r}")
        for audience in (*policy.remind_audiences, *policy.escalate_to, *policy.extend_roles):
            if flow.known_roles and audience.role not in flow.known_roles:
                problems.append(f"deadline of state {state.name!r} names unknown role {audience.role!r}")

    reachable = _reachable(flow)
    unreachable = [n for n, s in flow.states.items() if id(s) not in reachable]
    if unreachable:
        problems.append(f"these states cannot be reached: {unreachable}")
    dead_ends = [
        name
        for name, state in flow.states.items()
        if state.kind is not StateKind.FINAL
        and not any(t.dest is not None and t.dest is not state for t in flow.from_state(name))
    ]
    if dead_ends:
        problems.append(f"these states are not final but have no way out: {dead_ends}")
    if problems:
        raise FlowDefinitionError(f"{flow.name} v{flow.version}", problems)


def _reachable(flow: Flow) -> set[int]:
    starts = [t.dest for t in flow.transitions if t.source is None and t.dest is not None]
    seen = {id(s) for s in starts}
    queue = deque(starts)
    while queue:
        state = queue.popleft()
        for t in flow.from_state(state.name):
            if t.dest is not None and id(t.dest) not in seen:
                seen.add(id(t.dest))
                queue.append(t.dest)
    return seen
