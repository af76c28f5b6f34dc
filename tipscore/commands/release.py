"""``tipscore audit`` and ``tipscore promote``: judge a model, then make it the champion."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipscore.commands.options import audit_config, fail

if TYPE_CHECKING:
    from training.audit.config import AuditConfig
    from training.audit.job import AuditOutcome
    from training.promote import PromotionResult


def audit(
    out: Annotated[Path, typer.Option(help="Folder for audit.html and audit.json.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model URI, e.g. models:/tip-escalation@champion or runs:/ID/model "
            "(with --data)."
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="History file to audit on (with --model).")
    ] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(
            help="Pooled backtest predictions (Parquet folder or file) to audit "
            "instead of one window of --data; see docs/bias-audit.md."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Audit config (default: training/configs/audit.toml)."),
    ] = None,
    fail_on_flag: Annotated[
        bool, typer.Option(help="Exit 1 when any group is flagged.")
    ] = False,
) -> None:
    """Audit a model for disparities across platforms, regions and report kinds.

    Either `--model` and `--data` (one window of a history; a reference model without
    platform and location features is trained for comparison) or `--predictions DIR`
    (pooled out-of-time predictions of `tipscore backtest`). Writes `OUT/audit.html`
    (self-contained) and `OUT/audit.json` (`flags`, `groups`, ...), logs both to the
    model's MLflow run (`--model` only), and prints every judged disparity. How to read
    it: docs/bias-audit.md.
    """
    cfg = audit_config(config, "--config")
    outcome = _run_audit(cfg, out, model, data, predictions)
    _print_audit(outcome, cfg.window)
    if outcome.flagged:
        from training.audit.report import flag_summary

        typer.echo(f"flagged: {flag_summary(outcome.result['flags'])}", err=True)
        if fail_on_flag:
            raise typer.Exit(1)
    else:
        typer.echo("no group flagged")


def _run_audit(
    cfg: AuditConfig,
    out: Path,
    model: str | None,
    data: Path | None,
    predictions: Path | None,
) -> AuditOutcome:
    """One window of a history (``--model --data``) or pooled ``--predictions``."""
    from training import registry
    from training.data import HistoryError

    if predictions is not None:
        if model is not None or data is not None:
            raise typer.BadParameter(
                "--predictions replaces --model and --data; give one or the other",
                param_hint="--predictions",
            )
        from training.audit.predictions import PredictionsError, audit_predictions

        try:
            return audit_predictions(predictions, cfg, out)
        except PredictionsError as exc:
            fail(exc)
    if model is None or data is None:
        raise typer.BadParameter(
            "give --model and --data, or --predictions", param_hint="--model"
        )
    from training.audit.job import audit_model

    registry.configure()
    try:
        return audit_model(model, data, cfg, out)
    except (registry.RegistryError, HistoryError) as exc:
        fail(exc)


def _print_audit(outcome: AuditOutcome, window: str) -> None:
    """What was audited, the judged disparities, and where the files went."""
    from training.audit.report import summary_rows, text_table

    result = outcome.result
    source = result.get("meta", {}).get("source", "window")
    what = (
        f"{len(result['meta'].get('periods', []))} periods of pooled predictions"
        if source == "predictions"
        else f"window {window}"
    )
    typer.echo(
        f"audited {result['rows']:,} reports ({result['positives']:,} escalations, "
        f"{what})"
    )
    compared = ", ".join(result.get("compared_with", [])) or "nothing"
    typer.echo(f"disparities compared with: {compared}")
    typer.echo(text_table(summary_rows(result)))
    logged = f"; logged to run {outcome.run_id}" if outcome.run_id else ""
    typer.echo(f"wrote {outcome.html_path} and {outcome.json_path}{logged}")


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
    audit_config_path: Annotated[
        Path | None,
        typer.Option(
            "--audit-config",
            help="Audit config for the bias gate (default: audit.toml).",
        ),
    ] = None,
    require_shadow: Annotated[
        bool,
        typer.Option(
            help="Require the shadow gate even if the run's config leaves it off."
        ),
    ] = False,
    reports_db: Annotated[
        Path | None,
        typer.Option(
            help="The service's report store the shadow gate reads (default: "
            "$TIPSCORE_REPORTS_DB, else $TIPSCORE_STATE_DIR/reports.db).",
        ),
    ] = None,
    backtest_audit: Annotated[
        Path | None,
        typer.Option(
            help="audit.json (or its folder) of `tipscore audit --predictions`: the "
            "bias gate judges by this backtest audit instead of the test window.",
        ),
    ] = None,
) -> None:
    """Register the run's model and move the `champion` alias to it if every gate passes.

    Gates: beats both baselines on test PR-AUC; calibration error within bound; not worse
    than the current champion on the same window beyond the tolerance; no group flagged by
    the bias audit (`tipscore audit`) on the test window, or the backtest audit given by
    `--backtest-audit`; and, when `[gates] shadow` or `--require-shadow` asks for it, the
    shadow gate: the model was the service's challenger on enough live reports, with
    priority-1 overlap and analyst agreement within bounds (docs/model.md). Exits 1 naming
    the failed gates, unless `--force --reason "..."`, which records the reason on the run
    and the version.

    Example:
        tipscore promote --run 0123abcd... --require-shadow
    """
    from functools import partial

    from serving.settings import ServingSettings
    from tipscore.shadow_state import shadow_rows
    from training import registry
    from training.promote import promote as run_promotion

    cfg = audit_config(audit_config_path, "--audit-config")
    state = (reports_db or ServingSettings().reports_path).absolute()
    reader = partial(shadow_rows, state)
    registry.configure()
    try:
        result = run_promotion(
            run,
            force=force,
            reason=reason,
            audit_config=cfg,
            shadow_rows=reader,
            require_shadow=require_shadow,
            backtest_audit=backtest_audit,
        )
    except (registry.RegistryError, ValueError) as exc:
        fail(exc)
    _print_gates(result)
    if not result.promoted:
        failed = ", ".join(g.gate for g in result.results if not g.passed)
        typer.echo(f"not promoted: failed gate(s): {failed}", err=True)
        raise typer.Exit(1)
    note = " (forced; reason recorded)" if result.forced else ""
    typer.echo(f"promoted run {run} as version {result.version}: champion{note}")


def _print_gates(result: PromotionResult) -> None:
    for gate in result.results:
        typer.echo(
            f"  [{'pass' if gate.passed else 'FAIL'}] {gate.gate}: {gate.detail}"
        )
