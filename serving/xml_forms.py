"""``POST /score_xml`` in the forms platforms speak: the raw ``<report>``, or multipart.

A BentoML API reads one fixed IO descriptor (here the JSON ``XmlSubmission``), so the
other two forms are turned into that JSON form in front of the route, by
``XmlFormsMiddleware``, before BentoML sees the request:

- ``application/xml`` or ``text/xml`` (or any ``+xml`` type): the body is the ``<report>``
  document, decoded by the declared charset or, without one, as the XML itself says
  (``features.xml.encoding``); the facts come as query parameters or ``X-Tipscore-*``
  headers (``serving.xml_facts``);
- ``multipart/form-data``: one ``report`` part, any number of ``fileDetails`` parts, the
  facts as form fields (or parameters and headers);
- ``application/json`` (or no Content-Type): passed on untouched, as always.

Any other Content-Type answers 415. The middleware sits inside ``AuthMiddleware``, so the
key, role and body cap are checked first, and hands the one JSON form to the same route:
the same validation, audit logging, error shapes and answer for all three forms.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.multipart import parse_options_header

from features.refusal import METADATA_ONLY
from features.schema import MAX_FILES
from features.xml.encoding import EncodingError, xml_text
from serving.auth import App, BodyTooLarge, Message, Receive, Scope, Send
from serving.multipart_parts import Part, split_parts
from serving.xml_facts import ALIASES, FACTS, Facts, FormError

logger = logging.getLogger(__name__)

ROUTE = "/score_xml"
XML_TYPES = frozenset({"application/xml", "text/xml"})
MULTIPART = "multipart/form-data"
CONTENT_PREFIXES = ("image/", "video/", "audio/")
ACCEPTED = "application/xml, text/xml, multipart/form-data or application/json"


def _is_xml(media_type: str) -> bool:
    return media_type in XML_TYPES or media_type.endswith("+xml")


def _is_json(media_type: str) -> bool:
    return media_type in ("", "application/json") or media_type.endswith("+json")


def _content_type(scope: Scope) -> tuple[str, dict[bytes, bytes]]:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media, params = parse_options_header(value)
            return media.decode("latin-1").lower(), params
    return "", {}


def _text(data: bytes, charset: str | None, what: str) -> str:
    try:
        return xml_text(data, charset)
    except EncodingError as exc:
        status = 415 if exc.code == "unsupported_charset" else 400
        raise FormError(exc.code, f"{what}: {exc.message}", status) from None


def _query_facts(scope: Scope, facts: Facts) -> None:
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise FormError(
            "invalid_parameter", "query parameters must be UTF-8, percent-encoded"
        ) from None
    for name, value in pairs:
        facts.add(name, value, "query parameter")
    facts.add_headers(scope.get("headers", []))


def raw_submission(scope: Scope, body: bytes, charset: str | None) -> dict[str, Any]:
    """The JSON form of a raw ``<report>`` body and its facts."""
    if not body.strip():
        raise FormError("empty_body", "the body is empty; send the <report> document")
    facts = Facts()
    _query_facts(scope, facts)
    return {"report_xml": _text(body, charset, "body"), **facts.fields()}


_WIDE_XML = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
"""How UTF-16 XML starts: its NUL bytes are text, not a file's."""
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FILE_MAGIC = (b"%PDF-",)
"""File signatures without control bytes at the start (images, video and audio have them:
PNG's 0x1a, JPEG's and MP4's 0x00)."""


def _refuse_content(part: Part) -> None:
    """Refuse a part that is a file: by its media type or by its first bytes.

    Any part, whatever its name: an image sent as ``-F image=@x.png`` was refused as
    ``undecodable`` before, which does not say why (an outside security test).
    """
    head = bytes(part.data[:64])
    binary = not head.startswith(_WIDE_XML) and _CONTROL_BYTES.search(head) is not None
    if (
        part.media_type.startswith(CONTENT_PREFIXES)
        or binary
        or head.startswith(_FILE_MAGIC)
    ):
        raise FormError("metadata_only", f"part {part.name!r}: {METADATA_ONLY}")


