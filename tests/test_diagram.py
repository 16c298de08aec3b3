"""Mermaid export: Dutch state labels, transitions with who fires them, the current state marked."""

from workflow.diagram import to_mermaid


def test_groeiagenda_diagram(app):
    text = to_mermaid(app.registry.get("groeiagenda"))
    lines = text.splitlines()
    assert "stateDiagram-v2" == lines[0]
    assert '    state "Bij het college" as with_college' in lines
    assert "    [*] --> submitted: Voorstel indienen (de indienende fractie)" in lines
    assert ("    with_college --> tabled: Doorgeleiden naar werkgroep "
            "(het college van de gemeente)") in lines
    # Mermaid ends a label at ':'; labels with colons are rewritten, not cut short.
    assert "    go_decision --> frameworks_check: Besluit - go (de secretaris van de werkgroep)" in lines
    assert "    participant_decisions --> agreements: Alle deelnemers besloten - minstens twee gaan door" in lines
    assert "    completed --> [*]" in lines
    assert "class" not in text


def test_current_state_is_highlighted(app):
    text = to_mermaid(app.registry.get("groeiagenda"), current="tabled")
    assert text.endswith("    class tabled current\n")
