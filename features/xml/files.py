"""Reading one ``<fileDetails>`` document into a ``FileMeta`` and its report id.

A file's name is read only to tell image from video by its extension, then dropped; hash
values, upload IPs and device ids go to the raw bag to be hashed; EXIF values and additional
info are never read. An element that looks like file content is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from features.vocab import FILE_ANNOTATIONS, FileRelevance, IndustryClass, MediaKind
from features.xml.common import (
    Context,
    boolean,
    child,
    children,
    local,
    presence_flag,
    report_number,
    text,
    warn_repeated,
    warn_unknown,
)
from features.xml.parties import RawBag
from features.xml.safe import XmlIntakeError

ROOT = "/fileDetails"
IMAGE_EXT = frozenset(
    {"jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp", "webp", "heic", "heif", "avif"}
    | {"tif", "tiff"}
)
VIDEO_EXT = frozenset(
    {"mp4", "mov", "avi", "mkv", "webm", "wmv", "flv", "m4v", "3gp", "3g2", "mpg"}
    | {"mpeg", "m2ts", "mts", "ogv"}
)

FILE_TAGS: dict[str, str] = dict(
    zip(
        (
            "animeDrawingVirtualHentai",
            "potentialMeme",
            "viral",
            "possibleSelfProduction",
            "physicalHarm",
            "violenceGore",
            "bestiality",
            "liveStreaming",
            "infant",
            "generativeAi",
        ),
        FILE_ANNOTATIONS,
        strict=True,
    )
)

FILE_CHILDREN = frozenset(
    {
        "reportId",
        "fileId",
        "fileName",
        "originalFileName",
        "uploadedToEspTimestamp",
        "locationOfFile",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileRelevance",
        "potentialMeme",
        "fileAnnotations",
        "industryClassification",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
        "details",
        "additionalInfo",
    }
)
FILE_SINGLES = FILE_CHILDREN - {
    "originalFileHash",
    "ipCaptureEvent",
    "deviceId",
    "details",
    "additionalInfo",
}
"""Children the XSD allows once and the parser reads the first of (``ipCaptureEvent``:
the XSD allows one, but every one given is read)."""


@dataclass(frozen=True)
class FileDoc:
    """One parsed ``<fileDetails>``: the report it belongs to, its file id and metadata."""

    report_id: str
    file_id: str
    fields: dict[str, Any]


def media_kind(root: ET.Element) -> MediaKind:
    """Image, video or other from the file names' extension (the names are dropped).

    ``originalFileName`` first, then ``fileName`` when the first says nothing (a CDN's
    ``blob``). A name may be a URL (some clients put the file's URL there): its query and
    fragment are not part of the extension.
    """
    names = [text(child(root, "originalFileName")), text(child(root, "fileName"))]
    names = [name for name in names if name]
    if not names:
        return MediaKind.UNKNOWN
    for name in names:
        path = name.split("?", 1)[0].split("#", 1)[0]
        extension = PurePosixPath(path).suffix.lower().lstrip(".")
        if extension in IMAGE_EXT:
            return MediaKind.IMAGE
        if extension in VIDEO_EXT:
            return MediaKind.VIDEO
    return MediaKind.OTHER


def read_file_annotations(ctx: Context, root: ET.Element) -> dict[str, bool]:
    """The ten file tags, plus the legacy top-level ``potentialMeme`` boolean."""
    tags = dict.fromkeys(FILE_ANNOTATIONS, False)
    legacy = boolean(ctx, child(root, "potentialMeme"), f"{ROOT}/potentialMeme")
    tags["potential_meme"] = bool(legacy)
    container = child(root, "fileAnnotations")
    if container is None:
        return tags
    path = f"{ROOT}/fileAnnotations"
    found = list(children(container))
    if not found:
        ctx.warn("empty_container", path, "empty <fileAnnotations/>; no tags set")
    for element in found:
        name = local(element.tag)
        if name in FILE_TAGS:
            tags[FILE_TAGS[name]] = presence_flag(ctx, element, f"{path}/{name}")
        else:
            ctx.warn("unknown_annotation", f"{path}/{name}", "not in the XSD; ignored")
    return tags


def _enum(ctx: Context, root: ET.Element, name: str, kind: type[Any]) -> Any:
    raw = text(child(root, name))
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(repr(v.value) for v in kind)
        ctx.warn(
            "invalid_value", f"{ROOT}/{name}", f"expected one of {allowed}; ignored"
        )
        return None


def _collect_identifiers(root: ET.Element, bag: RawBag) -> bool:
    """Collect hash values, the upload IP and device ids; say whether an upload IP exists."""
    bag.file_hashes += [text(h) for h in children(root, "originalFileHash") if text(h)]
    for details in children(root, "details"):
        if details.get("type") == "HASH":
            bag.file_hashes += [
                text(child(p, "value")) for p in children(details, "nameValuePair")
            ]
    events = [
        e for e in children(root, "ipCaptureEvent") if text(child(e, "ipAddress"))
    ]
    bag.ips += [text(child(e, "ipAddress")) for e in events]
    bag.devices += [
        text(child(d, "idValue"))
        for d in children(root, "deviceId")
        if text(child(d, "idValue"))
    ]
    return bool(events)


def _required_id(root: ET.Element, name: str) -> str:
    value = text(child(root, name))
    if not value:
        raise XmlIntakeError(
            "missing_element", f"{ROOT}/{name}", "required element is missing or empty"
        )
    return value


def read_file_details(ctx: Context, root: ET.Element, bag: RawBag) -> FileDoc:
    """Read a ``<fileDetails>`` root element."""
    warn_unknown(ctx, root, FILE_CHILDREN, ROOT)
    warn_repeated(ctx, root, FILE_SINGLES, ROOT)
    report_id = report_number(_required_id(root, "reportId"))
    if report_id is None:
        raise XmlIntakeError(
            "invalid_value", f"{ROOT}/reportId", "expected a report number (xs:long)"
        )
    file_id = " ".join(
        _required_id(root, "fileId").split()
    )  # xs:token: spaces collapse
    fields = {
        "media_kind": media_kind(root),
        "viewed_by_esp": boolean(
            ctx, child(root, "fileViewedByEsp"), f"{ROOT}/fileViewedByEsp"
        ),
        "exif_viewed_by_esp": boolean(
            ctx, child(root, "exifViewedByEsp"), f"{ROOT}/exifViewedByEsp"
        ),
        "publicly_available": boolean(
            ctx, child(root, "publiclyAvailable"), f"{ROOT}/publiclyAvailable"
        ),
        "relevance": _enum(ctx, root, "fileRelevance", FileRelevance)
        or FileRelevance.REPORTED,
        "annotations": read_file_annotations(ctx, root),
        "industry_classification": _enum(
            ctx, root, "industryClassification", IndustryClass
        ),
        "upload_ip": _collect_identifiers(root, bag),
    }
    return FileDoc(report_id=report_id, file_id=file_id, fields=fields)
