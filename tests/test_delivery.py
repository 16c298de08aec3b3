"""Delivery of the outbox through a real SMTP server (aiosmtpd on loopback) and to .eml files."""

import asyncio
import email
import re
from datetime import UTC, date, datetime, timedelta
from email.policy import default as default_policy

import aiosmtplib
import icalendar
import pytest
import time_machine
from aiosmtplib import SMTPResponse
from sqlmodel import select

from notifications.delivery import claim, drain, list_outbox, retry_failed, typeset
from notifications.mime import Outgoing, as_bytes, build_email
from notifications.transport import FileTransport, classify, parse_smtp_url, refusal
from tests.mail_fixtures import SmtpServer
from tests.routes import drive
from workflow.errors import InvalidInput
from workflow.models import OutboxMessage
from workflow.outbox import freeze

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday morning; 8 weeks later is 4 May, a working day


def _drain(application, worker="test"):
    return asyncio.run(drain(application.db, application.settings, worker=worker))


def _rows(application, **where):
    with application.db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(session.exec(query))


def _smtp_app(apps, server, **env):
    settings = {
        "INITIATIEF_SMTP_URL": server.url,
        "INITIATIEF_MAIL_FROM": "initiatief@drechtsteden.example",
        "INITIATIEF_REPLY_TO": "griffie@sliedrecht.example",
        "INITIATIEF_BASE_URL": "https://initiatief.drechtsteden.example",
        "INITIATIEF_MAIL_RETRY_SECONDS": "0",
    }
    return apps(**{**settings, **env})


