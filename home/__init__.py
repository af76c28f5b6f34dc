"""Where tipscore keeps its files: one home folder, never the working directory.

Why a package of its own: the service's state (``serving``) and the MLflow store
(``training.registry``) both live under the home, and neither room may import the other.
This leaf imports nothing of ours, so every room may ask it; it reads the environment and
looks for one file only when called, never at import.

The rule (docs/architecture.md, "Where state lives"):

1. ``TIPSCORE_HOME``, if set (``tipscore --home`` sets it). A relative value is taken
   against the working directory of the process that reads it, and made absolute;
   ``tipscore serve`` hands the service absolute values only.
2. Else the source checkout the code runs from: the folder holding ``pyproject.toml``
   beside the packages (a clone, an editable install, or a Bento, which ships
   ``pyproject.toml``). ``make demo``, ``make test`` and the service all land here, from
   whatever folder they are started.
3. Else (an installed wheel, where the code sits in site-packages) the user's data folder:
   ``$XDG_DATA_HOME/tipscore``, by default ``~/.local/share/tipscore``.

Under the home: ``state/`` (the HMAC secret, the API keys' hashes, ``reports.db``),
``mlruns/mlflow.db`` (the MLflow store) and an optional ``.env``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_VARIABLE = "TIPSCORE_HOME"
"""The environment variable naming the home."""

STATE_DIR_NAME = "state"
"""The state folder's name under the home (``TIPSCORE_STATE_DIR`` overrides it)."""

MLFLOW_DB = Path("mlruns") / "mlflow.db"
"""The MLflow store's file under the home (``MLFLOW_TRACKING_URI`` overrides it)."""


@dataclass(frozen=True)
class Home:
    """The home folder (absolute) and, in words, how it was chosen."""

    path: Path
    source: str


def absolute(value: str | os.PathLike[str], base: Path | None = None) -> Path:
    """``value`` as an absolute, normalised path: ``~`` expanded, a relative one under ``base``.

    ``base`` defaults to the working directory *now*: a relative value is resolved once,
    when it is given, so a later change of directory (BentoML's workers start in the
    project folder) cannot move it. Symlinks are kept as they are.
    """
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return Path(os.path.normpath(path))


def source_checkout() -> Path | None:
    """The source checkout this code runs from, if it runs from one (else None)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def user_data_home() -> Path:
    """``$XDG_DATA_HOME/tipscore``, else ``~/.local/share/tipscore`` (an installed wheel)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return absolute(base) / "tipscore"


def project_home() -> Home:
    """The home, by the rule in this module's docstring."""
    given = os.environ.get(HOME_VARIABLE)
    if given:
        return Home(absolute(given), f"environment ({HOME_VARIABLE})")
    checkout = source_checkout()
    if checkout is not None:
        return Home(checkout, "default: the source checkout (where pyproject.toml is)")
    return Home(user_data_home(), "default: the user's data folder (installed package)")
