"""Intake settings: where local state lives, the HMAC secret, XML limits and the XSD.

Read from ``TIPSCORE_*`` environment variables (and a ``.env`` file) only when an entry point
builds ``IntakeSettings()`` — never at import.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from features.identifiers import IdentifierHasher, load_or_create_key

DEFAULT_STATE_DIR = Path("state")


class IntakeSettings(BaseSettings):
    """Settings of the intake boundary (parsers and identifier hashing).

    Attributes:
        state_dir: local, git-ignored folder for the secret, key hashes and stores.
        hmac_key_file: file holding the HMAC secret as hex; default ``state_dir/hmac.key``,
            created on first use.
        xml_max_bytes: size cap of one XML document, checked before parsing.
        xml_max_depth: deepest element nesting accepted.
        xml_max_elements: most elements accepted in one document.
        xsd_path: the CyberTipline XSD for strict validation (optional).
    """

    model_config = SettingsConfigDict(
        env_prefix="TIPSCORE_", env_file=".env", extra="ignore", frozen=True
    )

    state_dir: Path = DEFAULT_STATE_DIR
    hmac_key_file: Path | None = None
    xml_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    xml_max_depth: int = Field(default=32, ge=4, le=1000)
    xml_max_elements: int = Field(default=50_000, ge=10, le=10_000_000)
    xsd_path: Path | None = None

    @property
    def key_file(self) -> Path:
        """The HMAC secret's file."""
        return self.hmac_key_file or self.state_dir / "hmac.key"

    def hasher(self) -> IdentifierHasher:
        """Load (or create on first use) the secret and return a hasher with it."""
        return IdentifierHasher(load_or_create_key(self.key_file))
