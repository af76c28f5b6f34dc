"""Rows kept before the ESP vocabulary: their raw ESP names rewritten to the closed one.

Since ``features.platforms`` the service keeps an ESP name only as a known platform or
``other``; rows scored before kept the name as sent (any text: a phone number, an email
address). This migration, run when the service opens its state, rewrites every kept name
outside the vocabulary — ``scored.esp``, its copy in the flattened row (``scored.flat``),
the reporter key fact and the warnings' text in the stored response (``scored.response``)
and ``queue.esp`` — to
what the service would keep today.

- once: recorded in the ``migrated`` table (source ``esp_vocabulary``) in the same
  transaction, so a restart does nothing and a crash leaves all or nothing;
- ``scored`` is append-only (a trigger refuses UPDATE): inside that one transaction the
  trigger is dropped, the rows rewritten and the trigger created again, so no other
  writer ever sees the table without it;
- only with the service's vocabulary (``Platforms`` with the registered names): a store
  opened without one (a command) is left for the service to migrate.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from features.platforms import OTHER, Platforms
from serving.key_facts import OTHER_ESP_TEXT
from serving.state.store import StateStore, Transaction

logger = logging.getLogger(__name__)

SOURCE = "esp_vocabulary"
"""The ``migrated`` row that records this rewrite."""

_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS scored_no_update BEFORE UPDATE ON scored "
    "BEGIN SELECT RAISE(ABORT, 'scored reports are append-only'); END"
)


def close_esp_names(store: StateStore, platforms: Platforms) -> int | None:
    """Rewrite raw ESP names to the vocabulary, once; the rows rewritten (None: done before)."""
    with store.transaction() as tx:
        if tx.migrated(SOURCE) is not None:
            return None
        renames = _renames(tx, platforms)
        rewritten = _rewrite(tx, renames) if renames else 0
        tx.mark_migrated(SOURCE, "scored", rewritten)
    if rewritten:
        logger.warning(
            "kept ESP names: %d stored suggestion(s) of %d name(s) outside the vocabulary "
            "rewritten to the closed one (features.platforms)",
            rewritten,
            len(renames),
        )
    return rewritten


def _renames(tx: Transaction, platforms: Platforms) -> dict[str, str]:
    """Each stored name that is not what the service keeps today, and what it becomes."""
    names = [row["esp"] for row in tx.db.rows("SELECT DISTINCT esp FROM scored")]
    names += [row["esp"] for row in tx.db.rows("SELECT DISTINCT esp FROM queue")]
    found: dict[str, str] = {}
    for name in names:
        if name is None:
            continue
        kept = platforms.canonical(name)
        if kept is not None and kept != name:
            found[name] = kept
    return found


def _rewrite(tx: Transaction, renames: dict[str, str]) -> int:
    db, rewritten = tx.db, 0
    db.run("DROP TRIGGER IF EXISTS scored_no_update")
    for old, new in renames.items():
        rows = db.rows("SELECT seq, flat, response FROM scored WHERE esp = ?", (old,))
        for row in rows:
            db.run(
                "UPDATE scored SET esp = ?, flat = ?, response = ? WHERE seq = ?",
                (new, _flat(row["flat"], new), _response(row["response"], old, new),
                 row["seq"]),
            )  # fmt: skip
        db.run("UPDATE queue SET esp = ? WHERE esp = ?", (new, old))
        rewritten += len(rows)
    db.run(_TRIGGER)
    return rewritten


def _flat(text: str, esp: str) -> str:
    data: dict[str, Any] = json.loads(text)
    if "esp" in data:
        data["esp"] = esp
    return json.dumps(data)


def _response(text: str, old: str, esp: str) -> str:
    """The stored response with its reporter key fact and warnings as worded now.

    Before the vocabulary, the XML intake's ``xml_esp_from_platform`` warning quoted the
    platform name as the report gave it; it quotes the kept name now. (The audit log,
    ``requests``, keeps warning codes only, so it holds no name to rewrite.)
    """
    data: dict[str, Any] = json.loads(text)
    for fact in data.get("key_facts") or []:
        reporter = isinstance(fact, dict) and fact.get("code") == "reporter"
        if reporter and fact.get("text") == old:  # the raw name, not "A member of ..."
            fact["text"] = OTHER_ESP_TEXT if esp == OTHER else esp
    for warning in data.get("warnings") or []:
        if isinstance(warning, dict) and old in str(warning.get("text", "")):
            warning["text"] = str(warning["text"]).replace(old, esp)
    return json.dumps(data)
