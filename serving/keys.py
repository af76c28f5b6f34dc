"""API keys with roles, stored only as SHA-256 hashes.

A key is 32 random bytes shown once when created; the keys file keeps its id, role and
hash. Keys are high-entropy, so a plain SHA-256 is enough (no slow KDF): nobody can guess
a key from its hash, and verifying stays cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from serving.private import FILE_MODE, private_dir, private_files


class Role(StrEnum):
    """What a key may do: intake scores, analysts read and decide, admins also reload."""

    INTAKE = "intake"
    ANALYST = "analyst"
    ADMIN = "admin"


KEY_PREFIX = "tsk_"
logger = logging.getLogger(__name__)


class KeysUnreadable(Exception):
    """The keys file exists but cannot be parsed; the details are in the log only."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"cannot read the keys file {path}")
        self.path = path


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


def _parse(text: str) -> dict[str, KeyRecord]:
    """The records of a keys file's text, by hash (raises on any malformed part)."""
    data = json.loads(text)
    return {
        r["sha256"]: KeyRecord(**{**r, "role": Role(r["role"])}) for r in data["keys"]
    }


class KeyStore:
    """The keys file (JSON), read at start-up and re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[str, KeyRecord] = {}
        self._seen: tuple[int, int, int] | None = None
        self._broken: tuple[int, int, int] | None = None

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
        private_files([self.path])  # a file written by hand or by an older version
        if seen == self._broken:
            raise KeysUnreadable(self.path)
        try:
            self._records = _parse(self.path.read_text())
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # logged once per version of the file, not once per request
            self._records, self._seen, self._broken = {}, None, seen
            logger.error("cannot read the keys file %s: %s", self.path, exc)
            raise KeysUnreadable(self.path) from None
        self._seen, self._broken = seen, None

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
        private_dir(self.path.parent)
        tmp = self.path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps({"keys": rows}, indent=2))
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
