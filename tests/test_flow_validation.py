"""Flows are validated when they load; every problem is named with the flow and the states."""

import pytest

from tests.example_flows import OWNER, broken, sound
from workflow.definition import Flow, Notify, State, StateKind, Transition
from workflow.errors import FlowDefinitionError
from workflow.registry import FlowRegistry, load_region
from workflow.validation import validate_flow


def test_a_sound_flow_passes():
    validate_flow(sound())


def test_every_problem_is_reported_with_names():
    with pytest.raises(FlowDefinitionError) as err:
        validate_flow(broken())
    problems = err.value.problems
    text = str(err.value)
    assert text.startswith("Flow 'kapot v3' is invalid:")
    expected = [
        "trigger 'send' is declared twice",
        "transition 'send' names unknown role 'ghost' (audience 'ghost')",
        "transition 'reopen' leaves final states: ['done']",
        "transition 'wander' uses state 'Niet aangemeld' not in the flow",
        "transition 'nobody' names no role that may fire it",
        "automatic transition 'auto' has no guard (it would always fire)",
        "these states cannot be reached: ['orphan']",
        "these states are not final but have no way out: ['review']",
    ]
    for line in expected:
        assert line in problems, f"missing: {line}\nall: {problems}"


def test_unknown_template_is_named():
    flow = sound()
    bad = Flow(
        name="voorbeeld", version=2, label="Voorbeeld",
        states=dict(flow.states),
        transitions=[
            *flow.transitions[:2],
            Transition("finish", flow.states["review"], flow.states["done"], "Afronden",
                       roles=[OWNER], notify=[Notify(OWNER, "bestaat_niet")]),
        ],
        known_roles=flow.known_roles, known_templates=flow.known_templates,
    )
    with pytest.raises(FlowDefinitionError) as err:
        validate_flow(bad)
    assert ["transition 'finish' sends unknown template 'bestaat_niet'"] == err.value.problems


def test_actor_scope_field_must_be_an_input_field():
    a, b = State("A"), State("B", StateKind.FINAL)
    flow = Flow(
        name="veld", version=1, label="Veld", states={"a": a, "b": b},
        transitions=[
            Transition("create", None, a, "Aanmaken", roles=[OWNER]),
            Transition("go", a, b, "Gaan", roles=[OWNER], actor_scope_field="municipality"),
        ],
    )
    with pytest.raises(FlowDefinitionError) as err:
        validate_flow(flow)
    assert any("fills 'municipality' from the actor" in p for p in err.value.problems)


def test_a_state_cannot_be_declared_under_two_names():
    a = State("A", StateKind.FINAL)
    with pytest.raises(ValueError, match="declared again"):
        Flow(name="dubbel", version=1, label="x", states={"a": a, "b": a}, transitions=[])


def test_registry_refuses_a_broken_flow_and_the_same_version_twice():
    registry = load_region("flows")
    with pytest.raises(FlowDefinitionError):
        registry.add(broken())
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(registry.get("groeiagenda"))


def test_every_shipped_flow_loads():
    registry = load_region("flows")
    assert {"groeiagenda"} <= registry.names()
    for flow in registry.latest():
        validate_flow(flow)
        assert isinstance(registry, FlowRegistry)
