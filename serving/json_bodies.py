"""JSON request bodies held to the contract before anything else reads them.

Why a check in front: BentoML reads a scoring API's body with any Content-Type as JSON
(``text/plain`` and multipart included), lets the last of two equal keys win and ignores
top-level keys its input model does not have (``{"report": ..., "debug": true}``), and a
``/score_batch`` of 30,000 items was validated item by item (1.6-3.0 s of CPU) before its
count was refused (issue 18). ``JsonBodyMiddleware`` sits inside ``AuthMiddleware`` (the
key, role and size cap come first) and, for ``/score``, ``/score_batch`` and the JSON form
of ``/score_xml``:

- refuses a Content-Type other than JSON (``application/json``, ``*/*+json`` or none) with
  415 ``unsupported_media_type``;
- parses the body once with ``strict_loads`` — 400 ``duplicate_key`` for a key given twice
  in any object — and refuses unknown top-level keys as a validation error would
  (``extra_forbidden``, ``loc`` the key);
- refuses a ``/score_batch`` whose ``reports`` has more items than ``TIPSCORE_MAX_BATCH``
  with the documented ``reports: at most N per batch, got M``, or names more identifiers
  than ``TIPSCORE_MAX_BATCH_IDENTIFIERS``, before any item is validated;
- then hands BentoML the same bytes. A body that is no JSON at all is left to BentoML,
  whose answer to it is documented.

The analyst app's bodies go through the same ``strict_loads`` and media-type check in
``serving.analyst.deps.json_body``; its ``Input`` models forbid unknown keys themselves.
"""

from __future__ import annotations

import json
from typing import Any

from features.report_limits import ReportLimits
from serving.auth import App, BodyTooLarge, Receive, Scope, Send
from serving.settings import ServingSettings, current

# the body helpers of the XML forms' middleware, which reads and replays bodies alike
from serving.xml_forms import _answer, _content_type, _read_body, _replay

PARAMETERS = {"/score": "report", "/score_batch": "reports", "/score_xml": "submission"}
"""Each scoring API's one body key (the name of its parameter), as BentoML reads it."""
EXTRA = "Extra inputs are not permitted"
EXTRA_URL = "https://errors.pydantic.dev/2/v/extra_forbidden"


class DuplicateKey(ValueError):
    """A JSON object names one key twice; which one wins would be a guess."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def body(self) -> dict[str, str]:
        """The documented 400: ``{"error": "duplicate_key", "message": ...}``."""
        return {
            "error": "duplicate_key",
            "message": f"{self.key[:80]}: a key may appear once in a JSON object; "
            "it appears more than once",
        }


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def strict_loads(raw: bytes) -> Any:
    """``json.loads`` that refuses a duplicate key in any object (``DuplicateKey``).

    Other failures raise as ``json.loads`` raises them (``ValueError``, ``RecursionError``).
    """
    return json.loads(raw, object_pairs_hook=_unique)


def is_json(media_type: str) -> bool:
    """Whether a Content-Type's media type (lower case, no parameters) is JSON (or none)."""
    return media_type in ("", "application/json") or media_type.endswith("+json")


def unsupported(media_type: str, path: str) -> dict[str, str]:
    """The documented 415 answer of a JSON-only route."""
    return {
        "error": "unsupported_media_type",
        "message": f"Content-Type {media_type[:80]!r} is not accepted on {path[:80]}; "
        "send application/json",
    }


def extra_keys(data: Any, allowed: set[str]) -> dict[str, Any] | None:
    """A validation-error answer naming the top-level keys not in ``allowed`` (or None)."""
    if not isinstance(data, dict):
        return None
    unknown = [key for key in data if key not in allowed]
    if not unknown:
        return None
    return {
        "error": f"{len(unknown)} validation error{'s' if len(unknown) > 1 else ''} "
        "for Input",
        "detail": [
            {"type": "extra_forbidden", "loc": [key], "msg": EXTRA, "url": EXTRA_URL}
            for key in unknown
        ],
    }


