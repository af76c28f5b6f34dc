"""The rooms keep their import rules, and importing any module does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = {
    "features": {"features"},
    "training": {"features", "training"},
    "serving": {"features", "serving", "training"},
}
OURS = {"features", "training", "serving", "tipscore"}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("room", sorted(RULES))
def test_rooms_import_only_what_the_architecture_allows(room: str) -> None:
    for path in (ROOT / room).rglob("*.py"):
        extra = imported_packages(path) - RULES[room]
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_serving_uses_only_trainings_model_loading() -> None:
    for path in (ROOT / "serving").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "training"
            ):
                assert node.module == "training.registry", path


PROBE = """
import sys, importlib, pkgutil
import numpy, pandas, pydantic, pydantic_settings, typer, defusedxml, lxml, tqdm
import pyarrow.parquet, pyarrow.compute, lightgbm, mlflow, mlflow.pyfunc, mlflow.models
import mlflow.tracking, mlflow.types, sklearn.metrics, sklearn.isotonic, sklearn.linear_model
import sklearn.compose, sklearn.pipeline, sklearn.preprocessing
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and not args[0].endswith((".py", ".pyc", ".so")):
        if "site-packages" not in args[0] and "/lib/python" not in args[0]:
            opened.append(args[0])
    if event in ("socket.connect", "subprocess.Popen", "os.mkdir"):
        opened.append(event)
sys.addaudithook(hook)
for package in ("features", "training", "serving", "tipscore"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
print("OPENED", opened)
"""


def test_importing_every_module_does_no_io(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "OPENED []" in result.stdout, result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


MLFLOW_HOME = ROOT / "training" / "registry"
"""The one place that talks to MLflow: ``training/registry`` (a package, or one module)."""


def imports_mlflow(path: Path) -> bool:
    """Whether the file imports ``mlflow`` or one of its modules, anywhere in it."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "mlflow" for alias in node.names
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] == "mlflow"
        ):
            return True
    return False


def test_only_the_registry_imports_mlflow() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for room in sorted(OURS)
        for path in (ROOT / room).rglob("*.py")
        if imports_mlflow(path)
        and path != MLFLOW_HOME.with_suffix(".py")
        and MLFLOW_HOME not in path.parents
    ]
    assert not offenders, f"only training/registry may import mlflow: {offenders}"


@pytest.mark.parametrize(
    "source",
    ["import mlflow", "import mlflow.pyfunc as p", "from mlflow.tracking import X"],
)
def test_the_mlflow_check_sees_every_import_form(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(f"def f():\n    {source}\n")
    assert imports_mlflow(path)
    path.write_text("import mlflowish\nfrom tipscore import mlflow\n")
    assert not imports_mlflow(path)
