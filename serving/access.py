"""The access log: refused requests and reads of analysts' data, kept in the state store.

Why: the audit log (``requests``) holds what was scored and decided; an outside test found
that who was refused, and who read the queue, a report or the model card, was kept
nowhere. Each such event becomes one row of the ``access`` table — when, the key id (if a
key was recognised), method, route template, status and reason — never the body, the key
itself or the raw path (an unmatched path is ``(unmatched)``: paths are the sender's text).

Why buffered: a refusal costs the sender nothing, so a flood of them must not cost the
service a committed transaction each, nor hold the writer the scoring path needs. Events
go into a bounded queue; one background thread writes what has gathered in one
transaction every ``interval`` seconds at most. The scoring path gains nothing: an
accepted ``/score`` call is not an access event (it is in the audit log already). If the
queue is full, events are counted and the count is written as one ``dropped`` row.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import bentoml

if TYPE_CHECKING:
    from serving.state.store import StateStore

logger = logging.getLogger(__name__)

UNMATCHED = "(unmatched)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
Row = tuple[str, str | None, str, str, int, str]


def route_of(path: str, routes: Collection[str]) -> str:
    """The route template a path is kept as: itself when it is a route, else unmatched."""
    return path if path in routes else UNMATCHED


class AccessLog:
    """A bounded buffer of access events and the thread that writes them.

    Args:
        state: the store whose ``access`` table is written.
        routes: the paths kept as they are (every other path is ``(unmatched)``).
        capacity: most events waiting to be written; more are counted as dropped.
        interval: longest wait, in seconds, before gathered events are written.
    """

    def __init__(
        self,
        state: StateStore,
        routes: Collection[str],
        capacity: int = 10_000,
        interval: float = 0.2,
    ) -> None:
        self._state, self._routes, self._interval = state, frozenset(routes), interval
        self._pending: queue.Queue[Row] = queue.Queue(maxsize=capacity)
        self._dropped = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="access-log", daemon=True
        )
        self._thread.start()

    def record(
        self, key_id: str | None, method: str, path: str, status: int, reason: str
    ) -> None:
        """Note one event (never blocks; a full buffer counts it as dropped)."""
        row: Row = (
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            key_id,
            method if method in METHODS else "OTHER",
            route_of(path, self._routes),
            int(status),
            reason[:64],
        )
        try:
            self._pending.put_nowait(row)
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def _take(self, block: bool) -> list[Row]:
        rows: list[Row] = []
        try:
            first = (
                self._pending.get(timeout=self._interval)
                if block
                else self._pending.get_nowait()
            )
            rows.append(first)
            while True:
                rows.append(self._pending.get_nowait())
        except queue.Empty:
            pass
        with self._lock:
            dropped, self._dropped = self._dropped, 0
        if dropped:
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            rows.append((at, None, "OTHER", UNMATCHED, 0, f"dropped {dropped}"))
        return _folded(rows)

    def flush(self, block: bool = False) -> int:
        """Write the events gathered so far in one transaction; how many were written."""
        rows = self._take(block)
        if rows:
            rows_out: list[list[Any]] = [list(r) for r in rows]
            try:
                with self._state.transaction() as tx:
                    tx.append_access(rows_out)
            except Exception:
                logger.exception("access log: %d event(s) not written", len(rows))
                with self._lock:  # the next write records that they were lost
                    self._dropped += len(rows)
                return 0
        return len(rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.flush(block=True):
                # at most one commit per interval, however fast refusals come: a flood of
                # key-less requests must not keep the writer's lock (and the disk) busy
                self._stop.wait(self._interval)

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()


def current() -> AccessLog | None:
    """The running service's access log (None outside a service, e.g. in a unit test)."""
    try:
        service = bentoml.get_current_service()
    except Exception:
        return None
    log = getattr(service, "access", None)
    return log if isinstance(log, AccessLog) else None


def _folded(rows: list[Row]) -> list[Row]:
    """Identical refusals of one interval as one row, the count in its reason.

    A flood of key-less requests then adds a row per interval and kind, not one per
    request, to a table that is append-only and never pruned. Reads stay one row each.
    """
    out: list[Row] = []
    counts: dict[tuple[Any, ...], int] = {}
    first: dict[tuple[Any, ...], int] = {}
    for row in rows:
        at, key_id, method, route, status, reason = row
        if not 400 <= int(status) < 600:
            out.append(row)
            continue
        key = (key_id, method, route, status, reason)
        if key not in counts:
            first[key] = len(out)
            out.append(row)
        counts[key] = counts.get(key, 0) + 1
    for key, n in counts.items():
        if n > 1:
            at, key_id, method, route, status, reason = out[first[key]]
            out[first[key]] = (at, key_id, method, route, status, f"{reason} (x{n})")
    return out
