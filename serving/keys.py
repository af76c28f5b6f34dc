"""API keys with roles, stored only as SHA-256 hashes.

A key is 32 random bytes shown once when created; the keys file keeps its id, role and
hash. Keys are high-entropy, so a plain SHA-256 is enough (no slow KDF): nobody can guess
a key from its hash, and verifying stays cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path


class Role(StrEnum):
    """What a key may do: intake scores, analysts read and decide, admins also reload."""

    INTAKE = "intake"
    ANALYST = "analyst"
    ADMIN = "admin"


KEY_PREFIX = "tsk_"


@dataclass(frozen=True)
class KeyRecord:
    """One stored key: never the key itself."""

    key_id: str
    role: Role
    sha256: str
    created: str
    note: str = ""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """The keys file (JSON), read at start-up and re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[str, KeyRecord] = {}
        self._seen: tuple[int, int, int] | None = None

    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._seen = {}, None
            return
        # replaced atomically on every write: a new inode, so even two writes within one
        # mtime tick are noticed
        seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if seen == self._seen:
            return
        data = json.loads(self.path.read_text())
        self._records = {
            r["sha256"]: KeyRecord(**{**r, "role": Role(r["role"])})
            for r in data["keys"]
        }
        self._seen = seen

    def records(self) -> list[KeyRecord]:
        """Every stored key record."""
        self._load()
        return list(self._records.values())

    def add(self, role: Role, note: str = "") -> tuple[str, KeyRecord]:
        """Create a key; return it (shown once) and its stored record."""
        self._load()
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(
            key_id=secrets.token_hex(4),
            role=role,
            sha256=_digest(key),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            note=note,
        )
        rows = [r.__dict__ | {"role": r.role.value} for r in self.records()]
        rows.append(record.__dict__ | {"role": role.value})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": rows}, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)
        return key, record

    def verify(self, key: str) -> KeyRecord | None:
        """The record of a presented key, or None."""
        self._load()
        digest = _digest(key)
        for stored, record in self._records.items():
            if hmac.compare_digest(stored, digest):
                return record
        return None