def batch_too_large(data: Any, most: int) -> dict[str, str] | None:
    """The documented 400 for a ``/score_batch`` over the batch limit (or None)."""
    reports = data.get("reports") if isinstance(data, dict) else None
    if isinstance(reports, list) and len(reports) > most:
        return {"error": f"reports: at most {most} per batch, got {len(reports)}"}
    return None


def identifiers_in(reports: list[Any]) -> int:
    """How many identifiers a batch's (not yet validated) reports name, all kinds."""
    total = 0
    for item in reports:
        found = item.get("identifiers") if isinstance(item, dict) else None
        if isinstance(found, dict):
            total += sum(len(v) for v in found.values() if isinstance(v, list))
    return total


def batch_over_budget(data: Any, most: int) -> dict[str, str] | None:
    """The 400 for a ``/score_batch`` naming more identifiers than a batch may (or None)."""
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, list):
        return None
    total = identifiers_in(reports)
    if total > most:
        return {
            "error": f"reports: at most {most} identifiers per batch (all reports and "
            f"kinds together), got {total}"
        }
    return None


def over_report_limits(
    data: Any, path: str, limits: ReportLimits
) -> dict[str, str] | None:
    """The 400 for a report over the per-report limits an operator lowered (or None).

    At the contract's own limits nothing is checked here: the schema refuses (its
    documented validation error). Not yet validated: only lists are counted.
    """
    if not limits.lowered or not isinstance(data, dict):
        return None
    batch = path == "/score_batch"
    reports = data.get("reports") if batch else [data.get("report")]
    for index, report in enumerate(reports if isinstance(reports, list) else []):
        where = f"reports[{index}]." if batch else "report."
        found = report if isinstance(report, dict) else {}
        files = found.get("files")
        if isinstance(files, list) and len(files) > limits.files:
            return {
                "error": f"{where}files: at most {limits.files} per report, "
                f"got {len(files)}"
            }
        kinds = found.get("identifiers")
        for kind, values in (kinds if isinstance(kinds, dict) else {}).items():
            if isinstance(values, list) and len(values) > limits.of(kind):
                return {
                    "error": f"{where}identifiers.{kind}: at most {limits.of(kind)} "
                    f"per report, got {len(values)}"
                }
    return None


def refusal(path: str, raw: bytes, settings: ServingSettings) -> dict[str, Any] | None:
    """Why a scoring API's JSON body is refused before BentoML reads it (None: it is not).

    A body that is not JSON is not refused here: BentoML answers it as documented.
    """
    try:
        data = strict_loads(raw)
    except DuplicateKey as exc:
        return exc.body()
    except (ValueError, RecursionError):
        return None
    found = extra_keys(data, {PARAMETERS[path]})
    if found is None and path == "/score_batch":
        found = batch_too_large(data, settings.max_batch) or batch_over_budget(
            data, settings.max_batch_identifiers
        )
    return found or over_report_limits(data, path, settings.report_limits)


class JsonBodyMiddleware:
    """Holds the scoring APIs' JSON bodies to the contract (see the module docstring)."""

    def __init__(self, app: App, settings: ServingSettings | None = None) -> None:
        self.app, self._settings = app, settings

    @property
    def settings(self) -> ServingSettings:
        """Given, or the service's one reading (``serving.settings.current``)."""
        return self._settings or current()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on with its body read once and replayed."""
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path not in PARAMETERS
            or scope.get("method") != "POST"
        ):
            await self.app(scope, receive, send)
            return
        media_type = _content_type(scope)[0]
        if not is_json(media_type):
            await _answer(send, 415, unsupported(media_type, path))
            return
        try:
            raw = await _read_body(receive)
        except BodyTooLarge as exc:
            await _answer(send, 413, {"error": "body_too_large", "message": str(exc)})
            return
        found = refusal(path, raw, self.settings)
        if found is not None:
            await _answer(send, 400, found)
            return
        await self.app(scope, _replay(raw, receive), send)
