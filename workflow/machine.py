"""One `transitions.Machine` per flow version, wrapped so the rest of the code never sees it."""

from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from workflow.context import TransitionContext
from workflow.definition import Flow


@dataclass
class _Token:
    """The plain object the machine moves; rows are never handed to `transitions`."""

    state: str


class FlowMachine:
    """Answers "where does this trigger lead from here?" for one flow version."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        transitions: list[dict[str, Any]] = []
        for t in flow.transitions:
            if t.source is None:
                continue
            transitions.append(
                {
                    "trigger": t.trigger,
                    "source": [s.name for s in t.sources],
                    "dest": t.dest.name if t.dest else None,
                    "conditions": [_guard_condition(g.check) for g in t.guards],
                }
            )
        self._triggers: dict[str, frozenset[str]] = {}
        self._destinations: dict[tuple[str, str], str] = {}
        self._machine = Machine(
            model=None,
            states=list(flow.states),
            transitions=transitions,
            initial=flow.initial.name,
            auto_transitions=False,
            send_event=False,
        )

    def can_leave(self, state: str, trigger: str) -> bool:
        """True when `trigger` is declared from `state` (guards not considered)."""
        triggers = self._triggers.get(state)
        if triggers is None:  # asked on every step; a flow version never changes
            triggers = self._triggers[state] = frozenset(self._machine.get_triggers(state))
        return trigger in triggers

    def destination(self, state: str, trigger: str) -> str:
        """Where `trigger` leads from `state` once the caller has judged its guards, as `fire`
        with `judged` would move: the machine's first transition for the pair. Looked up in
        the machine's table once per pair: firing through its event machinery (event data,
        queue, callbacks) cost the write path a twentieth of a step. Raises MachineError when
        the trigger is not declared from `state`."""
        key = (state, trigger)
        found = self._destinations.get(key)
        if found is None:
            declared = self._machine.get_transitions(trigger=trigger, source=state)
            if not declared:
                raise MachineError(f"{trigger!r} is not declared from {state!r}")
            found = self._destinations[key] = declared[0].dest or state  # no dest: stays
        return found

    def fire(
        self, state: str, trigger: str, ctx: TransitionContext, *, judged: bool = False
    ) -> str | None:
        """The state after firing, or None when a guard refused. Raises KeyError/MachineError.

        `judged`: the caller has just checked the guards on this context (the write path does,
        to give its Dutch messages); they are not run a second time.
        """
        token = _Token(state)
        if not self._machine.events[trigger].trigger(token, ctx=ctx, judged=judged):
            return None
        return token.state


def _guard_condition(check: Any) -> Any:
    def condition(ctx: TransitionContext, judged: bool = False) -> bool:
        return judged or bool(check(ctx))

    return condition


__all__ = ["FlowMachine", "MachineError"]
