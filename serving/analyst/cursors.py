"""Paging cursors sealed (AES-GCM) so an analyst key cannot read what they hold.

Why: a queue cursor is the position of a page's last row — its suggested priority,
probability and report id — and the case list's holds a case's priority. Under blind
review an analyst key sees neither for an undecided blind report, yet base64-decoding its
``next_cursor`` gave both exactly (an outside security test, session 9). The positions stay
as ``serving.state.queue`` and ``serving.state.case_views`` write them; the analyst routes
seal each cursor they give out and open each one sent back. A cursor that does not open
(altered, from another secret, not a cursor) is refused as one not given out here. The key
is derived from the HMAC secret, which every replica shares, so any replica opens a cursor
another gave out.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from features.identifiers import IdentifierHasher

PURPOSE = "analyst page cursor v1"
NONCE_BYTES = 12
NOT_GIVEN_OUT = "cursor: not a cursor this service gave out"


class CursorSeal:
    """Seals and opens paging cursors with a key derived from the HMAC secret."""

    def __init__(self, hasher: IdentifierHasher) -> None:
        self._aead = AESGCM(hasher.derived_key(PURPOSE))

    def seal(self, cursor: str | None) -> str | None:
        """The cursor as the caller gets it (None stays None: the last page)."""
        if cursor is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, cursor.encode(), PURPOSE.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str | None) -> str | None:
        """The cursor a caller sent back (``ValueError`` for one not sealed here)."""
        if token is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], PURPOSE.encode()
            )
            return plain.decode()
        except (ValueError, InvalidTag, UnicodeError):
            raise ValueError(NOT_GIVEN_OUT) from None
