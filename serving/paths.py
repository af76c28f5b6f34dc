"""Settings whose paths never depend on the working directory: the base of every settings class.

The service and the commands start in any folder (BentoML's workers in the project's), so a
path taken as given would name a different file in each. Here every path setting becomes
absolute once, when the settings are read:

- a relative value from the environment (``TIPSCORE_*``) or from ``ServingSettings(...)``
  is taken against the working directory at that moment;
- a relative value from the home's ``.env`` file is taken against the home (the file's
  folder), wherever the command runs;
- the defaults live under the home (``home.project_home()``): ``HOME/state`` and what the
  state folder holds.

The ``.env`` file is read from the home only (``HOME/.env``), never from the working
directory.
"""

from __future__ import annotations

import json
import os
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from home import STATE_DIR_NAME, absolute, project_home

ENV_PREFIX = "TIPSCORE_"


def default_state_dir() -> Path:
    """``HOME/state``: the state folder when ``TIPSCORE_STATE_DIR`` is not set."""
    return project_home().path / STATE_DIR_NAME


def env_file() -> Path:
    """The one ``.env`` file the settings read: ``HOME/.env``."""
    return project_home().path / ".env"


def is_path(annotation: Any) -> bool:
    """Whether a field holds a path (``Path`` or ``Path | None``)."""
    if annotation is Path:
        return True
    union = get_origin(annotation) in (Union, types.UnionType)
    return union and Path in get_args(annotation)


class _HomeDotEnv(DotEnvSettingsSource):
    """``HOME/.env``, with relative paths in it taken against the home."""

    def __init__(self, settings_cls: type[BaseSettings], home: Path) -> None:
        super().__init__(settings_cls, env_file=home / ".env")
        self.home = home

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        fields = self.settings_cls.model_fields
        for name, value in data.items():
            field = fields.get(name)
            if field is not None and is_path(field.annotation) and value:
                data[name] = str(absolute(str(value), self.home))
        return data


class HomeSettings(BaseSettings):
    """``TIPSCORE_*`` settings with every path absolute (see the module docstring)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``HOME/.env`` (not the working folder's)."""
        home_env = _HomeDotEnv(settings_cls, project_home().path)
        return init_settings, env_settings, home_env, file_secret_settings

    def as_environment(self) -> dict[str, str]:
        """These values as ``TIPSCORE_*`` variables (unset ones left out).

        ``tipscore serve`` reads the settings once and hands them to the service's worker
        this way, so the worker uses the very values the command checked (an environment
        variable wins over any ``.env`` the worker could read).
        """
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                env[f"{ENV_PREFIX}{name.upper()}"] = _env_text(value)
        return env

    @field_validator("*", mode="after")
    @classmethod
    def _absolute(cls, value: Any) -> Any:
        """A path made absolute against the working directory now (given once)."""
        return absolute(value) if isinstance(value, Path) else value


def _env_text(value: Any) -> str:
    """A setting as the environment spells it, so the worker reads back the same value.

    Booleans in lower case; lists and maps as JSON (how pydantic-settings reads complex
    values); the rest as text.
    """
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return json.dumps(items if not isinstance(items, tuple) else list(items))
    return str(value)


def origin(settings: type[BaseSettings], field: str) -> str | None:
    """Where a setting's value came from: the environment, ``HOME/.env``, or None (default)."""
    name = f"{ENV_PREFIX}{field}".upper()
    if any(key.upper() == name for key in os.environ):
        return f"environment ({name})"
    source = DotEnvSettingsSource(settings, env_file=env_file())
    if field in source():
        return f"{env_file()} ({name})"
    return None
