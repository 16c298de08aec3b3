"""Secrets in one place: argon2 password hashes, random tokens kept only as SHA-256, CSRF checks."""

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflow.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
API_TOKEN_PREFIX = "ini_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail address is unknown, so the answer takes as long either
    way. Made on first use: hashing takes a good part of a second, and `serve` should start fast."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash; refuses a password shorter than MIN_PASSWORD_LENGTH with a Dutch message."""
    check_password_rules(password)
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Kies een wachtwoord van minstens {MIN_PASSWORD_LENGTH} tekens.",
            field_errors={"password": f"minstens {MIN_PASSWORD_LENGTH} tekens"},
        )
    if len(password) > 1024:
        raise InvalidInput("Dit wachtwoord is te lang.", field_errors={"password": "te lang"})


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; takes as long when there is no hash at all."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session, link or API token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets; False when either is missing."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