def _document(part: Part) -> str:
    return _text(bytes(part.data), part.charset, f"part {part.name!r}")


def multipart_submission(
    scope: Scope, body: bytes, boundary: bytes | None
) -> dict[str, Any]:
    """The JSON form of a multipart body: ``report``, ``fileDetails`` and fact fields."""
    facts = Facts()
    _query_facts(scope, facts)
    reports: list[str] = []
    files: list[str] = []
    for part in split_parts(body, boundary):
        _refuse_content(part)
        if part.name == "report":
            reports.append(_document(part))
        elif part.name == "fileDetails":
            files.append(_document(part))
        else:
            value = _text(bytes(part.data), part.charset or "utf-8", part.name)
            facts.add(part.name, value.strip(), "form field")
    if len(files) > MAX_FILES:  # before the submission's schema names its own field
        raise FormError(
            "too_many_files",
            f"fileDetails: at most {MAX_FILES} parts per report, got {len(files)}",
        )
    if len(reports) != 1:
        raise FormError(
            "report_count",
            f"expected exactly one 'report' part with the <report> document, "
            f"got {len(reports)}",
        )
    return {"report_xml": reports[0], "file_details_xml": files, **facts.fields()}


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _as_json(scope: Scope, payload: bytes) -> Scope:
    headers = [
        (name, value)
        for name, value in scope.get("headers", [])
        if name not in (b"content-type", b"content-length", b"transfer-encoding")
    ]
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    return {**scope, "headers": headers}


def _replay(payload: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # the client's disconnect, when it comes
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    return replayed


async def submission_json(scope: Scope, receive: Receive) -> bytes:
    """The JSON body (``{"submission": {...}}``) of a raw or multipart request.

    Raises:
        FormError: an unsupported media type (415) or a body that is no submission (400).
    """
    media_type, params = _content_type(scope)
    if not (_is_xml(media_type) or media_type == MULTIPART):
        raise FormError(
            "unsupported_media_type",
            f"Content-Type {media_type[:80]!r} is not accepted on {ROUTE}; send "
            f"{ACCEPTED}",
            415,
        )
    body = await _read_body(receive)
    if media_type == MULTIPART:
        submission = multipart_submission(scope, body, params.get(b"boundary"))
    else:
        charset = params.get(b"charset")
        submission = raw_submission(
            scope, body, None if charset is None else charset.decode("latin-1")
        )
    return json.dumps({"submission": submission}).encode()


def check_json_form(scope: Scope) -> None:
    """Refuse facts as parameters or headers beside a JSON body (its fields carry them).

    Silently ignoring them would score the report with other facts than the caller sent.
    Other query parameters stay ignored, as the JSON form always did.
    """
    query = scope.get("query_string", b"").decode("latin-1")
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    headers = {name.decode("latin-1").lower() for name, _ in scope.get("headers", [])}
    given = sorted(names & (set(FACTS) | set(ALIASES)))
    given += sorted(headers & set(FACTS.values()))
    if given:
        raise FormError(
            "facts_outside_json",
            f"{', '.join(given)}: the JSON form carries the facts as fields of "
            "'submission'; query parameters and X-Tipscore-* headers are read only "
            "with an XML or multipart body",
        )


class XmlFormsMiddleware:
    """Turns the raw and multipart forms of ``/score_xml`` into its JSON form."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass JSON and every other route on; transcode the XML forms, or refuse them."""
        if (
            scope["type"] != "http"
            or scope.get("path") != ROUTE
            or scope.get("method") != "POST"
        ):
            await self.app(scope, receive, send)
            return
        try:
            if _is_json(_content_type(scope)[0]):
                check_json_form(scope)
                await self.app(scope, receive, send)
                return
            payload = await submission_json(scope, receive)
        except FormError as refused:
            logger.info("POST %s: rejected (%s)", ROUTE, refused.code)
            await _answer(send, refused.status, refused.body())
            return
        except BodyTooLarge as exc:
            await _answer(send, 413, {"error": "body_too_large", "message": str(exc)})
            return
        await self.app(_as_json(scope, payload), _replay(payload, receive), send)
