"""Benchmark of the outbox drain through aiosmtpd on loopback, next to plain aiosmtplib.

Run on demand (the default run deselects the `benchmark` marker):

    pytest -m benchmark tests/benchmarks/test_drain.py -s
    INITIATIEF_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_a \\
        pytest -m benchmark tests/benchmarks/test_drain.py -s

N realistic messages (the "naar_college" mail with its .ics, each with its own Message-ID) wait
in the outbox as the write path leaves them: unrendered (template, frozen context, recipient).
The baseline sends the same messages, rendered and built beforehand, with plain aiosmtplib over
one connection; the drain claims them from the database in batches, renders and builds each
email, sends it over one connection and records the outcome (with the rendered text). Both runs go to the
same aiosmtpd server in this process, twice each, alternating; the best of each is compared.
Goal: the drain reaches at least 0.7 of the baseline. Figures are printed, not asserted; what
is asserted is that every message arrived and every row is marked sent.
"""

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest
from sqlalchemy import insert, update
from sqlmodel import select

from notifications.delivery import drain, typeset
from notifications.mime import Outgoing, build_email
from tests.mail_fixtures import Apps, SmtpServer
from tests.routes import drive
from workflow.app import settle
from workflow.models import OutboxMessage
from workflow.outbox import new_message_id

pytestmark = pytest.mark.benchmark

N = int(os.environ.get("BENCH_DRAIN_N", "2000"))
GOAL = 0.7


def _fill(app, template_row):
    now = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {"message_id": new_message_id("bench.example"), "template": template_row.template,
         "recipient": f"college{n % 50}@example.nl", "recipient_name": template_row.recipient_name,
         "audience": template_row.audience, "context": template_row.context, "subject": "",
         "body_text": "", "body_html": "", "attachments": [], "status": "pending", "attempts": 0,
         "next_attempt_at": now, "last_error": "", "created_at": now}
        for n in range(N)
    ]
    with app.db.write() as session:
        session.exec(update(OutboxMessage).values(status="dismissed"))
        session.exec(insert(OutboxMessage), params=rows)
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")))


async def _plain(server, messages, sender):
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port, start_tls=False, local_hostname="bench")
    await client.connect()
    try:
        for message in messages:
            await client.send_message(message, sender=sender, recipients=[message["To"]])
    finally:
        await client.quit()


def test_drain_against_plain_aiosmtplib(app, people, tmp_path):
    server = SmtpServer()
    server.start()
    factory = Apps(app, tmp_path)
    try:
        sender = factory(INITIATIEF_SMTP_URL=server.url, INITIATIEF_MAIL_FROM="initiatief@bench.example")
        drive(sender.engine, people, "with_college", title="Fietsroute langs de Merwede")
        with sender.db.read() as session:
            model = session.exec(select(OutboxMessage).where(OutboxMessage.template == "naar_college")).one()
        plain_rates, drain_rates = [], []
        settle()  # as `worker` and `serve` do once they are up
        for _round in range(2):
            rows = _fill(sender, model)
            text = typeset(model, sender.engine.renderer)
            prepared = [
                build_email(
                    Outgoing(r.id, r.message_id, r.recipient, text.subject, text.text, text.html,
                             text.attachments, r.created_at, 0),
                    sender=sender.settings.mail_from, reply_to=None,
                )
                for r in rows
            ]
            before = len(server.recorder.received)
            started = time.perf_counter()
            asyncio.run(_plain(server, prepared, sender.settings.mail_from))
            plain_rates.append(N / (time.perf_counter() - started))
            assert before + N == server.recorder.wait_for(before + N)

            before = len(server.recorder.received)
            started = time.perf_counter()
            result = asyncio.run(drain(sender.db, sender.settings, worker="bench", max_batches=10_000))
            drain_rates.append(N / (time.perf_counter() - started))
            assert (N, 0, 0) == (result.sent, result.retried, result.failed)
            assert before + N == server.recorder.wait_for(before + N)
        with sender.db.read() as session:
            left = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert [] == left
    finally:
        factory.close()
        server.stop()

    kind = "SQLite" if app.db.is_sqlite else "PostgreSQL"
    best_plain, best_drain = max(plain_rates), max(drain_rates)
    print(f"\n== drain on {kind}: {N:,} messages of {len(prepared[0].as_bytes()):,} bytes to aiosmtpd on loopback")
    print(f"plain aiosmtplib, one connection (baseline): {best_plain:8.0f} msg/s  runs {plain_rates[0]:.0f}, "
          f"{plain_rates[1]:.0f}")
    print(f"drain (claim, render, build, send, record)  : {best_drain:8.0f} msg/s  runs {drain_rates[0]:.0f}, "
          f"{drain_rates[1]:.0f}")
    print(f"ratio drain / baseline                      : {best_drain / best_plain:8.2f}  (goal {GOAL})")
