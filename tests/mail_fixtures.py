"""Test helpers for mail: a real aiosmtpd server on loopback that records, refuses or stalls on demand."""

import email
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

from workflow.app import App, open_app
from workflow.testing import test_settings


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps what arrives; `rcpt_replies` and `data_reply` make it refuse."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return len(self.received)
            time.sleep(0.02)
        with self.lock:
            return len(self.received)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 at a fixed port, so it can be stopped and started again there."""

    def __init__(self, recorder: Recorder | None = None, port: int | None = None) -> None:
        self.recorder = recorder or Recorder()
        self.port = port or free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=0&timeout=5"

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class Apps:
    """Makes more Apps on the test's database with other settings; `close()` disposes them all."""

    def __init__(self, app: App, tmp_path: Path) -> None:
        self.app = app
        self.tmp_path = tmp_path
        self.made: list[App] = []

    def __call__(self, **env: str) -> App:
        made = open_app(test_settings(self.tmp_path, self.app.settings.database_url, **env))
        self.made.append(made)
        return made

    def close(self) -> None:
        for made in self.made:
            made.db.dispose()


def process_env(app: App, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker subprocess on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INITIATIEF_")}
    env.update(
        INITIATIEF_DATABASE_URL=app.settings.database_url,
        INITIATIEF_DATA_DIR=str(tmp_path),
        **extra,
    )
    return env
