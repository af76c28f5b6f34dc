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
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):  # import training.fit
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] == "training":
                    assert name.startswith("training.registry"), (path, name)


NO_IO_MODULES = {
    "sqlite3",
    "os",
    "shutil",
    "tempfile",
    "socket",
    "subprocess",
    "glob",
    "urllib",
    "http",
    "httpx",
    "requests",
    "pydantic_settings",  # settings read the environment and .env: entry points do that
}
NO_IO_CALLS = {
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "mkdir",
    "makedirs",
    "touch",
    "unlink",
    "rmdir",
    "iterdir",
    "read_parquet",
    "read_csv",
    "to_parquet",
    "to_csv",
    "read_table",
    "write_table",
    "read_json",
    "to_json",
    "read_feather",
    "ParquetFile",
    "load",  # json.load, np.load, pickle.load (json.loads of a string is fine)
    "dump",
    "save",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "glob",
    "rglob",
    "import_module",  # a module named at run time could be anything
}


def io_in(path: Path) -> list[str]:
    """What in a module could touch files, sockets or processes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        found += [
            f"line {node.lineno}: imports {m}"
            for m in modules
            if m.split(".")[0] in NO_IO_MODULES
        ]
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.Name) and func.id == "open":
                name = "open"
            if (  # etree.parse / ET.parse read a file (fromstring does not)
                name == "parse"
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in {"etree", "ET"}
            ):
                name = f"{func.value.id}.parse"
            if name in NO_IO_CALLS | {"open", "etree.parse", "ET.parse"}:
                found.append(f"line {node.lineno}: calls {name}()")
    return found


def test_features_do_no_io() -> None:
    """features/ is the pure contract: callers read files, stores and settings."""
    found = {
        str(path.relative_to(ROOT)): io_in(path)
        for path in sorted((ROOT / "features").rglob("*.py"))
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_the_io_check_finds_io(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom sqlite3 import connect\nfrom pathlib import Path\n"
        "open('x')\nPath('y').read_bytes()\nPath('z').mkdir()\netree.parse('s.xsd')\n"
    )
    assert io_in(module) == [
        "line 1: imports os",
        "line 2: imports sqlite3",
        "line 4: calls open()",
        "line 5: calls read_bytes()",
        "line 6: calls mkdir()",
        "line 7: calls etree.parse()",
    ]


PROBE = """
import sys, importlib, pkgutil
import numpy, pandas, pydantic, pydantic_settings, typer, defusedxml, lxml, tqdm
import pyarrow.parquet, pyarrow.compute, lightgbm, mlflow, mlflow.pyfunc, mlflow.models
import mlflow.tracking, mlflow.types, sklearn.metrics, sklearn.isotonic, sklearn.linear_model
import sklearn.compose, sklearn.pipeline, sklearn.preprocessing
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and not args[0].endswith((".py", ".pyc", ".so")):
        if "site-packages" not in args[0] and "/lib/python" not in args[0] and not args[0].startswith("__editable__"):  # the last: setuptools' editable path hook, no file
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
