"""Intake settings and the files they name: the HMAC secret and the XSD.

Settings come from ``TIPSCORE_*`` environment variables (and the home's ``.env`` file) only
when an entry point builds ``IntakeSettings()`` — never at import; their paths are absolute
(``serving.paths``). Here, not in ``features``: the
contract, the hasher and the XML parser stay pure (they take the secret and the XSD as
bytes); the entry points (the service, ``tipscore parse``) read the files where these
settings say they are, with the functions below.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field

from features.identifiers import (
    KEY_BYTES,
    MIN_KEY_BYTES,
    IdentifierHasher,
    SecretError,
)
from features.xml.safe import XmlIntakeError, Xsd
from serving.paths import HomeSettings, default_state_dir
from serving.private import private_dir, private_files

logger = logging.getLogger(__name__)


class IntakeSettings(HomeSettings):
    """Settings of the intake boundary (parsers and identifier hashing).

    Attributes:
        state_dir: local, git-ignored folder for the secret, key hashes and stores;
            default ``HOME/state`` (``home.project_home()``).
        hmac_key_file: file holding the HMAC secret as hex; default ``state_dir/hmac.key``,
            created on first use.
        xml_max_bytes: size cap of one XML document, checked before parsing.
        xml_max_depth: deepest element nesting accepted.
        xml_max_elements: most elements accepted in one document.
        xsd_path: the CyberTipline XSD for strict validation (optional).
        esp_names: ESPs registered here, kept by name beside those the model knows
            (``features.platforms``; a JSON list, ``TIPSCORE_ESP_NAMES``); any other
            ESP name is kept as ``other``.
    """

    state_dir: Path = Field(default_factory=default_state_dir)
    hmac_key_file: Path | None = None
    xml_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    xml_max_depth: int = Field(default=32, ge=4, le=1000)
    xml_max_elements: int = Field(default=50_000, ge=10, le=10_000_000)
    xsd_path: Path | None = None
    esp_names: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list, max_length=100_000
    )

    @property
    def key_file(self) -> Path:
        """The HMAC secret's file."""
        return self.hmac_key_file or self.state_dir / "hmac.key"


def load_or_create_key(key_file: Path) -> bytes:
    """Read the HMAC secret from ``key_file``, creating it (mode 0600) if it is absent.

    Creation is logged with the path, so an operator learns where the secret lives and can
    back it up: losing it breaks linkage with every earlier report.
    """
    if key_file.exists():
        private_files([key_file])
        key = key_file.read_bytes().strip()
        try:
            raw = bytes.fromhex(key.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SecretError(
                f"HMAC secret file {key_file}: expected hex text"
            ) from exc
        if len(raw) < MIN_KEY_BYTES:
            raise SecretError(
                f"HMAC secret file {key_file}: expected at least {MIN_KEY_BYTES} bytes "
                f"of hex, got {len(raw)}"
            )
        return raw
    private_dir(key_file.parent)
    raw = secrets.token_bytes(KEY_BYTES)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    logger.warning(
        "created a new HMAC secret at %s; keep it safe and back it up: "
        "identifier hashes made with another secret will not link",
        key_file,
    )
    return raw


def intake_hasher(settings: IntakeSettings) -> IdentifierHasher:
    """A hasher with the secret from the settings' key file (created on first use)."""
    return IdentifierHasher(load_or_create_key(settings.key_file))


def load_xsd(path: Path) -> Xsd:
    """The XSD for strict validation (``XmlIntakeError`` ``xsd_unusable`` if unreadable)."""
    try:
        return Xsd(path.read_bytes(), str(path))
    except OSError as exc:
        raise XmlIntakeError(
            "xsd_unusable", "/", f"cannot load the XSD at {path}: {exc}"
        ) from exc
