"""Keep request contents out of the logs.

BentoML logs every rejected request with its traceback, and a pydantic ``ValidationError``
carries a piece of the input (``input_value=...``) — which may be a raw email address or
account name before it was hashed. This filter drops the traceback of client errors (the
4xx answer already names the field and the problem) and keeps it for server errors.

BentoML's access log (``bentoml.access``) writes each request's path and Content-Type as
sent, and anyone can send ``GET /jdoe@example.org/198.51.100.7`` (an outside security
test did: the path reached the log before the 401). ``KnownPathsOnly`` rewrites those
lines as the ``access`` table keeps them: a path that is one of the service's routes as
itself, any other as ``(unmatched)``; a Content-Type as its media type, if it is one
the API takes (``LOGGED_TYPES``), else ``(other)``; a client address that is no IP
address (``X-Forwarded-For`` text) as ``(unparsed)``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Collection

from bentoml.exceptions import BentoMLException
from pydantic import ValidationError

BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"
BENTOML_ACCESS_LOGGER = "bentoml.access"
UNMATCHED = "(unmatched)"
_REQUEST = re.compile(
    r"scheme=(?P<scheme>\w*),method=(?P<method>\w*),path=(?P<rest>.*)", re.S
)
_MEDIA_TYPE = re.compile(r"[\w.+-]{1,64}/[\w.+-]{1,64}")
LOGGED_TYPES = frozenset(
    {"application/json", "application/xml", "text/xml", "multipart/form-data"}
    | {"text/plain", "application/x-www-form-urlencoded", "application/octet-stream"}
)
"""Content-Types named in the log as sent (lower-cased); any other is ``(other)``: a
subtype is the sender's text, and could spell an account name."""
_LENGTH = re.compile(r",length=(\d{1,19})$")


class NoClientInput(logging.Filter):
    """Strip tracebacks (and their input excerpts) of rejected requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite client-error records; never drop a record."""
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            client = isinstance(error, ValidationError) or (
                isinstance(error, BentoMLException) and int(error.error_code) < 500
            )
            if client:
                record.msg = f"{record.getMessage()}: rejected ({type(error).__name__})"
                record.args = ()
                record.exc_info = None
                record.exc_text = None
        return True


def client_address(text: str) -> str:
    """``host:port`` as logged when the host is an IP address, else ``(unparsed):port``.

    uvicorn takes the client's address from ``X-Forwarded-For`` when the connection comes
    from a trusted proxy (127.0.0.1 by default), as the header says it: ``X-Forwarded-For:
    +1 555 701 9999`` put a phone number in the access log (an outside security test,
    session 9).
    """
    if text == "_":  # BentoML's "no client"
        return text
    host, _, port = text.rpartition(":")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"(unparsed):{port if port.isdigit() else ''}"
    return text


class KnownPathsOnly(logging.Filter):
    """Rewrite BentoML's access-log lines so no path or header value is kept as sent."""

    def __init__(self, routes: Collection[str], prefixes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.routes, self.prefixes = frozenset(routes), prefixes

    def path(self, path: str) -> str:
        """A route as itself, a static prefix's file as the prefix, anything else unmatched."""
        if path in self.routes:
            return path
        prefix = next((p for p in self.prefixes if path.startswith(p)), None)
        return f"{prefix}…" if prefix else UNMATCHED

    def request(self, text: str) -> str:
        """``scheme=…,method=…,path=…[,type=…][,length=…]`` with its path and type tamed."""
        found = _REQUEST.fullmatch(text)
        if found is None:
            return "(request)"
        rest = found["rest"]
        length = _LENGTH.search(rest)
        rest = rest[: length.start()] if length else rest
        path, _, media = rest.partition(",type=")
        parts = [f"scheme={found['scheme']}", f"method={found['method']}"]
        parts.append(f"path={self.path(path)}")
        if media:
            kind = _MEDIA_TYPE.match(media.strip())
            named = kind.group().lower() if kind else ""
            parts.append(f"type={named if named in LOGGED_TYPES else '(other)'}")
        if length:
            parts.append(f"length={length.group(1)}")
        return ",".join(parts)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the request part (or a bare path argument); never drop a record."""
        if not isinstance(record.args, tuple):
            return True
        args = list(record.args)
        if (
            args
            and isinstance(args[0], str)
            and not args[0].startswith(("scheme=", "/"))
        ):
            args[0] = client_address(args[0])
        for index, value in enumerate(args):
            if isinstance(value, str) and value.startswith("scheme="):
                args[index] = self.request(value)
            elif isinstance(value, str) and value.startswith("/"):
                args[index] = self.path(value)
        record.args = tuple(args)
        return True


def install(routes: Collection[str] = (), prefixes: tuple[str, ...] = ()) -> None:
    """Attach the filters to BentoML's HTTP and access loggers (idempotent)."""
    target = logging.getLogger(BENTOML_HTTP_LOGGER)
    if not any(isinstance(f, NoClientInput) for f in target.filters):
        target.addFilter(NoClientInput())
    access = logging.getLogger(BENTOML_ACCESS_LOGGER)
    for old in [f for f in access.filters if isinstance(f, KnownPathsOnly)]:
        access.removeFilter(old)
    access.addFilter(KnownPathsOnly(routes, prefixes))
