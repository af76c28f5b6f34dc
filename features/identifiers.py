"""Keyed hashing of personal identifiers (HMAC-SHA256) under a secret given as bytes.

Why keyed: a plain SHA-256 of an email or an IPv4 address can be reversed by enumeration;
an HMAC with a secret kept outside the data cannot. Hashes exist only to link reports that
share an identifier. Each kind of identifier is normalised first (case, IP notation, phone
punctuation) so that spellings of the same value link, and is hashed under its own label so
that equal strings of different kinds do not. The secret's file is read by the entry points
(``serving.hmac_key``), not here: features do no I/O.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from hashlib import sha256

from features.schema import (
    LinkageKeys,
    RawIdentifiers,
    ReportMetadata,
    ReportSubmission,
    TipReport,
)

KEY_BYTES = 32
MIN_KEY_BYTES = 16
_NON_DIGITS = re.compile(r"\D")
_SPACE = re.compile(r"\s+")


class SecretError(RuntimeError):
    """The HMAC secret is missing, unreadable or too short."""


def _normalise_ip(value: str) -> str:
    try:
        return ipaddress.ip_address(value.strip()).compressed
    except ValueError:
        return value.strip().lower()


def _normalise_phone(value: str) -> str:
    digits = _NON_DIGITS.sub("", value)
    return digits or value.strip()


def _normalise_text(value: str) -> str:
    return _SPACE.sub(" ", value.strip()).casefold()


NORMALISERS: dict[str, Callable[[str], str]] = {
    "account": lambda v: v.strip(),
    "screen_name": _normalise_text,
    "email": _normalise_text,
    "phone": _normalise_phone,
    "ip": _normalise_ip,
    "device": lambda v: v.strip().upper(),
    "file_hash": lambda v: v.strip().lower(),
}
"""How each kind of identifier is normalised before hashing."""


class IdentifierHasher:
    """Hash identifiers with HMAC-SHA256 under one secret key.

    Args:
        key: the secret, at least 16 bytes.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise SecretError(
                f"HMAC secret: expected at least {MIN_KEY_BYTES} bytes, got {len(key)}"
            )
        self._key = key

    def __repr__(self) -> str:
        return "IdentifierHasher(key=<hidden>)"

    def hash(self, kind: str, value: str, scope: str = "") -> str:
        """Return the hex digest of one identifier of ``kind`` (optionally ESP-scoped)."""
        normalised = NORMALISERS[kind](value)
        message = f"{kind}\x1f{scope}\x1f{normalised}".encode()
        return hmac.new(self._key, message, sha256).hexdigest()

    def short(self, value: str, length: int = 12) -> str:
        """A short keyed digest naming a value that must not be kept (warnings, logs).

        Equal values give equal digests, so repeats can be told apart and counted, but the
        value cannot be recovered by enumeration without the secret.
        """
        message = f"redacted\x1f\x1f{value}".encode()
        return hmac.new(self._key, message, sha256).hexdigest()[:length]

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose``, derived from the secret (never the secret itself).

        Every replica shares the secret, so what one seals another can open (the analyst
        page's cursors: ``serving.analyst.cursors``).
        """
        return hmac.new(self._key, f"derived\x1f{purpose}".encode(), sha256).digest()

    def hash_all(self, kind: str, values: Iterable[str], scope: str = "") -> list[str]:
        """Hash many identifiers of one kind; duplicates collapse, order is kept."""
        return list(
            dict.fromkeys(self.hash(kind, v, scope) for v in values if v.strip())
        )


def hash_identifiers(
    raw: RawIdentifiers, hasher: IdentifierHasher, esp: str | None
) -> LinkageKeys:
    """Turn raw identifiers into linkage keys; account ids are scoped to their ESP."""
    scope = " ".join((esp or "").split()).casefold()  # " DISCORD " is Discord's scope
    accounts = hasher.hash_all("account", raw.accounts, scope) + hasher.hash_all(
        "screen_name", raw.screen_names, scope
    )
    return LinkageKeys(
        accounts=list(dict.fromkeys(accounts)),
        emails=hasher.hash_all("email", raw.emails),
        phones=hasher.hash_all("phone", raw.phones),
        ips=hasher.hash_all("ip", raw.ips),
        devices=hasher.hash_all("device", raw.devices),
        file_hashes=hasher.hash_all("file_hash", raw.file_hashes),
    )


def to_contract(submission: ReportSubmission, hasher: IdentifierHasher) -> TipReport:
    """Turn a JSON submission into the contract, hashing its identifiers on the way."""
    linkage = hash_identifiers(submission.identifiers, hasher, submission.esp)
    # Every field was validated (content refusal included) when the submission was built;
    # re-validating a full dump would walk every default value again, for nothing.
    fields = {name: getattr(submission, name) for name in ReportMetadata.model_fields}
    return TipReport.model_construct(**fields, linkage=linkage)
