"""Every notification a flow declares has a Dutch text and HTML template that renders strictly."""

from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from notifications.render import TemplateRenderer, listing
from tests.routes import drive
from workflow.deadlines import policy_context
from workflow.models import Deadline, Event
from workflow.outbox import Recipient

RENDERER = TemplateRenderer()


def _declared(registry):
    """(flow, template) for every notification of every flow: transitions and deadline policies."""
    found = set()
    for flow in registry.latest():
        for t in flow.transitions:
            found |= {(flow.name, n.template) for n in t.notify}
        for state in flow.states.values():
            if state.deadline is not None:
                found |= {(flow.name, name) for name in state.deadline.templates()}
    return sorted(found)


def _contexts(app, people):
    """A real context per kind of message, from a real initiative with plan, group and shared date."""
    engine = app.engine
    iid = drive(engine, people, "participant_decisions", title="Wonen & werken <samen>")
    with engine.db.read() as session:
        from workflow.models import Initiative

        row = session.get(Initiative, iid)
        spec = engine.registry.get(row.flow, row.flow_version)
        view = engine.view_of(session, row)
        deadline = Deadline(id=1, initiative_id=iid, state=row.state, label="Besluit van elke deelnemende gemeente",
                            due_at=datetime(2027, 3, 1, 22, 59, 59, tzinfo=UTC))
        event = Event(id=1, initiative_id=iid, version=row.version, at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                      actor_name="secretaris_wonen", trigger="record_participant_decision",
                      from_state=row.state, to_state=row.state, comment="Toelichting <b>vet</b>",
                      data={"municipality": "dordrecht", "decision": "approve", "date": "2026-11-01",
                            "reason": "Geen draagvlak", "label": deadline.label, "old_due": "2027-03-01",
                            "new_due": "2027-04-01", "deadline_id": 1})
        context = engine.message_context(session, spec, row, view, event, deadline)
        context["initiative"]["data"].setdefault("result", "Gerealiseerd")
        context["initiative"]["data"].setdefault("closing_reason", "Ingetrokken door de fractie")
        policy = spec.state("participant_decisions").deadline
        context.update(audience="de secretaris van de werkgroep", policy=policy_context(policy),
                       reminder={"days_left": 3})
        context["recipient"] = Recipient(1, "Anna de Vries", "anna@example.nl", "secretaris")
        return context


def test_every_declared_notification_has_both_parts(app):
    available = RENDERER.templates()
    missing = [(flow, name) for flow, name in _declared(app.registry) if name not in available]
    assert [] == missing


def test_every_template_renders_strictly_in_dutch(app, people):
    context = _contexts(app, people)
    names = {name for _, name in _declared(app.registry)}
    assert names <= RENDERER.templates()
    for name in sorted(RENDERER.templates()):
        rendered = RENDERER.render(name, context)
        assert rendered.subject and "\n" not in rendered.subject, name
        assert rendered.text.startswith("Beste Anna de Vries,"), name
        assert "Met vriendelijke groet" in rendered.text, name
        if not name.startswith("samenleving_"):  # initiators have no account: no login link
            assert context["link"] in rendered.text, name
            assert f'href="{context["link"]}"' in rendered.html, name
        assert "Wonen &amp; werken &lt;samen&gt;" in rendered.html, name  # autoescaped
        assert "Wonen & werken <samen>" in rendered.text, name  # as typed
        assert "<b>vet</b>" not in rendered.html, name


def test_a_missing_value_fails_loudly(app, people):
    context = _contexts(app, people)
    del context["initiative"]["title"]
    with pytest.raises(UndefinedError):
        RENDERER.render("naar_college", context)


def test_an_announced_deadline_carries_a_calendar_item_and_a_reminder_does_not(app, people):
    context = _contexts(app, people)
    announced = RENDERER.render("besluit_gevraagd", context)
    assert ["uiterste-datum.ics"] == [a["filename"] for a in announced.attachments]
    assert "DTSTART;VALUE=DATE:20270301" in announced.attachments[0]["content"]
    reminder = RENDERER.render("herinnering", {**context, "announce_deadline": False})
    assert () == tuple(reminder.attachments)
    assert "in de bijlage" not in reminder.text
    without = RENDERER.render("go", {**context, "deadline": None})
    assert () == tuple(without.attachments)


def test_lists_read_as_dutch_sentences():
    assert ("", "de griffie", "de griffie en de fractie", "a, b en c") == (
        listing([]), listing(["de griffie"]), listing(["de griffie", "de fractie"]), listing(["a", "b", "c"])
    )

