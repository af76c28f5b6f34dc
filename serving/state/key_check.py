"""Every replica hashes with one HMAC secret, or linkage splits silently (issue 22).

A replica started without the shared key file creates a fresh secret (``serving.intake``)
and its hashes of the same account match no other replica's: reports stop linking across
replicas and nothing says so. The first replica to start on a PostgreSQL database keeps a
fingerprint of its key there (an HMAC of a fixed string under the key: it reveals nothing
of the key); every later start compares its own and refuses to start on a mismatch.

Kept as a row of ``migrated`` (the table of one-off markers, which the service's role may
write), so no schema revision is needed.
"""

from __future__ import annotations

from features.identifiers import IdentifierHasher
from serving.state.store import StateStore

SOURCE = "hmac_key_fingerprint"
"""The ``migrated`` row's ``source``; its ``source_table`` holds the fingerprint."""
FINGERPRINT_OF = "tipscore HMAC key fingerprint v1"


class KeyMismatch(RuntimeError):
    """This replica's HMAC secret is not the one the database's reports were hashed with."""


def fingerprint(hasher: IdentifierHasher) -> str:
    """A keyed digest of a fixed string: equal keys give equal fingerprints."""
    return hasher.short(FINGERPRINT_OF, 32)


def check_key(store: StateStore, hasher: IdentifierHasher) -> None:
    """Record the key's fingerprint on first start; raise ``KeyMismatch`` on a different one.

    PostgreSQL only (replicas share it); a SQLite file has one service and its key beside it.
    """
    if store.backend.name != "postgresql":
        return
    mine = fingerprint(hasher)
    with store.transaction() as tx:  # under the write lock: two first starts agree
        row = tx.db.one("SELECT source_table FROM migrated WHERE source = ?", (SOURCE,))
        if row is None:
            tx.mark_migrated(SOURCE, mine, 0)
            return
    if row["source_table"] != mine:
        raise KeyMismatch(
            "the HMAC secret (TIPSCORE_HMAC_KEY_FILE) is not the one the other replicas "
            "hash identifiers with (its fingerprint differs from the one kept in the "
            "state database): reports would stop linking across replicas. Give every "
            "replica the same key file (docs/deployment.md)"
        )
