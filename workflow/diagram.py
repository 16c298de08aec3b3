"""Mermaid state diagrams of a flow: states with their labels, transitions with who fires them."""

from workflow.definition import Flow


def to_mermaid(flow: Flow, *, current: str | None = None) -> str:
    """A `stateDiagram-v2` text; `current` is highlighted (for the initiative page)."""
    lines = ["stateDiagram-v2", "    direction TB"]
    for name, state in flow.states.items():
        lines.append(f'    state "{_text(state.label)}" as {name}')
    start = flow.start
    lines.append(f"    [*] --> {flow.initial.name}: {_text(start.label)}{_roles(start)}")
    for t in flow.transitions:
        # Optional side steps (joining, leaving, naming people) are possible in many states and
        # would add a loop to each; the diagram shows the path, the step lists show them all.
        if t.source is None or t.optional:
            continue
        for source in t.sources:
            dest = t.dest.name if t.dest else source.name
            lines.append(f"    {source.name} --> {dest}: {_text(t.label)}{_roles(t)}")
    for name, state in flow.states.items():
        if state.final:
            lines.append(f"    {name} --> [*]")
    if current:
        lines.append("    classDef current fill:#ffd966,stroke:#7a5c00,stroke-width:3px")
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def _roles(t: object) -> str:
    roles = getattr(t, "roles", ())
    if getattr(t, "automatic", False) or not roles:
        return ""
    return " (" + ", ".join(_text(a.label) for a in roles) + ")"


def _text(text: str) -> str:
    # Mermaid ends a label at ':' and breaks on quotes; keep the words, drop the syntax.
    return text.replace('"', "'").replace(":", " -").replace("\n", " ")
