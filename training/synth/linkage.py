"""Stage 2, linkage: synthetic keyed-hash digests for the ``link_*`` columns.

Real histories hold HMAC digests of identifiers. Synthetic ones hold digests of synthetic ids,
made by a vectorised splitmix64 mix of (seed, kind, id): the same account gives the same
digest in every report and every chunk, which is what lets repeat offenders link, and no raw
identifier ever exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from training.synth.config import GeneratorConfig

if TYPE_CHECKING:
    from training.synth.reports import Chunk

KINDS = {
    "account": 1,
    "email": 2,
    "phone": 3,
    "ip": 4,
    "device": 5,
    "file": 6,
    "viral": 7,
}
FRESH = 1 << 40
MAX_FILE_LINKS = (3, 2)  # known, novel hashes kept per report
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = z ^ (z >> np.uint64(31))
    return mixed


def digests(seed: int, kind: str, ids: np.ndarray) -> pa.Array:
    """64-hex digests, one per id, stable for (seed, kind, id)."""
    base = _mix(
        ids.astype(np.uint64)
        ^ _mix(np.full(len(ids), seed * 16 + KINDS[kind], dtype=np.uint64))
    )
    words = np.stack([_mix(base + np.uint64(j)) for j in range(4)], axis=1)
    text = words.astype(">u8").tobytes().hex().encode("ascii")
    fixed = pa.array(np.frombuffer(text, dtype="S64"), type=pa.binary(64))
    return fixed.cast(pa.binary()).cast(pa.string())


def _lists(lengths: np.ndarray, values: pa.Array) -> pa.ListArray:
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _slots(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-row item counts: each item's row (within the chunk) and slot within the row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    slots = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, slots


def _one_each(seed: int, kind: str, mask: np.ndarray, ids: np.ndarray) -> pa.ListArray:
    return _lists(mask.astype(np.int64), digests(seed, kind, ids[mask]))


def _fresh(chunk: Chunk, rows: np.ndarray, slot: np.ndarray | int) -> np.ndarray:
    """Ids used once: unique per (report, slot)."""
    fresh: np.ndarray = FRESH + (chunk.start + rows) * 8 + slot
    return fresh


def _owned(chunk: Chunk, slot: int) -> np.ndarray:
    """The account's own id where there is one, else a fresh id for this report."""
    account = chunk.col("account")
    owned: np.ndarray = np.where(
        account >= 0, account, _fresh(chunk, np.arange(chunk.size), slot)
    )
    return owned


def _account_links(chunk: Chunk, seed: int) -> pa.ListArray:
    """One digest for a report's account; up to 3 fresh ones for a batched report's users."""
    account = chunk.col("account")
    has = account >= 0
    batched = np.minimum(
        np.where(chunk.col("batched"), chunk.col("incident_count"), 0), 3
    )
    counts = np.where(has, 1, batched)
    rows, slots = _slots(counts)
    ids = np.where(has[rows], account[rows], _fresh(chunk, rows, slots))
    return _lists(counts, digests(seed, "account", ids))


def _file_links(
    chunk: Chunk, cfg: GeneratorConfig, seed: int, columns: dict[str, np.ndarray]
) -> pa.ListArray:
    """Known files link through a Zipf-weighted pool of circulating content; novel are new."""
    known = np.minimum(columns["files_hash_known"], MAX_FILE_LINKS[0])
    novel = np.minimum(columns["files_hash_novel"], MAX_FILE_LINKS[1])
    known_rows, _ = _slots(known)
    novel_rows, novel_slots = _slots(novel)
    pool = cfg.hashes.viral_pool
    viral_ids = np.minimum(chunk.rng.zipf(1.3, len(known_rows)) - 1, pool - 1)
    values = pa.concat_arrays(
        [
            digests(seed, "viral", viral_ids),
            digests(seed, "file", _fresh(chunk, novel_rows, novel_slots)),
        ]
    )
    order = np.argsort(np.concatenate([known_rows, novel_rows]), kind="stable")
    return _lists(known + novel, values.take(pa.array(order)))


def draw_links(
    chunk: Chunk, cfg: GeneratorConfig, seed: int, columns: dict[str, np.ndarray]
) -> dict[str, pa.Array]:
    """The ``link_*`` list columns of one chunk."""
    account = chunk.col("account")
    reuse_ip = (account >= 0) & (chunk.rng.random(chunk.size) < cfg.history.ip_reuse)
    ip_ids = np.where(reuse_ip, account, _fresh(chunk, np.arange(chunk.size), 1))
    return {
        "link_accounts": _account_links(chunk, seed),
        "link_emails": _one_each(seed, "email", columns["rp_email"], _owned(chunk, 2)),
        "link_phones": _one_each(seed, "phone", columns["rp_phone"], _owned(chunk, 3)),
        "link_ips": _one_each(seed, "ip", columns["rp_upload_ip"], ip_ids),
        "link_devices": _one_each(
            seed, "device", columns["rp_device_ids"] > 0, _owned(chunk, 4)
        ),
        "link_file_hashes": _file_links(chunk, cfg, seed, columns),
    }
