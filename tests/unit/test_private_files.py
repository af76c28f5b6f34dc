"""Secrets on a read-only mount are read as they are (an outside operator test, session 9).

deployment.md offers a shared read-only mount for the keys file and the HMAC secret (its
docker example mounts ``/run/secrets:ro``); Kubernetes mounts secrets 0644. Narrowing such
a file to 0600 raised EROFS: every keyed request failed with a 500, and the worker
crash-looped on the HMAC key.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from serving.keys import KeyStore, Role
from serving.private import private_files


def test_a_wide_file_on_a_read_only_mount_is_left_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys_file = tmp_path / "keys.json"
    key, _ = KeyStore(keys_file).add(Role.INTAKE, "intake")
    keys_file.chmod(0o644)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "chmod", _erofs)
        with caplog.at_level(logging.WARNING):
            private_files([keys_file])
            assert KeyStore(keys_file).verify(key) is not None
    assert "read-only file system" in caplog.text


def test_other_os_errors_still_raise(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o644)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "chmod", _eio)
        with pytest.raises(OSError, match="I/O"):
            private_files([path])


def _erofs(path: object, mode: int, **_: object) -> None:
    raise OSError(errno.EROFS, "Read-only file system", str(path))


def _eio(path: object, mode: int, **_: object) -> None:
    raise OSError(errno.EIO, "I/O error", str(path))
