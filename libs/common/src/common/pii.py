"""Personal data at rest: encryption, keyed hashes for lookup, masking, log redaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

# Mainland resident identity numbers, mainland mobile numbers.
ID_NUMBER_RE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")

SENSITIVE_KEYS = frozenset(
    {
        "id_number",
        "identity_number",
        "name",
        "full_name",
        "phone",
        "mobile",
        "address_detail",
        "password",
        "authorization",
        "token",
    }
)


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived from a configured secret."""
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


class PiiCipher:
    """Encrypts personal data at rest (Fernet: AES-128-CBC + HMAC) and hashes it for lookup."""

    def __init__(self, encryption_secret: str, hash_secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(encryption_secret, "pii-enc")))
        self._hash_key = derive_key(hash_secret, "pii-hash")

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise ValueError(
                "personal data could not be decrypted with the configured key"
            ) from exc

    def seal(self, payload: bytes) -> bytes:
        """A restricted event's payload, encrypted for the outbox table (``Publisher``)."""
        return self._fernet.encrypt(payload)

    def unseal(self, token: bytes) -> bytes:
        """The sealed payload in clear, for the outbox relay (``build_runtime(unseal=)``)."""
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError(
                "a sealed event could not be decrypted with the configured key"
            ) from exc

    def keyed_hash(self, value: str) -> str:
        """A stable keyed hash (HMAC-SHA256, hex): finds a record without storing the value."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """``440306199001011234`` -> ``4403**********1234``."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "***"


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(1, len(value) - 1) if value else ""


def scrub_text(text: str) -> str:
    """Replace identity and phone numbers inside free text."""
    return PHONE_RE.sub("[phone]", ID_NUMBER_RE.sub("[id-number]", text))


def redact(value: Any) -> Any:
    """Recursively redact sensitive keys and scrub identity/phone numbers in strings."""
    if isinstance(value, dict):
        return {
            k: ("[redacted]" if str(k).lower() in SENSITIVE_KEYS else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
