"""MLflow, in one package: the only code in the project that imports ``mlflow``.

- ``store``: where runs and the registry live (``configure``; readers never create a
  store: ``require_store``), experiments, errors;
- ``uris`` and ``resolve``: one reading of a model URI into (name, version, run);
- ``models``: logging, loading (checksum-verified), registering and aliasing the model;
- ``runs``: reading a run (its config once per run) and logging training, evaluation and
  audit results;
- ``pyfunc``: the pyfunc the models-from-code file declares.

Everything is re-exported here: callers write ``from training import registry`` or
``from training.registry import ...``.
"""

from training.model import EscalationModel
from training.registry.models import (
    CHALLENGER,
    CHAMPION,
    DIGEST_TAG,
    MODEL_NAME,
    artifact_digest,
    champion,
    clear_alias,
    load_model,
    load_resolved,
    log_model,
    pyfunc_frame,
    register,
    set_alias,
    set_champion,
    signature,
    tag_promotion,
)
from training.registry.pyfunc import TipEscalationPyfunc, declare_model_code
from training.registry.resolve import (
    UNREGISTERED,
    ModelRef,
    resolve_model,
)
from training.registry.runs import (
    CONFIG_ARTIFACT,
    RunRecord,
    artifact_json,
    download_artifact,
    log_dict,
    log_figure,
    log_metrics,
    log_params,
    log_run,
    log_text,
    log_to_run,
    read_run,
    run_config,
    set_tags,
    start_child_run,
    start_run,
)
from training.registry.store import (
    RegistryError,
    RunUnavailable,
    StoreMissing,
    absolute_uri,
    configure,
    experiment_id,
    reading_client,
    require_store,
    store_path,
    tracking_uri,
    tracking_uri_origin,
)
from training.registry.uris import ParsedUri, parse_model_uri

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "CONFIG_ARTIFACT",
    "DIGEST_TAG",
    "MODEL_NAME",
    "UNREGISTERED",
    "EscalationModel",
    "ModelRef",
    "ParsedUri",
    "RegistryError",
    "RunRecord",
    "RunUnavailable",
    "StoreMissing",
    "TipEscalationPyfunc",
    "absolute_uri",
    "artifact_digest",
    "artifact_json",
    "champion",
    "clear_alias",
    "configure",
    "declare_model_code",
    "download_artifact",
    "experiment_id",
    "load_model",
    "load_resolved",
    "log_dict",
    "log_figure",
    "log_metrics",
    "log_model",
    "log_params",
    "log_run",
    "log_text",
    "log_to_run",
    "parse_model_uri",
    "pyfunc_frame",
    "read_run",
    "reading_client",
    "register",
    "require_store",
    "resolve_model",
    "run_config",
    "set_alias",
    "set_champion",
    "set_tags",
    "signature",
    "start_child_run",
    "start_run",
    "store_path",
    "tag_promotion",
    "tracking_uri",
    "tracking_uri_origin",
]
