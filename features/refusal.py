"""Refusal of file content: this project accepts report metadata only, never image bytes.

Why a separate check: the contract has no field for content, so ``extra="forbid"`` would
already reject one — but with a generic "extra field" message. Analysts' intake teams need
to hear *why* (metadata only, by design), and a base64 blob hidden in an allowed string field
must not slip through either. Every request body is scanned before model validation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from pydantic_core import PydanticCustomError

CONTENT_KEY_PATTERN = re.compile(
    r"(^|_)(content|image|images|img|video|videos|photo|thumbnail|bytes|base64|b64|"
    r"blob|payload|media_data|file_data|data_uri|attachment|binary)($|_)",
)
"""Field names (after camelCase → snake_case) that would carry file or image content."""

_BASE64_MIN = 256  # a shorter value cannot hold the runs below
_WRAPPED_TOKEN = 16  # a line or group of wrapped base64 this long or longer counts
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]+")
"""A run of the base64 alphabet, standard or URL-safe (``-``, ``_``). Runs are taken
whole (``finditer`` resumes after each), so the scan is linear in the value's length: a
regex that backtracked took seconds per megabyte on crafted text (a stranger's review)."""
_DATA = re.compile(r"\bdata:", re.IGNORECASE)
_BASE64_PARAM = re.compile(r";\s*base64\s*$", re.IGNORECASE)
"""A data URI's last parameter before its comma, when its data is base64 (the WHATWG
spec allows spaces before ``base64``)."""
_DATA_MEDIA = re.compile(r"\bdata:\s*(?:image|video|audio)/", re.IGNORECASE)
_HASH_SHAPED = re.compile(r"[0-9A-Fa-f]{1,512}")
"""A hash value as hashes are written: hex, one token, at most 512 characters (the
contract's hash limit). PhotoDNA in hex is 288 characters, a run the base64 rule would
take for content; a hash in base64 is shorter than that rule's 256 (PhotoDNA's 192)."""
_CONTROLS_MAX = 3  # this many control characters make a value bytes, not text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 control characters other than tab and line breaks: no metadata holds them, while
raw file bytes sent as ``\\u00xx`` escapes do (PNG's header has 0x1a, JPEG's 0x00)."""
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")

METADATA_ONLY = (
    "this service accepts report metadata only; image, video or file content "
    "(bytes, base64, data URIs) is never accepted — send the file's metadata fields instead"
)


@functools.lru_cache(maxsize=4096)
def snake(name: str) -> str:
    """Turn ``fileContent`` or ``file-content`` into ``file_content``."""
    return _CAMEL.sub(r"_\1", name).replace("-", "_").lower()


def _first(value: Any) -> list[str | int] | None:
    """The place (keys and indexes) of the first node that carries or names content.

    Nodes are visited in document order, each key checked before its value and a value
    before what is inside it. The path is built only for a hit: building it for every
    node cost more than the checks on a batch naming 100,000 identifiers (issue 18).
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if CONTENT_KEY_PATTERN.search(snake(str(key))) or looks_like_content(item):
                return [str(key)]
            if key in HASH_FIELDS and isinstance(item, list | tuple):
                found = _first_in(item, hashes=True)
            else:
                found = (
                    _first(item) if isinstance(item, Mapping | list | tuple) else None
                )
            if found is not None:
                return [str(key), *found]
    elif isinstance(value, list | tuple):
        return _first_in(value)
    return None


HASH_FIELDS = frozenset({"file_hashes"})
"""Fields whose values are file hashes: a hash-shaped value there is a hash (PhotoDNA in
hex, 288 characters, was refused as a base64 run), anything else is judged as text."""


def _first_in(
    items: list[Any] | tuple[Any, ...], hashes: bool = False
) -> list[str | int] | None:
    """The first item that carries content (``hashes``: a hash-shaped item is a hash)."""
    for index, item in enumerate(items):
        if hashes and isinstance(item, str) and hash_shaped(item):
            continue
        if looks_like_content(item):
            return [index]
        found = _first(item) if isinstance(item, Mapping | list | tuple) else None
        if found is not None:
            return [index, *found]
    return None


def looks_like_content(value: Any) -> bool:
    """Tell whether a value looks like encoded file content rather than metadata.

    Bytes; a data URI with base64 or of an image, video or audio type, anywhere in the
    value; a NUL or three other control characters (raw bytes as escapes); 256 or more
    characters of the base64 alphabet (standard or URL-safe) unbroken, or wrapped into
    lines or groups (``_wrapped``). A file split over several short values is not caught:
    no single value holds enough of it to tell. Every check is linear in the value.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if not isinstance(value, str):
        return False
    if _DATA_MEDIA.search(value) or _data_uri(value):
        return True
    if "\x00" in value or len(_CONTROL.findall(value)) >= _CONTROLS_MAX:
        return True
    if len(value) < _BASE64_MIN:
        return False
    runs = (m.group() for m in _BASE64_RUN.finditer(value))
    if any(len(run) >= _BASE64_MIN and encodes_bytes(run) for run in runs):
        return True
    return _wrapped(value)


def encodes_bytes(run: str) -> bool:
    """Whether a long run of the base64 alphabet can be encoded bytes, not written text.

    Any 256 characters of encoded bytes hold digits, in base64 (the chance of none is
    1e-19), hex and base32 alike; a run without a digit is text written without spaces
    (chat's ``hahaha…``, a keyboard mash: refused before, an outside XML client, session
    9). Base64 of text is still refused: it is encoded content all the same.
    """
    return any(c.isdigit() for c in run)


def _data_uri(value: str) -> bool:
    """Whether a ``data:`` URI with base64 data sits anywhere in the value.

    One pass: each head (``data:`` to its comma) is read once, so the check is linear
    however many ``data:`` the value repeats (a bounded regex re-read 256 characters at
    each: 5 s for an 8 MB field, a stranger's review).
    """
    end = 0
    for found in _DATA.finditer(value):
        if found.start() < end:
            continue
        comma = value.find(",", found.end())
        if comma < 0:
            return False  # no comma after it: no data URI here or later
        if _BASE64_PARAM.search(value, found.end(), comma):
            return True
        end = comma
    return False


def _wrapped(value: str) -> bool:
    """Whether the value holds base64 broken into lines or groups.

    Whitespace-separated tokens of 16 or more characters of its alphabet (few ``/``:
    paths have many), 256 or more characters of them in a row, with upper case, lower
    case and digits among them (encoded bytes have all three; hex, UUIDs and words do
    not).
    """
    run: list[str] = []
    for token in [*value.split(), ""]:
        body = token.rstrip("=")
        if (
            len(body) >= _WRAPPED_TOKEN
            and _BASE64_RUN.fullmatch(body)
            and body.count("/") * 16 <= len(body)
        ):
            run.append(body)
            continue
        if sum(map(len, run)) >= _BASE64_MIN and _mixed("".join(run)):
            return True
        run = []
    return False


def _mixed(text: str) -> bool:
    return (
        any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


def hash_shaped(value: str) -> bool:
    """Whether a value is written as a hash is (hex, one token, at most 512 characters)."""
    return _HASH_SHAPED.fullmatch(value.strip()) is not None


def find_content(data: Any) -> str | None:
    """Return the path of the first field that carries or names file content, else None."""
    found = _first(data)
    if found is None:
        return None
    path = ""
    for part in found:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def refuse_content(data: Any) -> Any:
    """Raise a ``metadata_only`` validation error when ``data`` carries file content.

    Used as a ``mode="before"`` model validator, so the error reaches the caller as a
    pydantic ``ValidationError`` of type ``metadata_only`` naming the offending field.
    """
    path = find_content(data)
    if path is not None:
        raise PydanticCustomError(
            "metadata_only",
            "field '{field}' looks like file content: {reason}",
            {"field": path, "reason": METADATA_ONLY},
        )
    return data
