"""Names, tags, security and version of the OpenAPI document, as clients will see them.

Intake systems generate clients from ``/docs.json``: an operation id becomes a function,
a tag a module, a component a class. BentoML names them after its internals
(``tipscore__score_xml``, the tag "Service APIs" → ``service_ap_is``, inline schemas titled
``ScoreResponseIODescriptor``), which would change with BentoML and leak into every
client. Here they get short stable names: operations ``score``, ``scoreBatch``,
``scoreXml``…, request bodies ``ScoreRequest``…, responses the models' own names
(``ScoreResponse``, ``BatchResponse``), every ``$ref`` pointing at them. The document also
declares the bearer key (so Swagger's Authorize button works) on each operation that needs
one, with the roles that may use it, and carries the package's version.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from serving.auth import ANALYST_ROUTES, ROLES_BY_PATH

SECURITY_SCHEME = "bearerKey"
SUMMARY_MAX = 90
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key made with `tipscore keys add ROLE`, sent as "
    "`Authorization: Bearer <key>`.",
}
OPERATION_IDS = {
    ("/score", "post"): "score",
    ("/score_batch", "post"): "scoreBatch",
    ("/score_xml", "post"): "scoreXml",
    ("/queue", "post"): "queue",
    ("/report", "post"): "report",
    ("/decide", "post"): "decide",
    ("/model_card", "get"): "getModelCard",
    ("/model_card", "post"): "postModelCard",
    ("/admin/reload", "post"): "reload",
}
"""Stable operation ids; other operations get theirs from the path (``/livez`` → ``livez``)."""
TAGS = {
    "scoring": "Score reports: what intake systems call.",
    "analyst": "The queue, report views, decisions and the model card.",
    "admin": "Operating the service.",
    "infrastructure": "Health and metrics (no key).",
}
DESCRIPTION = """\
Suggested priorities with reasons for CyberTipline-style tip reports, from report \
metadata only. An analyst decides; nothing is acted on automatically.

Every route but the health and metrics routes needs an API key: press **Authorize** and \
paste the key (made with `tipscore keys add ROLE`). Each operation says which roles may \
use it.
"""


def package_version() -> str:
    """The installed ``tipscore`` version (what ``info.version`` carries)."""
    try:
        return version("tipscore")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def describe(spec: dict[str, Any]) -> None:
    """Our own title, version and description (BentoML's has third-party badge images)."""
    spec["info"] = {
        "title": "tipscore",
        "version": package_version(),
        "description": DESCRIPTION,
    }
    spec["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]


def operation_id(path: str, method: str, methods: int) -> str:
    """The stable id of an operation; camelCase from the path for unlisted ones."""
    known = OPERATION_IDS.get((path, method))
    if known:
        return known
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w]
    if methods > 1:
        words = [method, *words]
    return words[0].lower() + "".join(w.capitalize() for w in words[1:])


def _roles(path: str, method: str) -> frozenset[str] | None:
    """The roles that may call an operation; None if it needs no key."""
    if path in ROLES_BY_PATH:
        return frozenset(role.value for role in ROLES_BY_PATH[path])
    methods, roles = ANALYST_ROUTES.get(path, (frozenset(), frozenset()))
    if method.upper() in methods:
        return frozenset(role.value for role in roles)
    return None


def _tag(path: str, needs_key: bool) -> str:
    """The tag (a module of a generated client) an operation is listed under."""
    if path in ROLES_BY_PATH:
        return "scoring"
    if not needs_key:
        return "infrastructure"
    return "admin" if path.startswith("/admin/") else "analyst"


def name_operations(spec: dict[str, Any]) -> None:
    """Operation ids, tags, and the bearer key on every operation that needs one."""
    components = spec.setdefault("components", {})
    components["securitySchemes"] = {SECURITY_SCHEME: BEARER}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            operation["operationId"] = operation_id(path, method, len(operations))
            roles = _roles(path, method)
            operation["tags"] = [_tag(path, roles is not None)]
            _describe(operation, roles)


def _describe(operation: dict[str, Any], roles: frozenset[str] | None) -> None:
    """The docstring as Markdown (dedented), a short first line as summary, the roles.

    FastAPI would title an operation after its function ("Model Card Get") and BentoML's
    indented docstrings would show as code blocks.
    """
    text = inspect.cleandoc(str(operation.get("description", "")))
    first = text.splitlines()[0].rstrip(".") if text else ""
    if first and len(first) <= SUMMARY_MAX:
        operation["summary"] = first
    if roles is None:
        operation["security"] = []
    else:
        operation["security"] = [{SECURITY_SCHEME: []}]
        allowed = ", ".join(f"`{role}`" for role in sorted(roles))
        text = f"{text}\n\nKey roles: {allowed}.".lstrip()
    if text:
        operation["description"] = text
