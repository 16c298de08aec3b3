"""Real worker processes: the CLI, a SIGKILL in the middle of a drain, and several workers at once."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import insert
from sqlmodel import func, select

from tests.mail_fixtures import Recorder, SmtpServer, process_env
from tests.routes import drive
from workflow.models import Deadline, Initiative, OutboxMessage, Reminder
from workflow.outbox import new_message_id

PG_URL = os.environ.get("INITIATIEF_TEST_DATABASE_URL", "")
INITIATIEF = Path(sys.executable).with_name("initiatief")


def _worker(app, tmp_path, *args, **env):
    command = [str(INITIATIEF)] if INITIATIEF.exists() else [sys.executable, "-c",
                                                             "from workflow.cli import main; main()"]
    return subprocess.Popen(
        [*command, "worker", *args],
        env=process_env(app, tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def _overdue(app, people, title="Starterswoningen"):
    with time_machine.travel(datetime.now(UTC) - timedelta(weeks=9), tick=False):
        return drive(app.engine, people, "with_college", title=title)


def _queue(app, count, recipient="raad@example.nl"):
    """`count` ready messages, as the write path leaves them."""
    rows = [
        {"message_id": new_message_id("test.example"), "template": "status_gewijzigd",
         "recipient": recipient, "subject": f"Bericht {n}", "body_text": f"Tekst {n}",
         "body_html": f"<p>Tekst {n}</p>", "attachments": [], "status": "pending", "attempts": 0,
         "next_attempt_at": datetime.now(UTC) - timedelta(seconds=1), "last_error": "",
         "created_at": datetime.now(UTC)}
        for n in range(count)
    ]
    with app.db.write() as session:
        session.exec(insert(OutboxMessage), params=rows)


def _due_reminders(app, initiatives, per_initiative):
    """Many open deadlines of the college, each with one reminder that is due now."""
    now = datetime.now(UTC)
    with app.db.write() as session:
        ids = []
        for n in range(initiatives):
            row = Initiative(flow="groeiagenda", flow_version=1, state="with_college", version=2,
                             title=f"Voorstel {n}", summary="", municipality="sliedrecht", faction="cda",
                             data={"council": {"instrument": "motion"}})
            session.add(row)
            session.flush()
            ids.append(row.id)
        session.exec(insert(Deadline), params=[
            {"initiative_id": iid, "state": "with_college", "label": "Reactie van het college",
             "due_at": now + timedelta(days=3), "status": "open", "created_at": now}
            for iid in ids for _ in range(per_initiative)
        ])
        deadline_ids = session.exec(select(Deadline.id)).all()
        session.exec(insert(Reminder), params=[
            {"deadline_id": d, "remind_at": now - timedelta(minutes=1), "cancelled": False}
            for d in deadline_ids
        ])
    return len(deadline_ids)


def _assert_each_reminder_once(app, expected):
    """Every reminder marked sent, and exactly one message each (one college member per deadline)."""
    with app.db.read() as session:
        sent = session.exec(
            select(func.count()).select_from(Reminder).where(Reminder.sent_at != None)  # noqa: E711
        ).one()
        messages = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.template == "herinnering")
        ).one()
    assert (expected, expected) == (sent, messages)


class TestCommandLine:
    """`initiatief worker --once`, `outbox` and `deadlines`, as a person or cron runs them."""

    def test_worker_once_in_its_own_process_sweeps_and_drains(self, app, people, tmp_path):
        _overdue(app, people)
        code, out, err = _finish(_worker(app, tmp_path, "--once"))
        assert 0 == code, err
        assert (
            "Klaar: 0 herinnering(en), 1 verstreken termijn(en), 3 bericht(en) klaargezet; "
            "6 e-mail(s) verzonden, 0 later opnieuw, 0 mislukt.\n"
        ) == out
        assert 6 == len(list((tmp_path / "mail").glob("*.eml")))

    def test_worker_runs_until_sigterm(self, app, people, tmp_path):
        _overdue(app, people)
        process = _worker(app, tmp_path, "--sweep-seconds", "0.3", "--drain-seconds", "0.3")
        try:
            for _ in range(200):
                if len(list((tmp_path / "mail").glob("*.eml"))) >= 6:
                    break
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGTERM)
            code, out, err = _finish(process)
        assert 0 == code, err
        assert out.startswith("Worker gestart: termijnen elke 0.3 s, e-mail elke 0.3 s (als bestanden in ")
        assert out.endswith("Worker gestopt.\n")
        assert 6 == len(list((tmp_path / "mail").glob("*.eml")))

    def test_outbox_list_retry_and_dismiss(self, app, people, run):
        _queue(app, 2)
        with app.db.write() as session:
            first, second = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            first.status, first.attempts, first.last_error = "failed", 3, "Ontvanger geweigerd: raad@example.nl: 550"
            session.add(first)
        code, out, _ = run("outbox", "list", "--failed")
        assert 0 == code
        assert f"{first.id:>6}  mislukt" in out
        assert "reden: Ontvanger geweigerd: raad@example.nl: 550" in out
        code, out, _ = run("outbox", "list", "--json")
        assert [("failed", first.id), ("pending", second.id)] == [(r["status"], r["id"]) for r in json.loads(out)]
        assert (5, "") == run("outbox", "retry")[:2]  # neither an id nor --all-failed
        assert 5 == run("outbox", "retry", second.id)[0]  # not failed
        assert 6 == run("outbox", "retry", 999)[0]
        code, out, _ = run("outbox", "retry", "--all-failed")
        assert (0, "1 bericht(en) opnieuw klaargezet") == (code, out.split(";")[0])
        code, out, _ = run("outbox", "list", "--failed")
        assert (0, "Geen mislukte berichten.\n") == (code, out)
        with app.db.write() as session:
            row = session.get(OutboxMessage, first.id)
            row.status = "failed"
            session.add(row)
        assert (0, f"Bericht {first.id} afgeschreven.\n") == run("outbox", "dismiss", first.id)[:2]
        assert "dismissed" == json.loads(run("outbox", "list", "--all", "--json")[1])[0]["status"]

    def test_deadlines_list_and_extend(self, app, people, run):
        iid = _overdue(app, people)
        code, out, _ = run("deadlines", "list", "--overdue", "--json")
        [row] = json.loads(out)
        assert (0, iid, "Reactie van het college", True) == (code, row["initiative_id"], row["label"], row["overdue"])
        new_day = (datetime.now(UTC) + timedelta(days=30)).date()
        code, out, err = run("deadlines", "extend", iid, "--until", new_day.isoformat(),
                             "--reason", "Advies van de regio komt later.", "--as", "griffie_sliedrecht@example.nl")
        assert 0 == code, err
        assert (f"Termijn 'Reactie van het college' van initiatief {iid} verlengd tot {new_day:%d-%m-%Y}; "
                "2 bericht(en) klaargezet.\n") == out
        code, out, _ = run("deadlines", "list", "--overdue")
        assert (0, "Geen verstreken termijnen.\n") == (code, out)
        code, out, err = run("deadlines", "extend", iid, "--until", "gisteren", "--reason", "x",
                             "--as", "griffie_sliedrecht@example.nl")
        assert (5, "Fout: --until verwacht een datum als 2026-09-10, niet 'gisteren'.\n") == (code, err)
        code, _, err = run("deadlines", "extend", iid, "--until", new_day.isoformat(), "--reason", "Later",
                           "--as", "fractie_sliedrecht@example.nl")
        assert 3 == code
        assert err.startswith("Fout: U mag de termijn 'Reactie van het college' niet verlengen")


class TestCrash:
    """A worker killed with SIGKILL in the middle of a drain: after a restart every message arrives,
    and only those it had in flight may arrive twice."""

    def test_sigkill_mid_drain_then_restart(self, app, tmp_path):
        total, batch = 120, 10
        _queue(app, total)
        server = SmtpServer(Recorder(delay=0.01))
        server.start()
        try:
            env = {"INITIATIEF_SMTP_URL": server.url, "INITIATIEF_MAIL_BATCH_SIZE": str(batch)}
            first = _worker(app, tmp_path, "--once", **env)
            server.recorder.wait_for(35, timeout=60)
            first.send_signal(signal.SIGKILL)
            assert -signal.SIGKILL == _finish(first)[0]
            before = len(server.recorder.received)
            with app.db.read() as session:
                in_flight = session.exec(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
                ).one()
            assert 0 < in_flight <= 2 * batch  # the batch being sent and the one claimed ahead
            assert before < total

            code, _, err = _finish(_worker(app, tmp_path, "--once", INITIATIEF_MAIL_CLAIM_TIMEOUT="0", **env))
            assert 0 == code, err
            ids = Counter(m["Message-ID"] for m in server.recorder.messages())
        finally:
            server.stop()
        with app.db.read() as session:
            rows = session.exec(select(OutboxMessage)).all()
        assert {"sent"} == {r.status for r in rows}
        assert {r.message_id for r in rows} == set(ids)  # every message arrived
        duplicates = sum(ids.values()) - len(ids)
        assert duplicates <= in_flight  # at most what the killed worker had in flight
        print(f"\nSIGKILL na {before} berichten: {in_flight} onderweg, {duplicates} dubbel ontvangen")


class TestSeveralWorkers:
    """Workers in parallel processes claim different rows: each reminder goes out exactly once."""

    def _run_workers(self, app, tmp_path, count):
        workers = [_worker(app, tmp_path / f"w{n}", "--once") for n in range(count)]
        results = [_finish(w, timeout=300) for w in workers]
        assert [0] * count == [code for code, _, _ in results], [err for _, _, err in results]
        # A row a worker skipped because another held it is taken by the next sweep.
        code, _, err = _finish(_worker(app, tmp_path / "last", "--once"))
        assert 0 == code, err

    def test_two_workers_on_this_database(self, app, people, tmp_path):
        expected = _due_reminders(app, initiatives=30, per_initiative=5)
        self._run_workers(app, tmp_path, 2)
        _assert_each_reminder_once(app, expected)

    @pytest.mark.skipif(
        not PG_URL.startswith("postgresql"),
        reason="needs PostgreSQL (FOR UPDATE SKIP LOCKED): set INITIATIEF_TEST_DATABASE_URL to a "
        "postgresql+psycopg:// URL",
    )
    def test_three_workers_over_thousands_of_reminders_on_postgresql(self, app, people, tmp_path):
        expected = _due_reminders(app, initiatives=400, per_initiative=5)
        assert 2000 == expected
        self._run_workers(app, tmp_path, 3)
        _assert_each_reminder_once(app, expected)
        with app.db.read() as session:
            by_worker = Counter(session.exec(select(Reminder.claimed_by)).all())
        assert 2000 == sum(by_worker.values())
        print(f"\nherinneringen per worker: {sorted(by_worker.values())}")
