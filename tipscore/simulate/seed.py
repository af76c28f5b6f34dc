"""The service's linkage store seeded with the known history before the first simulated day.

Training counts every earlier report of the history in the ``hist_*`` features; a service
started on an empty store would count none of them for its first simulated year, so the
first months' served features would be lower than the ones the models were trained on.
Before the service starts, the reports received in the last linkage window before the
simulation's start go into its store through the service's own code:

- each row's identifiers are rebuilt as the simulation sends them
  (``submissions.identifiers``, validated by the submission's own ``RawIdentifiers``) and
  hashed as intake hashes them (``features.identifiers.hash_identifiers``, the function
  ``to_contract`` calls, with the ESP scope and the service's HMAC secret,
  ``serving.intake.load_or_create_key`` — created here, read by the service). The rest of
  the report is not rebuilt: it plays no part in the hashes, and validating whole reports
  took ten times as long;
- its linkage rows are written by the store's own transaction (``record_links``), marked
  escalated where the history as known at the start says so (decided before it).

A first-day report then sees exactly what training sees for it (tested). One difference
stays: a report received before the start but decided by the generator after it counts as
escalated in later trainings (from its decision time on) and never in the service (no
analyst of the simulation decides it); docs/simulation.md says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from features.identifiers import IdentifierHasher, hash_identifiers
from features.linkage import LINK_FEATURES, to_micros
from features.schema import RawIdentifiers
from serving.intake import load_or_create_key
from serving.state.records import LinkRecord
from serving.state.store import StateStore
from tipscore.simulate.history import known_at
from tipscore.simulate.submissions import LINKS, esp, identifiers

WINDOW = timedelta(days=max(d.days for d in LINK_FEATURES))
"""The longest linkage window: older reports count for no report from the start on."""
CHUNK = 5_000


def _chunks(rows: pa.Table) -> Iterator[list[dict[str, Any]]]:
    for batch in rows.to_batches(max_chunksize=CHUNK):
        yield batch.to_pylist()


def _record(row: dict[str, Any], hasher: IdentifierHasher) -> LinkRecord:
    """The row's linkage record as the service would write it on scoring it."""
    raw = RawIdentifiers.model_validate(identifiers(row))
    keys = hash_identifiers(raw, hasher, esp(row))
    links = {column: list(getattr(keys, kind)) for kind, column in LINKS.items()}
    return (str(row["report_id"]), int(to_micros([row["received_at"]])[0]), links)


def seed_links(
    table: pa.Table, key_file: Path, store_path: Path, start: datetime
) -> int:
    """Record the last window's reports before ``start`` in the store; how many."""
    hasher = IdentifierHasher(load_or_create_key(key_file))
    rows = known_at(table, start, start - WINDOW)
    store = StateStore.open(store_path)
    try:
        for chunk in _chunks(rows):
            records = [_record(r, hasher) for r in chunk]
            flags = [bool(r["escalated"]) for r in chunk]
            with store.transaction() as tx:
                for escalated in (True, False):
                    tx.record_links(
                        [
                            x
                            for x, f in zip(records, flags, strict=True)
                            if f == escalated
                        ],
                        escalated=escalated,
                    )
    finally:
        store.close()
    return len(rows)
