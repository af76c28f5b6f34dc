"""One loader for every TOML config file: read, validate into a pydantic model, report all errors.

Why one loader: the experiment, generator and audit configs each had their own, and each
stopped at the first problem, so a file with three mistakes took three runs to fix. Here the
message names the file and every problem pydantic found, each as the dotted key, what was
expected and what arrived, e.g.::

    training/configs/baseline.toml: 2 problems
      model.num_leaf: Extra inputs are not permitted (got 4)
      calibration.method: Input should be 'isotonic' or 'none' (got "platt")

A cross-field check of a section (a pydantic ``model_validator``) runs only once that
section's own keys are valid: pydantic cannot judge a sum of two fields it could not read.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Model = TypeVar("Model", bound=BaseModel)
SHOWN_INPUT_CHARS = 60
"""How much of a wrong value the message repeats (a whole table would drown the line)."""


class ConfigFileError(ValueError):
    """A config file that cannot be used; the message names the file and every bad key.

    ``problems`` holds one line per problem (``key: what was expected (got value)``), for
    callers and tests that want them one by one.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def _shown(value: Any) -> str:
    """The value that arrived, written as TOML would (strings quoted), cut to a length."""
    text = json.dumps(value, default=str)
    if len(text) > SHOWN_INPUT_CHARS:
        text = text[: SHOWN_INPUT_CHARS - 3] + "..."
    return text


def describe(error: ErrorDetails) -> str:
    """One pydantic error as ``dotted.key: what was expected (got value)``.

    The value is left out where it says nothing: a missing key has none, and a section's
    cross-field check would repeat the whole table.
    """
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing" or (
        error["type"] == "value_error" and isinstance(error["input"], dict | list)
    ):
        return f"{key}: {message}"
    return f"{key}: {message} (got {_shown(error['input'])})"


def problems_of(exc: ValidationError) -> list[str]:
    """Every error of a validation, one line each, in pydantic's order."""
    return [describe(error) for error in exc.errors()]


def load_toml_model(
    path: Path,
    model: type[Model],
    error: type[ConfigFileError] = ConfigFileError,
    what: str = "config",
) -> tuple[Model, str]:
    """Read the TOML file at ``path`` and validate it into ``model``; also return its text.

    Raises:
        error: the file cannot be read (``cannot read {what} {path}: ...``), is not TOML
            (a parser stops at its first mistake, so that one), or fails validation
            (every problem, see the module docstring).
    """
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(raw), text
    except ValidationError as exc:
        problems = problems_of(exc)
        if len(problems) == 1:
            raise error(f"{path}: {problems[0]}", problems) from exc
        listing = "\n".join(f"  {line}" for line in problems)
        raise error(f"{path}: {len(problems)} problems\n{listing}", problems) from exc
