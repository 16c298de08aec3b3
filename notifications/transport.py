"""Ways to hand over a built email: SMTP through aiosmtplib, or `.eml` files when no server is set."""

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from workflow.errors import InvalidInput

TRUE = {"1", "true", "yes", "ja", "on"}
FALSE = {"0", "false", "no", "nee", "off"}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the mail server; made from the one `INITIATIEF_SMTP_URL` setting."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # TLS from the first byte (smtps://, usually port 465)
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS
    validate_certs: bool = True
    timeout: float = 30.0

    def redacted(self) -> str:
        """The URL without its password, for logs and messages."""
        scheme = "smtps" if self.use_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read `smtp://user:pass@host:587?starttls=1` or `smtps://host:465` (also `timeout=`, `verify=0`).

    `starttls=1` insists on STARTTLS, `starttls=0` never upgrades, and without it the connection
    is upgraded when the server offers it. User name and password may be percent-encoded.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidInput(
            f"INITIATIEF_SMTP_URL moet beginnen met smtp:// of smtps://, niet {parts.scheme!r}."
        )
    if not parts.hostname:
        raise InvalidInput("INITIATIEF_SMTP_URL noemt geen mailserver (bijv. smtp://mail.example.nl:587).")
    query = {k: v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
    use_tls = parts.scheme == "smtps"
    start_tls = _flag(query.get("starttls"), "starttls")
    if use_tls and start_tls:
        raise InvalidInput("Kies smtps:// (TLS) of starttls=1, niet allebei.")
    try:
        port = parts.port or (465 if use_tls else 587 if start_tls else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as exc:
        raise InvalidInput(f"INITIATIEF_SMTP_URL is ongeldig: {exc}.") from None
    verify = _flag(query.get("verify"), "verify")
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=False if use_tls else start_tls,
        validate_certs=verify is not False,
        timeout=timeout,
    )


def _flag(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidInput(f"INITIATIEF_SMTP_URL: {name}={value!r} is geen ja/nee-waarde (gebruik 1 of 0).")


class DeliveryError(Exception):
    """A message that did not go out; `permanent` says whether trying again can help."""

    def __init__(self, reason: str, *, permanent: bool, connection_lost: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.connection_lost = connection_lost


class Transport(Protocol):
    """Sends one message to one recipient; raises `DeliveryError` when it did not."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, raw: bytes, *, sender: str, recipient: str, message_id: str) -> None: ...


class SmtpTransport:
    """One connection for a whole drain, opened on first use and again after it was lost."""

    def __init__(self, config: SmtpConfig, *, local_hostname: str = "localhost") -> None:
        self.config = config
        # Explicit, because aiosmtplib would otherwise ask DNS for our FQDN on every connect.
        self.local_hostname = local_hostname
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()

    async def send(self, raw: bytes, *, sender: str, recipient: str, message_id: str) -> None:
        try:
            client = await self._connected()
            refused, _ = await client.sendmail(sender, [recipient], raw)
        except Exception as exc:
            error = classify(exc)
            if error.connection_lost:
                await self._close()
            raise error from exc
        if refused:
            # A partly refused list raises nothing in aiosmtplib: the refusals are in this dict.
            raise refusal(refused)

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.use_tls,
            start_tls=c.start_tls,
            validate_certs=c.validate_certs,
            timeout=c.timeout,
            local_hostname=self.local_hostname,
        )
        await client.connect()
        self._client = client
        return client

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            client.close()


def classify(exc: BaseException) -> DeliveryError:
    """Transient (retry later) or permanent, following the SMTP reply class and aiosmtplib's errors."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return refusal({r.recipient: r for r in exc.recipients})
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"Aanmelden bij de mailserver mislukt ({exc.code} {exc.message}); controleer "
            "gebruikersnaam en wachtwoord in INITIATIEF_SMTP_URL.",
            permanent=True,
            connection_lost=True,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        lost = isinstance(exc, aiosmtplib.SMTPConnectError) or exc.code == 421
        if 400 <= exc.code < 500:
            return DeliveryError(
                f"Tijdelijk geweigerd door de mailserver: {exc.code} {exc.message}",
                permanent=False,
                connection_lost=lost,
            )
        return DeliveryError(
            f"Geweigerd door de mailserver: {exc.code} {exc.message}", permanent=True, connection_lost=lost
        )
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError | OSError):
        # Includes refused connections, time-outs and TLS verification errors.
        return DeliveryError(
            f"Mailserver niet bereikbaar: {type(exc).__name__}: {exc}", permanent=False, connection_lost=True
        )
    if isinstance(exc, TimeoutError | aiosmtplib.SMTPException):
        return DeliveryError(
            f"Verzenden mislukt: {type(exc).__name__}: {exc}", permanent=False, connection_lost=True
        )
    raise exc


Refusals = Mapping[str, aiosmtplib.SMTPResponse] | Mapping[str, aiosmtplib.SMTPRecipientRefused]


def refusal(refused: Refusals) -> DeliveryError:
    """Refused recipients: worth retrying if any refusal is temporary (4xx), else permanent."""
    codes = {addr: (r.code, r.message) for addr, r in refused.items()}
    listing = "; ".join(f"{addr}: {code} {text}" for addr, (code, text) in codes.items())
    temporary = any(400 <= code < 500 for code, _ in codes.values())
    if temporary:
        return DeliveryError(f"Ontvanger tijdelijk geweigerd: {listing}", permanent=False)
    return DeliveryError(f"Ontvanger geweigerd: {listing}", permanent=True)


class FileTransport:
    """Writes each message as `<Message-ID>.eml` into a folder: the default without a mail server.

    The file name comes from the Message-ID, so a message sent again after a crash replaces its
    own file instead of adding a second one.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def __aenter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, raw: bytes, *, sender: str, recipient: str, message_id: str) -> None:
        try:
            self.write(raw, message_id)
        except OSError as exc:
            raise DeliveryError(f"Kon het bestand niet schrijven: {exc}", permanent=False) from exc

    def write(self, raw: bytes, message_id: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9._@-]", "", message_id) or "bericht"
        target = self.directory / f"{name}.eml"
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.replace(temp, target)  # readers never see half a file
        return target
