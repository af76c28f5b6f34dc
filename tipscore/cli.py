"""The ``tipscore`` command line: one typer app whose subcommands call the three rooms.

Why a package of its own: the CLI composes ``features``, ``training`` and ``serving`` (parse,
train, serve, ...), while those rooms must not import each other beyond the architecture's
rules. Commands stay thin: parse options, call a library function, print, set the exit code.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from training.synth.config import GeneratorConfig
    from training.synth.generate import GenerateRequest, GenerateResult

from features.identifiers import IdentifierHasher
from features.vocab import HashMatch, ReporterType
from features.xml.intake import (
    IntakeOptions,
    parse_file_details,
    parse_submission,
    root_name,
)
from features.xml.safe import XmlIntakeError, XmlLimits
from serving.intake import IntakeSettings, intake_hasher, load_xsd

app = typer.Typer(
    name="tipscore",
    help="Metadata-only priority scoring for CyberTipline-style tip reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

EXIT_BAD_INPUT = 2
ModelUri = Annotated[
    str,
    typer.Option(
        help="Model URI, e.g. models:/tip-escalation@champion or runs:/ID/model."
    ),
]


@app.callback()
def _setup(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log debug detail.")
    ] = False,
) -> None:
    """Configure logging once, for every subcommand (never at import)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _hash_matches(pairs: list[str]) -> dict[str, HashMatch]:
    matches = {}
    for pair in pairs:
        file_id, _, result = pair.partition("=")
        try:
            matches[file_id] = HashMatch(result)
        except ValueError:
            raise typer.BadParameter(
                f"expected FILE_ID=known|novel|unknown, got {pair!r}",
                param_hint="--hash-match",
            ) from None
    return matches


def _read_all(files: list[Path]) -> list[bytes]:
    documents = []
    for path in files:
        try:
            documents.append(path.read_bytes())
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    return documents