class TestEndToEnd:
    """Transitions fired through the engine arrive as Dutch multipart mail with link and calendar item."""

    def test_routing_mails_arrive_with_recipients_subject_parts_link_and_ics(
        self, apps, people, smtp
    ):
        sender = _smtp_app(apps, smtp)
        with time_machine.travel(START, tick=False):
            iid = drive(sender.engine, people, "tabled", title="Fietsroute langs de Merwede")
        rows = _rows(sender)

        result = _drain(sender)

        assert (len(rows), 0, 0) == (result.sent, result.retried, result.failed)
        assert len(rows) == smtp.recorder.wait_for(len(rows))
        received = {m["Message-ID"]: m for m in smtp.recorder.messages()}
        assert {r.message_id for r in rows} == set(received)
        envelopes = sorted(tuple(r.rcpt_tos) for r in smtp.recorder.received)
        assert sorted((r.recipient,) for r in rows) == envelopes

        who_joins = {r.recipient for r in rows if r.template == "wie_doet_mee"}
        # The routing college itself is not told what it just did; Gorinchem is no member.
        assert {"college_dordrecht@example.nl", "college_papendrecht@example.nl",
                "college_zwijndrecht@example.nl"} == who_joins

        to_college = next(r for r in rows if r.template == "naar_college")
        mail = received[to_college.message_id]
        assert "Voorstel voor het college: Fietsroute langs de Merwede" == mail["Subject"]
        assert "college_sliedrecht@example.nl" == mail["To"]
        assert "griffie@sliedrecht.example" == mail["Reply-To"]
        assert "initiatief@drechtsteden.example" == mail["From"]
        link = f"https://initiatief.drechtsteden.example/initiatieven/{iid}"
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "Beste college_sliedrecht," in text
        assert "uiterlijk 4 mei 2026" in text  # 8 weeks after 9 March
        assert link in text
        assert f'href="{link}"' in html
        [ics] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert "uiterste-datum.ics" == ics.get_filename()
        [item] = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
        assert date(2026, 5, 4) == item.decoded("DTSTART")
        assert "Uiterste datum: Reactie van het college – Fietsroute langs de Merwede" == str(item["SUMMARY"])
        assert link == str(item["URL"])

        # Nothing is sent twice when nothing went wrong.
        assert (0, 0, 0) == tuple(_drain(sender).as_dict().values())
        assert len(rows) == len(smtp.recorder.received)
        assert {"sent"} == {r.status for r in _rows(sender)}

    def test_shared_decision_date_is_announced_with_a_calendar_item(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        with time_machine.travel(START, tick=False):
            drive(sender.engine, people, "participant_decisions")  # shared date 2027-03-01
        asked = _rows(sender, template="besluit_gevraagd")
        _drain(sender)
        smtp.recorder.wait_for(len(_rows(sender)))
        received = {m["Message-ID"]: m for m in smtp.recorder.messages()}
        assert {"college_dordrecht@example.nl", "college_papendrecht@example.nl",
                "college_sliedrecht@example.nl"} == {r.recipient for r in asked}
        for row in asked:
            mail = received[row.message_id]
            text = mail.get_body(preferencelist=("plain",)).get_content()
            assert "uiterlijk 1 maart 2027" in text
            [ics] = list(mail.iter_attachments())
            [item] = icalendar.Calendar.from_ical(ics.get_content()).walk("VEVENT")
            assert date(2027, 3, 1) == item.decoded("DTSTART")


class TestEscaping:
    """Whatever a title holds, the HTML part escapes it, the text keeps it, and no header is added."""

    def test_markup_is_escaped_in_html_and_intact_in_text(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        title = "Wonen <script>alert('x')</script> & werken"
        drive(sender.engine, people, "with_college", title=title)
        _drain(sender)
        smtp.recorder.wait_for(len(_rows(sender)))
        mail = next(m for m in smtp.recorder.messages() if m["To"] == "college_sliedrecht@example.nl")
        text = mail.get_body(preferencelist=("plain",)).get_content()
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert title in text
        assert "<script>" not in html
        assert "Wonen &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; werken" in html
        assert f"Voorstel voor het college: {title}" == mail["Subject"]

    def test_a_line_break_in_a_title_cannot_add_a_header(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        title = "Dijkversterking\r\nBcc: indringer@example.org\r\nX-Extra: ja"
        drive(sender.engine, people, "with_college", title=title)
        rows = _rows(sender)
        _drain(sender)
        smtp.recorder.wait_for(len(rows))
        for raw in smtp.recorder.received:
            assert ["indringer@example.org"] != raw.rcpt_tos
            mail = raw.message
            assert mail["Bcc"] is None
            assert mail["X-Extra"] is None
        subjects = {m["Subject"] for m in smtp.recorder.messages()}
        assert "Voorstel voor het college: Dijkversterking Bcc: indringer@example.org X-Extra: ja" in subjects
        assert len(rows) == len(smtp.recorder.received)

    def test_a_row_with_a_line_break_in_its_subject_is_still_one_header(self):
        item = Outgoing(
            id=1, message_id="<a@b>", recipient="x@example.nl", subject="Hallo\r\nBcc: y@example.org",
            body_text="tekst", body_html="<p>tekst</p>", attachments=(), created_at=START, attempts=1,
        )
        parsed = email.message_from_bytes(build_email(item, sender="s@example.nl", reply_to=None).as_bytes(),
                                          policy=default_policy)
        assert "Hallo Bcc: y@example.org" == parsed["Subject"]
        assert parsed["Bcc"] is None


class TestOutage:
    """SMTP down while messages wait: none is lost, and each arrives once after the server returns."""

    def test_server_down_then_back_delivers_everything_once(self, apps, people):
        server = SmtpServer()  # not started: the port refuses connections
        sender = _smtp_app(apps, server)
        drive(sender.engine, people, "tabled")
        queued = _rows(sender)

        down = _drain(sender)

        assert (0, len(queued), 0) == (down.sent, down.retried, down.failed)
        after = _rows(sender)
        assert {"pending"} == {r.status for r in after}
        assert "Mailserver niet bereikbaar" in after[0].last_error
        # Only the message that met the closed port counts an attempt; the rest were not tried.
        assert [1] + [0] * (len(queued) - 1) == [r.attempts for r in after]

        server.start()
        try:
            up = _drain(sender)
            assert (len(queued), 0, 0) == (up.sent, up.retried, up.failed)
            assert len(queued) == server.recorder.wait_for(len(queued))
            again = _drain(sender)
            assert 0 == again.sent
            ids = [m["Message-ID"] for m in server.recorder.messages()]
            assert sorted(r.message_id for r in queued) == sorted(ids)
        finally:
            server.stop()

    def test_server_that_disconnects_mid_batch_loses_nothing(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        drive(sender.engine, people, "tabled")
        queued = _rows(sender)
        smtp.recorder.data_reply = "421 Service not available, closing channel"
        first = _drain(sender)
        assert (0, len(queued), 0) == (first.sent, first.retried, first.failed)
        smtp.recorder.data_reply = None
        second = _drain(sender)
        assert (len(queued), 0, 0) == (second.sent, second.retried, second.failed)
        assert len(queued) == smtp.recorder.wait_for(len(queued))


class TestReplies:
    """4xx replies are retried with back-off; 5xx replies fail permanently with the reason kept."""

    def test_4xx_is_retried_with_back_off_and_then_delivered(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp, INITIATIEF_MAIL_RETRY_SECONDS="60")
        with time_machine.travel(START, tick=False):
            drive(sender.engine, people, "with_college")
        busy = "college_sliedrecht@example.nl"
        smtp.recorder.rcpt_replies[busy] = "450 Mailbox tijdelijk niet beschikbaar"
        others = [r for r in _rows(sender) if r.recipient != busy]
        with time_machine.travel(START, tick=False):
            first = _drain(sender)
        assert (len(others), 1, 0) == (first.sent, first.retried, first.failed)
        [row] = _rows(sender, recipient=busy)
        assert ("pending", 1) == (row.status, row.attempts)
        assert "450 Mailbox tijdelijk niet beschikbaar" in row.last_error
        assert START + timedelta(seconds=60) == row.next_attempt_at.replace(tzinfo=UTC)

        del smtp.recorder.rcpt_replies[busy]
        with time_machine.travel(START + timedelta(seconds=30), tick=False):
            assert 0 == _drain(sender).sent  # still backing off
        with time_machine.travel(START + timedelta(seconds=61), tick=False):
            assert 1 == _drain(sender).sent
        [row] = _rows(sender, recipient=busy)
        assert ("sent", 2, "") == (row.status, row.attempts, row.last_error)
        assert 1 == sum(r.rcpt_tos == [busy] for r in smtp.recorder.received)

    def test_back_off_doubles_and_gives_up_after_the_last_attempt(self, apps, people, smtp):
        sender = _smtp_app(
            apps, smtp, INITIATIEF_MAIL_RETRY_SECONDS="10", INITIATIEF_MAIL_MAX_ATTEMPTS="3"
        )
        with time_machine.travel(START, tick=False):
            drive(sender.engine, people, "with_college")
        busy = "college_sliedrecht@example.nl"
        smtp.recorder.rcpt_replies[busy] = "451 Probeer later"
        moments = []
        clock = START
        for _ in range(3):
            with time_machine.travel(clock, tick=False):
                _drain(sender)
            [row] = _rows(sender, recipient=busy)
            moments.append(row.next_attempt_at.replace(tzinfo=UTC) - clock)
            clock = row.next_attempt_at.replace(tzinfo=UTC) + timedelta(seconds=1)
        [row] = _rows(sender, recipient=busy)
        assert ("failed", 3) == (row.status, row.attempts)
        assert "451 Probeer later (opgegeven na 3 pogingen)" in row.last_error
        assert [timedelta(seconds=10), timedelta(seconds=20)] == moments[:2]

    def test_5xx_fails_permanently_and_is_listed_with_its_reason(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        drive(sender.engine, people, "with_college")
        gone = "college_sliedrecht@example.nl"
        smtp.recorder.rcpt_replies[gone] = "550 Mailbox bestaat niet"
        result = _drain(sender)
        assert 1 == result.failed
        [failed] = list_outbox(sender.db, failed_only=True)
        assert (gone, "failed", 1) == (failed["recipient"], failed["status"], failed["attempts"])
        assert "Ontvanger geweigerd: college_sliedrecht@example.nl: 550 Mailbox bestaat niet" == failed[
            "last_error"
        ]
        assert 0 == _drain(sender).sent + _drain(sender).failed  # a failed row is not tried again

        del smtp.recorder.rcpt_replies[gone]
        assert 1 == retry_failed(sender.db, message_id=failed["id"])
        assert 1 == _drain(sender).sent
        assert [] == list_outbox(sender.db, failed_only=True)

    def test_5xx_on_data_fails_permanently(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        drive(sender.engine, people, "submitted")
        smtp.recorder.data_reply = "554 Bericht geweigerd"
        queued = _rows(sender)
        result = _drain(sender)
        assert (0, 0, len(queued)) == (result.sent, result.retried, result.failed)
        assert {"Geweigerd door de mailserver: 554 Bericht geweigerd"} == {r.last_error for r in _rows(sender)}

    def test_partly_refused_recipients_keep_each_reason_and_the_right_class(self):
        temporary = refusal({"a@x.nl": SMTPResponse(452, "vol"), "b@x.nl": SMTPResponse(550, "onbekend")})
        permanent = refusal({"b@x.nl": SMTPResponse(550, "onbekend")})
        assert (False, "Ontvanger tijdelijk geweigerd: a@x.nl: 452 vol; b@x.nl: 550 onbekend") == (
            temporary.permanent, temporary.reason
        )
        assert (True, "Ontvanger geweigerd: b@x.nl: 550 onbekend") == (permanent.permanent, permanent.reason)

    def test_error_classes_follow_the_design(self):
        assert classify(aiosmtplib.SMTPAuthenticationError(535, "nee")).permanent
        assert not classify(aiosmtplib.SMTPServerDisconnected("weg")).permanent
        assert not classify(ConnectionRefusedError(111, "geweigerd")).permanent
        assert not classify(aiosmtplib.SMTPResponseException(421, "later")).permanent
        assert classify(aiosmtplib.SMTPResponseException(554, "nee")).permanent
        assert classify(aiosmtplib.SMTPServerDisconnected("weg")).connection_lost


class TestRenderingAtSend:
    """The write path queues template + frozen context; the sender renders, sends and keeps the text."""

    def test_queued_rows_are_unrendered_and_the_drain_stores_what_it_sent(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        with time_machine.travel(START, tick=False):
            drive(sender.engine, people, "with_college", title="Fietsroute langs de Merwede")
        queued = _rows(sender)
        assert {("", "", "")} == {(r.subject, r.body_text, r.body_html) for r in queued}
        assert all(r.context and r.recipient_name and r.audience for r in queued)
        expected = {r.id: typeset(r, sender.engine.renderer) for r in queued}

        assert len(queued) == _drain(sender).sent

        stored = {r.id: r for r in _rows(sender)}
        assert {i: (e.subject, e.text, e.html) for i, e in expected.items()} == {
            i: (r.subject, r.body_text, r.body_html) for i, r in stored.items()
        }
        received = {m["Message-ID"]: m for m in smtp.recorder.messages()}
        to_college = next(r for r in stored.values() if r.template == "naar_college")
        assert to_college.subject == str(received[to_college.message_id]["Subject"])
        assert "uiterste-datum.ics" == to_college.attachments[0]["filename"]  # rendered from the frozen date

    def test_a_message_that_cannot_be_rendered_fails_with_the_reason_and_others_go(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp)
        drive(sender.engine, people, "with_college")
        queued = _rows(sender)
        broken = queued[0]
        with sender.db.write() as session:
            row = session.get(OutboxMessage, broken.id)
            row.context = freeze({"initiative": {"id": 1}})  # no title: the template must not guess
            session.add(row)

        result = _drain(sender)

        assert (len(queued) - 1, 0, 1) == (result.sent, result.retried, result.failed)
        [failed] = _rows(sender, status="failed")
        assert broken.id == failed.id
        assert failed.last_error.startswith(f"Bericht kan niet worden opgemaakt ({broken.template}):")
        assert [failed.id] == [m["id"] for m in list_outbox(sender.db, failed_only=True)]


class TestCrashedWorker:
    """A row left in `sending` by a worker that died is taken again after the claim timeout."""

    def test_stale_claim_is_reclaimed_only_after_the_timeout(self, apps, people, smtp):
        sender = _smtp_app(apps, smtp, INITIATIEF_MAIL_CLAIM_TIMEOUT="300")
        with time_machine.travel(START, tick=False):
            drive(sender.engine, people, "submitted")
            taken = claim(sender.db, worker="dood", limit=100, claim_timeout=300)  # and then it died
        assert {"sending"} == {r.status for r in _rows(sender)}
        with time_machine.travel(START + timedelta(seconds=299), tick=False):
            assert 0 == _drain(sender, worker="levend").sent
        with time_machine.travel(START + timedelta(seconds=301), tick=False):
            assert len(taken) == _drain(sender, worker="levend").sent
        assert {("sent", "levend", 2)} == {(r.status, r.claimed_by, r.attempts) for r in _rows(sender)}


class TestFiles:
    """Without an SMTP server the messages become .eml files named after their Message-ID."""

    def test_default_backend_writes_one_eml_per_message(self, apps, people):
        writer = apps()
        assert writer.settings.smtp_url is None
        drive(writer.engine, people, "with_college", title="Zonnepanelen op scholen")
        rows = _rows(writer)
        assert (len(rows), 0, 0) == tuple(_drain(writer).as_dict().values())
        files = sorted(writer.settings.mail_dir.glob("*.eml"))
        assert len(rows) == len(files)
        parsed = [email.message_from_bytes(f.read_bytes(), policy=default_policy) for f in files]
        assert sorted(r.message_id for r in rows) == sorted(p["Message-ID"] for p in parsed)
        assert all(p.get_body(preferencelist=("html",)) is not None for p in parsed)

    def test_a_resend_replaces_its_own_file(self, tmp_path):
        item = Outgoing(
            id=7, message_id="<abc123@initiatief.example>", recipient="x@example.nl", subject="Test",
            body_text="t", body_html="<p>t</p>", attachments=(), created_at=START, attempts=1,
        )
        transport = FileTransport(tmp_path / "mail")

        async def twice():
            async with transport:
                for _ in range(2):
                    raw = as_bytes(build_email(item, sender="s@x.nl", reply_to=None))
                    await transport.send(raw, sender="s@x.nl", recipient="x@example.nl",
                                         message_id=item.message_id)

        asyncio.run(twice())
        assert ["abc123@initiatief.example.eml"] == [p.name for p in (tmp_path / "mail").iterdir()]


class TestSmtpUrl:
    """One setting holds host, port, TLS mode and credentials."""

    def test_starttls_with_credentials(self):
        config = parse_smtp_url("smtp://mail%40gemeente.nl:ge%2Fheim@smtp.gemeente.nl:587?starttls=1")
        assert ("smtp.gemeente.nl", 587, "mail@gemeente.nl", "ge/heim", False, True) == (
            config.host, config.port, config.username, config.password, config.use_tls, config.start_tls
        )
        assert "smtp://mail@gemeente.nl@smtp.gemeente.nl:587" == config.redacted()

    def test_implicit_tls_and_defaults(self):
        tls = parse_smtp_url("smtps://relay.example.nl")
        plain = parse_smtp_url("smtp://127.0.0.1:2525?starttls=0&timeout=5&verify=0")
        assert (465, True, False, True) == (tls.port, tls.use_tls, tls.start_tls, tls.validate_certs)
        assert (2525, False, False, 5.0, False) == (
            plain.port, plain.use_tls, plain.start_tls, plain.timeout, plain.validate_certs
        )
        assert None is parse_smtp_url("smtp://relay.example.nl").start_tls  # upgrade when offered

    @pytest.mark.parametrize(
        "url", ["http://mail.example.nl", "smtp://", "smtps://h?starttls=1", "smtp://h?starttls=misschien"]
    )
    def test_bad_urls_are_refused_in_dutch(self, url):
        with pytest.raises(InvalidInput) as caught:
            parse_smtp_url(url)
        assert re.search(r"INITIATIEF_SMTP_URL|smtps://", caught.value.message)


def test_deadline_dates_in_mail_are_dutch_local_dates():
    from notifications.render import dutch_date

    # 23:59:59 in Amsterdam on 27 April is 21:59:59 UTC; naive values (SQLite) are UTC too.
    assert "27 april 2026" == dutch_date(datetime(2026, 4, 27, 21, 59, 59, tzinfo=UTC))
    assert "27 april 2026" == dutch_date(datetime(2026, 4, 27, 21, 59, 59))
    assert "1 maart 2027" == dutch_date(date(2027, 3, 1))
