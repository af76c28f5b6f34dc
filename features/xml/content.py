"""File content is refused wherever it sits in an XML document, as in the JSON contract.

Why a whole-document walk: the report and file parsers read only the elements they know,
so content in an element they skip (an unknown ``<fileContent>`` beside the incident
summary, a ``<profileImage>`` inside a reported person, a base64 thumbnail in an EXIF
value) went unread but was accepted. The JSON contract refuses the same things
(``features.refusal``): a name that says it carries content, or a value that looks like
encoded content (a data URI, a long base64 run). One rule for both forms, so what is
accepted does not depend on the form.

Two kinds of XSD text are exempt: the names the XSD itself gives that the name rule would
catch (``<content>``, a communication's text; ``thirdPartyHostedContent``, a URL flag),
and hash values (``<originalFileHash>``, a file document's ``<hash>``, the values of
``<details type="HASH">``) written as a hash is (``refusal.hash_shaped``: one hex token
of at most 512 characters): a PhotoDNA hash in hex is 288 characters of the
base64 alphabet, and it is a hash, not content. Anything else there (a data URI, a
longer blob) is judged like any text. The JSON contract exempts ``file_hashes`` alike.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from features.refusal import (
    CONTENT_KEY_PATTERN,
    METADATA_ONLY,
    hash_shaped,
    looks_like_content,
    snake,
)
from features.xml.common import Context, local
from features.xml.safe import XmlIntakeError

XSD_NAMES = frozenset({"content", "thirdPartyHostedContent"})
"""Element and attribute names the XSD defines that the content-name rule would catch."""

HASH_ELEMENTS = frozenset({"originalFileHash", "hash"})
"""Elements whose text is a hash value (``xs:token`` or the XSD's ``hash`` type)."""


def _names_content(name: str) -> bool:
    return name not in XSD_NAMES and CONTENT_KEY_PATTERN.search(snake(name)) is not None


def _holds_hashes(element: ET.Element, in_hash_pair: bool) -> bool:
    name = local(element.tag)
    return name in HASH_ELEMENTS or (in_hash_pair and name == "value")


def refuse_content(ctx: Context, root: ET.Element) -> None:
    """Raise ``metadata_only`` at the first element or attribute that carries content.

    Paths name elements as the XSD does; a name that is not a short plain name is given
    by its digest (``Context.safe_path``), as in warnings.
    """
    _walk(ctx, root, f"/{local(root.tag)}", flag=False)


def _walk(ctx: Context, element: ET.Element, path: str, flag: bool) -> None:
    """``flag``: the element's parent is ``<details type="HASH">`` or a pair inside it."""
    name = local(element.tag)
    if _names_content(name):
        _refuse(ctx, path)
    for attribute, value in element.attrib.items():
        if _names_content(local(attribute)) or looks_like_content(value):
            _refuse(ctx, path, local(attribute))
    value = element.text or ""
    exempt = _holds_hashes(element, flag) and hash_shaped(value)
    if not exempt and looks_like_content(value):
        _refuse(ctx, path)
    hash_details = name == "details" and element.get("type") == "HASH"
    below = hash_details or (flag and name == "nameValuePair")
    for child in element:
        if not isinstance(child.tag, str):
            continue
        _walk(ctx, child, f"{path}/{local(child.tag)}", below)
        if looks_like_content(child.tail or ""):  # mixed content after a child
            _refuse(ctx, path)


def _refuse(ctx: Context, path: str, attribute: str | None = None) -> None:
    where = ctx.safe_path(path)
    if attribute is not None:  # named as a path segment would be: plain, or its digest
        where += f"/@{ctx.safe_path(attribute)}"
    raise XmlIntakeError("metadata_only", where, METADATA_ONLY)