@app.command()
def parse(
    files: Annotated[
        list[Path],
        typer.Argument(help="One `<report>` XML and its `<fileDetails>` XMLs."),
    ],
    esp: Annotated[str | None, typer.Option(help="Reporting ESP's name.")] = None,
    public: Annotated[bool, typer.Option(help="Reported by the public.")] = False,
    report_id: Annotated[
        str | None, typer.Option(help="Report id (not in the XML).")
    ] = None,
    received_at: Annotated[
        datetime | None,
        typer.Option(help="Receipt time, ISO-8601 (default: now, UTC)."),
    ] = None,
    hash_match: Annotated[
        list[str] | None, typer.Option(help="FILE_ID=known|novel|unknown (repeatable).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            help="Also validate against the XSD (TIPSCORE_XSD_PATH or --xsd)."
        ),
    ] = False,
    xsd: Annotated[Path | None, typer.Option(help="XSD file for --strict.")] = None,
) -> None:
    """Parse CyberTipline XML into the report contract and print it as JSON.

    Identifiers come out only as keyed hashes; free text is dropped. Tolerated deviations
    from the XSD are listed under "warnings". A lone `<fileDetails>` prints its file metadata.
    """
    settings = IntakeSettings()
    xsd_path = (xsd or settings.xsd_path) if strict else None
    if strict and xsd_path is None:
        raise typer.BadParameter(
            "--strict needs --xsd or TIPSCORE_XSD_PATH", param_hint="--xsd"
        )
    if received_at is not None and received_at.tzinfo is None:
        raise typer.BadParameter(
            "needs a zone, e.g. 2024-05-01T12:00:00Z", param_hint="--received-at"
        )
    options = IntakeOptions(
        esp=esp,
        reporter_type=ReporterType.PUBLIC if public else ReporterType.ESP,
        report_id=report_id,
        received_at=received_at,
        hash_matches=_hash_matches(hash_match or []),
        limits=XmlLimits(
            settings.xml_max_bytes, settings.xml_max_depth, settings.xml_max_elements
        ),
    )
    documents = _read_all(files)
    hasher = intake_hasher(settings)
    try:
        if xsd_path is not None:
            options = replace(options, xsd=load_xsd(xsd_path))
        if all(root_name(d, options.limits) == "fileDetails" for d in documents):
            out = [_file_json(d, hasher, options) for d in documents]
            typer.echo(json.dumps({"files": out}, indent=2))
            return
        parsed = parse_submission(documents, hasher, options)
    except XmlIntakeError as exc:
        typer.echo(f"error [{exc.code}] {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(parsed.model_dump_json(indent=2))
    if parsed.warnings:
        typer.echo(f'{len(parsed.warnings)} warning(s); see "warnings"', err=True)


def _file_json(
    data: bytes, hasher: IdentifierHasher, options: IntakeOptions
) -> dict[str, object]:
    report_id, meta, warnings = parse_file_details(data, hasher, options)
    return {
        "report_id": report_id,
        "file": meta.model_dump(mode="json"),
        "warnings": [w.model_dump() for w in warnings],
    }


def main() -> None:
    """Console-script entry point."""
    app()


@app.command()
def generate(
    out: Annotated[
        Path, typer.Option(help="Parquet file to write (a .card.md goes beside it).")
    ],
    rows: Annotated[
        int, typer.Option(min=1, max=100_000_000, help="Reports to generate.")
    ] = 200_000,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed: same seed, same bytes.")
    ] = 0,
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First receipt day.")
    ] = datetime(2023, 1, 1),
    end: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Last receipt day.")
    ] = datetime(2024, 12, 31),
    config: Annotated[
        Path | None,
        typer.Option(
            help="Generator knobs (default: training/configs/synthetic.toml)."
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            help="'month': write OUT as a folder of one Parquet part per receipt month "
            "(YYYY-MM.parquet, for --engine dask), instead of one file."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Generate a synthetic report history calibrated to NCMEC's published figures.

    Every row carries p_true, the true escalation probability given what a model could know,
    so model quality can be measured against the best possible. See docs/training-data.md.
    """
    from training.synth.config import ConfigError, load_config
    from training.synth.generate import GenerateRequest
    from training.synth.generate import generate as run

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None
    if end < start:
        raise typer.BadParameter(
            f"{end.date()} is before --start {start.date()}", param_hint="--end"
        )
    if partition not in (None, "month"):
        raise typer.BadParameter(
            f"expected 'month', got {partition!r}", param_hint="--partition"
        )
    if partition and out.suffix:
        raise typer.BadParameter(
            f"with --partition, OUT is a folder name (no suffix), got {out}",
            param_hint="--out",
        )
    if partition and out.is_dir() and any(out.glob("*.parquet")):
        raise typer.BadParameter(
            f"{out} already holds Parquet parts: remove them or choose another folder "
            "(old parts would mix with the new history)",
            param_hint="--out",
        )
    if partition:
        result, written = _generate_parts(
            GenerateRequest(rows, seed, start.date(), end.date(), out, progress), cfg
        )
    else:
        request = GenerateRequest(rows, seed, start.date(), end.date(), out, progress)
        result, written = run(request, cfg), str(out)
    typer.echo(
        f"wrote {result.rows:,} reports to {written} "
        f"(escalation rate {result.escalation_rate:.4%}, mean p_true {result.mean_p_true:.4%}); "
        f"dataset card: {result.card}"
    )


def _generate_parts(
    request: GenerateRequest, cfg: GeneratorConfig
) -> tuple[GenerateResult, str]:
    """Generate into a scratch folder beside ``request.out``, then split it by month.

    The whole file is never written where a user's file may be (``data/history`` →
    not ``data/history.parquet``); the dataset card goes into the folder as ``card.md``.
    """
    import shutil
    import tempfile
    from dataclasses import replace

    from training.partitions import write_month_parts
    from training.synth.generate import generate as run

    folder = request.out
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".generate-") as tmp:
        whole = Path(tmp) / "history.parquet"
        result = run(replace(request, out=whole), cfg)
        parts = write_month_parts(whole, folder)
        card = folder / "card.md"
        shutil.move(result.card, card)
    return replace(result, path=folder, card=card), (
        f"{folder}/ ({len(parts)} monthly parts)"
    )


@app.command("validate-data")
def validate_data(
    path: Annotated[
        Path,
        typer.Argument(help="History file (Parquet), or a folder of parts, to check."),
    ],
) -> None:
    """Check a history file against the training-data format (docs/training-data.md).

    Prints every problem with its column and sample rows and exits 1, or prints a summary.
    """
    from training.validate_data import validate_history

    problems, summary = validate_history(path)
    if problems:
        for p in problems:
            sample = (
                f" e.g. rows {p.rows} (report ids {p.report_ids})" if p.rows else ""
            )
            count = f" [{p.count} rows]" if p.count else ""
            typer.echo(f"{p.column}: {p.problem}{count}{sample}", err=True)
        typer.echo(f"{path}: {len(problems)} problem(s); not a valid history", err=True)
        raise typer.Exit(1)
    assert summary is not None
    typer.echo(f"{path}: valid history")
    for key, value in summary.model_dump().items():
        typer.echo(f"  {key}: {value}")


def _train_config(config: Path | None) -> tuple[Any, str]:
    from training.config import TrainConfigError, load_train_config

    try:
        return load_train_config(config)
    except TrainConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Option(
            help="History (training-data format): a Parquet file, or a folder of parts."
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Experiment config (default: training/configs/baseline.toml)."
        ),
    ] = None,
    decisions: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="<path>",
            help="Analysts' decisions to train on too (`tipscore export-decisions`); "
            "repeatable; adds to the config's [data] decisions.",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="'local' (this process) or 'dask' (lightgbm.dask, a cluster)."
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler (tcp://HOST:8786); default: a local cluster."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Workers of the local cluster (--engine dask).")
    ] = 2,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
) -> None:
    """Train the escalation model on a history, evaluate it on the latest window, log it to MLflow.

    Prints the MLflow run id and the test-window metrics beside the oracle (on the rows with
    `p_true`) and the baselines; with analysts' decisions, also how often the model agrees
    with the analysts on the decided test rows. Promote it with
    `tipscore promote --run RUN_ID`.

    With `--engine dask`, linkage, features and the fit (lightgbm.dask) run on a Dask
    cluster — the one at `--scheduler`, or a local one of `--workers` processes — with the
    same split, calibration, thresholds and MLflow run. See docs/scaling.md.
    """
    from tipscore.engines import check_engine, train_with
    from training.dask.cluster import ClusterError
    from training.data import HistoryError
    from training.train import metrics_table

    try:
        check_engine(engine, scheduler)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    cfg, text = _train_config(config)
    if decisions:
        cfg = cfg.model_copy(
            update={
                "data": cfg.data.model_copy(
                    update={"decisions": [*cfg.data.decisions, *decisions]}
                )
            }
        )
    try:
        result = train_with(engine, data, cfg, text, (scheduler, workers), progress)
    except (HistoryError, ValueError, ClusterError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(f"run id: {result.run_id}")
    typer.echo(f"model: {result.model_uri}")
    typer.echo(f"windows (rows): {result.split}")
    typer.echo(metrics_table(result.metrics))


@app.command()
def evaluate(
    model: ModelUri,
    data: Annotated[Path, typer.Option(help="History file to evaluate on.")],
    window: Annotated[
        str,
        typer.Option(
            help="all rows, or the latest (test) window of the config's split."
        ),
    ] = "all",
    config: Annotated[
        Path | None, typer.Option(help="Experiment config (policy, bins, split).")
    ] = None,
    decisions: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="<path>",
            help="Analysts' decisions to add to the history (as in `train`); "
            "repeatable; adds to the config's [data] decisions.",
        ),
    ] = None,
) -> None:
    """Evaluate any logged or registered model on any history; print and log `eval_*` metrics.

    Oracle figures (`oracle_eval_*`) use only rows with `p_true`. Where the rows include
    analysts' decisions (`--decisions`, or a `tipscore export-decisions` file as `--data`),
    the model's suggested priorities are compared with the analysts': `eval_analyst_rows`,
    `eval_analyst_agreement`, `eval_analyst_kappa` (Cohen's, unweighted) and
    `eval_analyst_recorded_override_rate`.
    """
    import mlflow

    from training import registry
    from training.data import HistoryError, load_history
    from training.evaluate import evaluate_file
    from training.splits import temporal_split

    if window not in ("all", "test"):
        raise typer.BadParameter("expected all or test", param_hint="--window")
    cfg, _ = _train_config(config)
    registry.configure()
    try:
        loaded = registry.load_model(model)
        history = load_history(data, [*cfg.data.decisions, *(decisions or [])])
    except (registry.RegistryError, HistoryError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    rows = slice(0, len(history.labels))
    if window == "test":
        rows = temporal_split(
            history.micros, cfg.split.valid_fraction, cfg.split.test_fraction
        ).test
    metrics = evaluate_file(loaded, history, rows, cfg)
    with mlflow.start_run(
        experiment_id=registry.experiment_id(f"{cfg.experiment}-evaluation")
    ) as run:
        mlflow.set_tags(
            {
                "model_uri": model,
                "data_path": str(data),
                "data_sha256": history.sha256,
                "window": window,
                "decision_files": ",".join(path for path, _ in history.decisions)
                or "none",
            }
        )
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
    typer.echo(f"evaluation run id: {run.info.run_id}")
    for key in sorted(metrics):
        typer.echo(f"  {key:<38}{metrics[key]:.4f}")


@app.command()
def audit(
    model: ModelUri,
    data: Annotated[Path, typer.Option(help="History file to audit on.")],
    out: Annotated[Path, typer.Option(help="Folder for audit.html and audit.json.")],
    config: Annotated[
        Path | None,
        typer.Option(help="Audit config (default: training/configs/audit.toml)."),
    ] = None,
    fail_on_flag: Annotated[
        bool, typer.Option(help="Exit 1 when any group is flagged.")
    ] = False,
) -> None:
    """Audit a model for disparities across platforms, regions and report kinds.

    Writes `OUT/audit.html` (self-contained) and `OUT/audit.json` (`flags`, `groups`, ...),
    logs both to the model's MLflow run, and prints every judged disparity. How to read it:
    docs/bias-audit.md.
    """
    from training import registry
    from training.audit.config import load_audit_config
    from training.audit.job import audit_model
    from training.audit.report import summary_rows, text_table
    from training.data import HistoryError

    try:
        cfg = load_audit_config(config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from None
    registry.configure()
    try:
        outcome = audit_model(model, data, cfg, out)
    except (registry.RegistryError, HistoryError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    result = outcome.result
    typer.echo(
        f"audited {result['rows']:,} reports ({result['positives']:,} escalations, "
        f"window {cfg.window})"
    )
    typer.echo(text_table(summary_rows(result)))
    logged = f"; logged to run {outcome.run_id}" if outcome.run_id else ""
    typer.echo(f"wrote {outcome.html_path} and {outcome.json_path}{logged}")
    if outcome.flagged:
        groups = ", ".join(f"{f['attribute']}={f['group']}" for f in result["flags"])
        typer.echo(f"flagged: {groups}", err=True)
        if fail_on_flag:
            raise typer.Exit(1)
    else:
        typer.echo("no group flagged")


@app.command()
def promote(
    run: Annotated[
        str, typer.Option("--run", help="MLflow run id of a `tipscore train` run.")
    ],
    force: Annotated[
        bool, typer.Option(help="Promote even if a gate fails (needs --reason).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option(help="Why a forced promotion is justified (recorded).")
    ] = None,
    audit_config: Annotated[
        Path | None,
        typer.Option(help="Audit config for the bias gate (default: audit.toml)."),
    ] = None,
) -> None:
    """Register the run's model and move the `champion` alias to it if every gate passes.

    Gates: beats both baselines on test PR-AUC; calibration error within bound; not worse
    than the current champion on the same window beyond the tolerance; no group flagged by
    the bias audit (`tipscore audit`) on the test window. Exits 1 naming the failed gates,
    unless `--force --reason "..."`, which records the reason on the run and the version.
    """
    from training import registry
    from training.audit.config import load_audit_config
    from training.promote import promote as run_promotion

    try:
        audit_cfg = load_audit_config(audit_config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--audit-config") from None
    registry.configure()
    try:
        result = run_promotion(run, force=force, reason=reason, audit_config=audit_cfg)
    except (registry.RegistryError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    for gate in result.results:
        typer.echo(
            f"  [{'pass' if gate.passed else 'FAIL'}] {gate.gate}: {gate.detail}"
        )
    if not result.promoted:
        failed = ", ".join(g.gate for g in result.results if not g.passed)
        typer.echo(f"not promoted: failed gate(s): {failed}", err=True)
        raise typer.Exit(1)
    note = " (forced; reason recorded)" if result.forced else ""
    typer.echo(f"promoted run {run} as version {result.version}: champion{note}")


@app.command("export-decisions")
def export_decisions(
    out: Annotated[
        Path, typer.Option(help="Parquet file to write (replaced if it exists).")
    ],
    reports_db: Annotated[
        Path | None,
        typer.Option(
            help="The service's report store (default: $TIPSCORE_REPORTS_DB, else "
            "$TIPSCORE_STATE_DIR/reports.db, i.e. state/reports.db)."
        ),
    ] = None,
) -> None:
    """Write analysts' decisions as training data: one row per decided report.

    Rows are in the training-data format (docs/training-data.md) and pass
    `tipscore validate-data`: each report as it was when it was scored (hashed
    identifiers only), with the analyst's **latest** decision as the outcome
    (`escalated` = priority 1, `priority`, `designation`; no `p_true`) and its provenance
    (`decision_at`, `decision_action`, `decision_reason`, `decision_key_id`,
    `suggested_priority`, `suggested_probability`, `suggested_by`).

    Train on them with `tipscore train --data HISTORY --decisions OUT`. Exits 1 and
    writes nothing when no report has been decided yet.
    """
    from serving.settings import ServingSettings
    from tipscore.export_decisions import export_decisions as run_export

    path = reports_db or ServingSettings().reports_path
    try:
        summary = run_export(path, out)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if summary.rows == 0:
        typer.echo(f"no decisions recorded yet in {path}; nothing written", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"wrote {summary.rows} decided reports to {out} ({summary.overridden} overrides, "
        f"{summary.escalated} escalated by analysts)"
    )


@app.command()
def score(
    model: ModelUri,
    data: Annotated[
        Path,
        typer.Option(help="History: a folder of Parquet parts, or one Parquet file."),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the scored parts.")],
    engine: Annotated[
        str, typer.Option(help="'local' (this process) or 'dask' (a cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://HOST:8786); without it, a local cluster."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Workers of the local cluster (--engine dask).")
    ] = 2,
    top_n: Annotated[int, typer.Option(min=1, max=50, help="Reasons per report.")] = 5,
    overwrite: Annotated[
        bool,
        typer.Option(help="Replace an earlier run's scored parts in --out."),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
) -> None:
    """Rescore a whole history: probability, suggested priority and top reasons per report.

    Writes one Parquet part per input part (`scored-<part>.parquet`: report_id,
    received_at, escalation_probability, suggested_priority, raw_score, base_value,
    reason_features, reason_contributions), then `_manifest.json` (the model, the parts
    and their rows) once every part is written. Parts are written atomically, so a part
    retried after a lost worker is neither lost nor doubled. An --out holding an earlier
    run's parts is refused unless --overwrite. See docs/scaling.md.
    """
    from serving.model_holder import ModelHolder
    from tipscore.batch_score import OutputExistsError
    from tipscore.engines import ScoreJob, check_engine, score_with
    from training.dask.cluster import ClusterError
    from training.partitions import PartsError
    from training.registry import RegistryError, configure

    try:
        check_engine(engine, scheduler)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    configure()
    try:
        served = ModelHolder(model).load()
    except RegistryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    about = {
        "uri": model,
        "name": served.name,
        "version": served.version,
        "run_id": served.run_id,
    }
    job = ScoreJob(data, out, top_n, overwrite, about)
    try:
        summary = score_with(engine, served.model, job, (scheduler, workers), progress)
    except (FileNotFoundError, PartsError, OutputExistsError, ClusterError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    version = f" v{served.version}" if served.version.isdigit() else ""
    typer.echo(
        f"scored {summary.rows:,} reports in {summary.parts} parts with "
        f"{served.name}{version} into {summary.out}/"
    )


keys_app = typer.Typer(
    help="API keys for the scoring service (stored as hashes only).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    role: Annotated[
        str,
        typer.Option(help="intake (score), analyst (read, decide) or admin (reload)."),
    ],
    note: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create a key, print it once, store only its hash in the keys file."""
    from serving.keys import KeyStore, Role
    from serving.settings import ServingSettings

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(
            f"expected one of {[r.value for r in Role]}, got {role!r}",
            param_hint="--role",
        ) from None
    path = ServingSettings().keys_path
    key, record = KeyStore(path).add(chosen, note)
    typer.echo(key)
    typer.echo(
        f"key id {record.key_id}, role {record.role.value}; only its hash is stored in "
        f"{path}. Copy the key now: it is not shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List key ids, roles and creation times (never the keys)."""
    from serving.keys import KeyStore
    from serving.settings import ServingSettings

    for record in KeyStore(ServingSettings().keys_path).records():
        typer.echo(
            f"{record.key_id}  {record.role.value:<8} {record.created}  {record.note}"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    dev: Annotated[
        bool,
        typer.Option(
            help="Dev mode: requests without a key act as admin. Local demos only."
        ),
    ] = False,
) -> None:
    """Serve the champion model over HTTP (BentoML): /score, /score_batch, /score_xml, ...

    Keys come from `tipscore keys add`; the model from `models:/tip-escalation@champion`
    (`TIPSCORE_MODEL_URI`). See docs/serving.md.
    """
    import os

    from serving.command import serve_command
    from serving.settings import ServingSettings

    env = {**os.environ, "TIPSCORE_DEV_MODE": "true"} if dev else dict(os.environ)
    if (dev or ServingSettings().dev_mode) and host not in (
        "127.0.0.1",
        "localhost",
        "::1",
    ):
        raise typer.BadParameter(
            "dev mode accepts requests without a key: it only listens on 127.0.0.1",
            param_hint="--host",
        )
    if dev:
        typer.echo("dev mode: requests without a key are accepted as admin", err=True)
    command = serve_command(host, port)
    os.execvpe(command[0], command, env)
