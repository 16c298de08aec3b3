"""The personal calendar feed: parses as iCalendar, follows a moved deadline, refuses a revoked URL."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import select

from tests.routes import drive
from workflow.calendar import local_date
from workflow.errors import NotFound
from workflow.models import CalendarFeed, Deadline
from workflow.reports import calendar_feed
from workflow.web import create_app

BASE = "https://initiatief.example"


def items(text):
    cal = Calendar.from_ical(text)
    return [(str(e["uid"]), e.decoded("dtstart"), int(e.get("sequence", 0)), str(e["summary"]))
            for e in cal.walk("VEVENT")]


@pytest.fixture
def waiting(engine, people):
    """An initiative with the Sliedrecht college, whose answer is due in 8 weeks."""
    iid = drive(engine, people, "with_college", title="Fietspad langs de Merwede")
    with engine.db.read() as session:
        deadline = session.exec(select(Deadline).where(Deadline.initiative_id == iid)).one()
    return iid, deadline


def test_the_college_sees_its_deadline(engine, people, waiting):
    _iid, deadline = waiting
    token = calendar_feed.create_feed(engine, people["college_sliedrecht"].user_id)
    assert [(f"termijn-{deadline.id}@initiatief.example", local_date(deadline.due_at), 0,
             "Uiterste datum: Reactie van het college – Fietspad langs de Merwede")] == items(
        calendar_feed.feed(engine, token, base_url=BASE))


def test_others_do_not(engine, people, waiting):
    token = calendar_feed.create_feed(engine, people["college_dordrecht"].user_id)
    assert [] == items(calendar_feed.feed(engine, token, base_url=BASE))


def test_the_submitter_sees_it_too(engine, people, waiting):
    token = calendar_feed.create_feed(engine, people["fractie_sliedrecht"].user_id)
    assert 1 == len(items(calendar_feed.feed(engine, token, base_url=BASE)))


def test_a_moved_deadline_moves_in_the_feed(engine, people, waiting):
    iid, deadline = waiting
    token = calendar_feed.create_feed(engine, people["college_sliedrecht"].user_id)
    later = local_date(deadline.due_at) + timedelta(days=21)
    engine.extend_deadline(iid, actor=people["griffie_sliedrecht"], until=later, reason="Raad verschoven")
    [(uid, day, sequence, _summary)] = items(calendar_feed.feed(engine, token, base_url=BASE))
    assert (f"termijn-{deadline.id}@initiatief.example", 1) == (uid, sequence)
    assert later <= day <= later + timedelta(days=14)  # moved out of a recess when there is one


def test_only_the_hash_is_stored(engine, people):
    token = calendar_feed.create_feed(engine, people["college_sliedrecht"].user_id)
    with engine.db.read() as session:
        stored = session.exec(select(CalendarFeed.token_hash)).all()
    assert token not in stored
    assert 1 == len(stored)


def test_a_revoked_or_replaced_feed_is_refused(engine, people):
    user = people["college_sliedrecht"].user_id
    first = calendar_feed.create_feed(engine, user)
    second = calendar_feed.create_feed(engine, user)
    with pytest.raises(NotFound):
        calendar_feed.feed(engine, first, base_url=BASE)
    calendar_feed.feed(engine, second, base_url=BASE)
    assert 1 == calendar_feed.revoke_feeds(engine, user)
    with pytest.raises(NotFound) as err:
        calendar_feed.feed(engine, second, base_url=BASE)
    assert "Deze agenda-link bestaat niet (meer). Maak op uw accountpagina een nieuwe aan." == err.value.message


def test_served_without_login_and_refused_after_revoking(app, engine, people, waiting):
    user = people["college_sliedrecht"].user_id
    token = calendar_feed.create_feed(engine, user)
    with TestClient(create_app(app, run_scheduler=False)) as client:
        ok = client.get(f"/agenda/{token}.ics")
        assert (200, "text/calendar; charset=utf-8") == (ok.status_code, ok.headers["content-type"])
        assert 1 == len(items(ok.text))
        calendar_feed.revoke_feeds(engine, user)
        assert 404 == client.get(f"/agenda/{token}.ics").status_code
        assert 404 == client.get("/agenda/verzonnen.ics").status_code
