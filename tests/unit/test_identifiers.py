"""Identifiers become keyed hashes: normalised, separated by kind, under a local secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from features.identifiers import (
    IdentifierHasher,
    SecretError,
    to_contract,
)
from features.schema import ReportSubmission
from serving.intake import IntakeSettings, intake_hasher, load_or_create_key


def test_spellings_of_one_identifier_link(hasher: IdentifierHasher) -> None:
    assert hasher.hash("email", " Someone@Example.ORG ") == hasher.hash(
        "email", "someone@example.org"
    )
    assert hasher.hash("ip", "2001:db8:0:0::1") == hasher.hash("ip", "2001:db8::1")
    assert hasher.hash("phone", "+1 (555) 010-0199") == hasher.hash(
        "phone", "15550100199"
    )


def test_kinds_and_scopes_do_not_collide(hasher: IdentifierHasher) -> None:
    assert hasher.hash("account", "12345") != hasher.hash("device", "12345")
    assert hasher.hash("account", "12345", "discord") != hasher.hash(
        "account", "12345", "kik"
    )


def test_another_secret_gives_other_hashes(hasher: IdentifierHasher) -> None:
    other = IdentifierHasher(b"another-secret-key-0123456789ab")
    assert hasher.hash("email", "a@b.c") != other.hash("email", "a@b.c")


def test_short_secret_is_refused() -> None:
    with pytest.raises(SecretError, match="at least 16 bytes"):
        IdentifierHasher(b"short")


def test_hasher_repr_hides_the_key(hasher: IdentifierHasher) -> None:
    assert "test-secret" not in repr(hasher)


def test_secret_is_created_once_private_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "state" / "hmac.key"
    first = load_or_create_key(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert str(key_file) in caplog.text
    assert load_or_create_key(key_file) == first
    assert len(first) == 32


def test_unreadable_secret_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "hmac.key"
    key_file.write_text("not hex")
    with pytest.raises(SecretError, match="expected hex text"):
        load_or_create_key(key_file)


def test_settings_put_the_secret_in_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "st"))
    intake_hasher(IntakeSettings())
    assert (tmp_path / "st" / "hmac.key").is_file()


def test_submission_becomes_contract_with_hashes_only(hasher: IdentifierHasher) -> None:
    submission = ReportSubmission.model_validate(
        {
            "report_id": "9",
            "incident_type": "Child Sex Tourism",
            "incident_at": "2024-01-01T00:00:00Z",
            "received_at": "2024-01-02T00:00:00Z",
            "esp": "Kik",
            "identifiers": {
                "accounts": ["user-77"],
                "emails": ["Someone@Example.org", "someone@example.org"],
                "ips": ["203.0.113.9"],
            },
        }
    )
    report = to_contract(submission, hasher)
    dumped = report.model_dump_json()
    assert (
        "user-77" not in dumped
        and "xample" not in dumped
        and "203.0.113.9" not in dumped
    )
    assert len(report.linkage.emails) == 1
    assert report.linkage.accounts == [hasher.hash("account", "user-77", "kik")]
