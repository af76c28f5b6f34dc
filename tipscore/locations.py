"""Where every file tipscore reads or writes is, and why: ``tipscore info`` and ``serve``.

Why here: the locations come from three places — the home (``home``), the service's
settings (``serving``) and the MLflow store (``training.registry``) — and only the command
line may ask all three. The rule itself lives in ``home`` and ``serving.paths``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from home import HOME_VARIABLE, absolute, project_home
from serving.intake import IntakeSettings
from serving.paths import ENV_PREFIX, HomeSettings, env_file, is_path, origin
from serving.settings import ServingSettings


@dataclass(frozen=True)
class Location:
    """One resolved location: what it is, where, whether it is there, and why there."""

    name: str
    value: str
    exists: bool | None
    source: str

    def as_dict(self) -> dict[str, object]:
        """For ``tipscore info --json``."""
        return asdict(self)


def _path(name: str, path: Path | None, source: str) -> Location:
    if path is None:
        return Location(name, "(not set)", None, source)
    return Location(name, str(path), path.exists(), source)


def _source(
    cls: type[ServingSettings | IntakeSettings], field: str, default: str
) -> str:
    return origin(cls, field) or f"default: {default}"


def _state() -> list[Location]:
    """The state folder and what the service keeps in it."""
    serving, intake = ServingSettings(), IntakeSettings()
    return [
        _path(
            "state dir",
            serving.state_dir,
            _source(ServingSettings, "state_dir", "HOME/state"),
        ),
        _path(
            "keys file",
            serving.keys_path,
            _source(ServingSettings, "keys_file", "STATE_DIR/api_keys.json"),
        ),
        _path(
            "report store",
            serving.reports_path,
            _source(ServingSettings, "reports_db", "STATE_DIR/reports.db"),
        ),
        *_database(serving),
        _path(
            "HMAC secret",
            intake.key_file,
            _source(IntakeSettings, "hmac_key_file", "STATE_DIR/hmac.key"),
        ),
        _path(
            "XSD",
            intake.xsd_path,
            _source(IntakeSettings, "xsd_path", "none (parse --strict needs --xsd)"),
        ),
    ]


def _database(serving: ServingSettings) -> list[Location]:
    """The PostgreSQL state database, if one is set (issue 22), its password hidden."""
    from urllib.parse import urlsplit, urlunsplit

    if not serving.database_url:
        return []
    parts = urlsplit(serving.database_url)
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username}:***@{host}")
    source = _source(ServingSettings, "database_url", "unset")
    return [Location("state database", urlunsplit(parts), None, source)]


def _models() -> list[Location]:
    """The MLflow store, the model the service loads from it, and the packaged configs."""
    from training.config import DEFAULT_TRAIN_CONFIG
    from training.registry import store_path, tracking_uri_origin

    uri, uri_source = tracking_uri_origin()
    store = store_path(uri)
    model_source = _source(ServingSettings, "model_uri", "the registry's champion")
    return [
        Location(
            "MLflow store", uri, None if store is None else store.exists(), uri_source
        ),
        Location("model served", ServingSettings().model_uri, None, model_source),
        _path(
            "configs",
            DEFAULT_TRAIN_CONFIG.parent,
            "packaged with the code (train, audit and generator defaults)",
        ),
    ]


def locations(home_flag: bool = False) -> list[Location]:
    """Every location, resolved now (``home_flag``: the home came from ``--home``)."""
    home = project_home()
    how = f"flag (--home, sets {HOME_VARIABLE})" if home_flag else home.source
    return [
        Location("home", str(home.path), home.path.exists(), how),
        _path(".env file", env_file(), "read from the home only, if present"),
        *_state(),
        *_models(),
    ]


def serve_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the home and every path setting made absolute, for the service.

    BentoML starts its workers in the project folder: a relative ``TIPSCORE_STATE_DIR``
    or ``MLFLOW_TRACKING_URI`` would name another place there than where ``serve`` was
    typed. Pinned here, once, the workers see the same files as the command.
    """
    from training.registry import absolute_uri

    env = dict(environ)
    env[HOME_VARIABLE] = str(project_home().path)
    fields = {**IntakeSettings.model_fields, **ServingSettings.model_fields}
    for key, value in environ.items():
        name = key.upper().removeprefix(ENV_PREFIX).lower()
        known = key.upper().startswith(ENV_PREFIX) and name in fields
        if known and value and is_path(fields[name].annotation):
            env[key] = str(absolute(value))
    if env.get("MLFLOW_TRACKING_URI"):
        env["MLFLOW_TRACKING_URI"] = absolute_uri(env["MLFLOW_TRACKING_URI"])
    return env


def pinned_environment(
    env: Mapping[str, str], *settings: HomeSettings
) -> dict[str, str]:
    """``env`` with every value of ``settings`` set explicitly (``TIPSCORE_*``).

    ``tipscore serve`` reads its settings once and pins them here, so the worker does not
    read them again from another place (a ``.env``) and cannot differ from what the
    command checked, such as dev mode. Any spelling of a pinned name is replaced.
    """
    pinned = {k: v for one in settings for k, v in one.as_environment().items()}
    kept = {k: v for k, v in env.items() if k.upper() not in pinned}
    return {**kept, **pinned}
