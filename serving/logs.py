"""Keep request contents out of the logs.

BentoML logs every rejected request with its traceback, and a pydantic ``ValidationError``
carries a piece of the input (``input_value=...``) — which may be a raw email address or
account name before it was hashed. This filter drops the traceback of client errors (the
4xx answer already names the field and the problem) and keeps it for server errors.
"""

from __future__ import annotations

import logging

from bentoml.exceptions import BentoMLException
from pydantic import ValidationError

BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"


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


def install() -> None:
    """Attach the filter to BentoML's HTTP logger (idempotent)."""
    target = logging.getLogger(BENTOML_HTTP_LOGGER)
    if not any(isinstance(f, NoClientInput) for f in target.filters):
        target.addFilter(NoClientInput())
