"""Settings of the scoring service, from ``TIPSCORE_*`` environment variables or ``HOME/.env``.

Every path is absolute and none depends on the working directory (``serving.paths``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from features.report_limits import ReportLimits
from features.schema import MAX_FILE_HASHES, MAX_FILES, MAX_IDENTIFIERS
from serving.paths import HomeSettings, default_state_dir
from serving.state.cases import CaseConfig


class ServingSettings(HomeSettings):
    """Where the service keeps its state and how it behaves.

    Attributes:
        state_dir: the local, git-ignored state folder (shared with intake settings);
            default ``HOME/state`` (``home.project_home()``).
        keys_file: API key hashes and roles (``tipscore keys add`` writes it).
        audit_log: where older versions kept the audit log; copied into the state store
            on start (``serving.state.migrate``).
        linkage_db: where older versions kept the linkage store; copied likewise.
        reports_db: the state store (``serving.state``): audit log, suggestions,
            decisions, queue and linkage in one SQLite database. Its name is the report
            store's, which it grew from, so existing folders and ``--reports-db`` keep
            working.
        model_uri: the model served; the registry's champion by default.
        challenger_uri: the model scored in the shadows beside it (``serving.shadow``):
            by default ``models:/NAME@challenger`` under the served model's registered
            name; empty turns shadow scoring off. Its answers are stored, never returned.
        dev_mode: accept requests without a key, as role ``admin`` (local demos only).
        top_n: contributions returned in each explanation.
        max_body_bytes: requests larger than this are refused before parsing.
        max_batch: most reports in one ``/score_batch`` call.
        max_batch_identifiers: most identifiers (every kind, file hashes included) in
            one ``/score_batch`` call, all its reports together: each is a linkage lookup
            and row, so this bounds the work one request makes (issue 18).
        coalesce_max: most concurrent single calls scored together (adaptive batching).
        coalesce_wait_ms: extra time to wait for more single calls (0: none; batches
            still form under load while one is being scored).
        header_timeout_s: a request's line and headers must arrive within this, from
            the connection's start or the previous response, or the connection is closed
            (``serving.connections``).
        body_timeout_s: a request's body must arrive within this, or 408
            (``serving.body_timeout``).
        max_connections_per_client: open connections one client address may hold; more
            are closed at once (``serving.connections``).
        max_files_per_report, max_identifiers_per_kind, max_file_hashes_per_report: the
            per-report limits both intakes hold reports to, and the OpenAPI document's
            ``maxItems``; by default the contract's (``features.schema``: 1,000, 200,
            2,000), which are also their ceilings: a service may only lower them.
        case_common_file_accounts: a file hash sent by more accounts than this (within
            the linkage window) links no more reports into cases (issue 21).
        burst_accounts, burst_hours: a file hash sent by at least this many distinct
            accounts within this many hours is a viral burst (one queue entry).
        blind_share: the share of newly scored reports reviewed blind (no suggestion
            shown to analysts until decided); 0 turns blind review off.
        service_targets_minutes: per suggested priority, how long a report may wait
            for a decision before it is marked overdue (JSON: ``{"1": 60, ...}``).
        refuse_future_receipts: refuse a ``received_at`` more than an hour ahead of the
            service's clock (400). ``tipscore simulate`` turns it off: it replays a
            history's own receipt times, which may lie ahead of today.
    """

    state_dir: Path = Field(default_factory=default_state_dir)
    keys_file: Path | None = None
    audit_log: Path | None = None
    linkage_db: Path | None = None
    reports_db: Path | None = None
    database_url: str | None = None
    metrics_dir: Path | None = None
    model_uri: str = "models:/tip-escalation@champion"
    challenger_uri: str | None = None
    dev_mode: bool = False
    top_n: int = Field(default=5, ge=1, le=50)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_batch: int = Field(default=1000, ge=1, le=100_000)
    max_batch_identifiers: int = Field(default=50_000, ge=1, le=10_000_000)
    coalesce_max: int = Field(default=64, ge=1, le=10_000)
    coalesce_wait_ms: float = Field(default=0.0, ge=0.0, le=1000.0)
    header_timeout_s: float = Field(default=10.0, gt=0.0, le=600.0)
    body_timeout_s: float = Field(default=30.0, gt=0.0, le=600.0)
    max_connections_per_client: int = Field(default=64, ge=1, le=100_000)
    max_files_per_report: int = Field(default=MAX_FILES, ge=1, le=MAX_FILES)
    max_identifiers_per_kind: int = Field(
        default=MAX_IDENTIFIERS, ge=1, le=MAX_IDENTIFIERS
    )
    max_file_hashes_per_report: int = Field(
        default=MAX_FILE_HASHES, ge=1, le=MAX_FILE_HASHES
    )

    case_common_file_accounts: int = Field(default=10, ge=1, le=1_000_000)
    burst_accounts: int = Field(default=20, ge=2, le=1_000_000)
    burst_hours: float = Field(default=24.0, gt=0.0, le=24.0 * 365)
    blind_share: float = Field(default=0.02, ge=0.0, le=1.0)
    service_targets_minutes: dict[int, int] = Field(
        default_factory=lambda: {1: 60, 2: 24 * 60, 3: 7 * 24 * 60}
    )
    refuse_future_receipts: bool = True

    @property
    def case_config(self) -> CaseConfig:
        """How cases and bursts form (``serving.state.cases``; docs/analyst.md)."""
        return CaseConfig(
            common_file_accounts=self.case_common_file_accounts,
            burst_accounts=self.burst_accounts,
            burst_hours=self.burst_hours,
        )

    @property
    def report_limits(self) -> ReportLimits:
        """The per-report limits in force (``features.report_limits``)."""
        return ReportLimits(
            self.max_files_per_report,
            self.max_identifiers_per_kind,
            self.max_file_hashes_per_report,
        )

    @property
    def keys_path(self) -> Path:
        """The keys file."""
        return self.keys_file or self.state_dir / "api_keys.json"

    @property
    def audit_path(self) -> Path:
        """The older audit-log file (read once, to copy it into the state store)."""
        return self.audit_log or self.state_dir / "audit.db"

    @property
    def linkage_path(self) -> Path:
        """The older linkage file (read once, to copy it into the state store)."""
        return self.linkage_db or self.state_dir / "linkage.db"

    @property
    def reports_path(self) -> Path:
        """The state store's database (everything the service keeps)."""
        return self.reports_db or self.state_dir / "reports.db"

    def metrics_path(self, port: int) -> Path:
        """The Prometheus multiprocess folder of the service listening on ``port``."""
        return self.metrics_dir or self.state_dir / "metrics" / str(port)


class _Current:
    """The one reading of the settings the running service uses (see ``load``)."""

    settings: ServingSettings | None = None


def load() -> ServingSettings:
    """Read the settings now and make them the service's: the worker calls this once, at start.

    Every part of the service (the service class, the key, body and timeout middlewares)
    then uses this one reading through ``current()``, never a reading of its own: two
    readings can disagree (a ``.env`` written between them, a different home or working
    folder), and dev mode decided by one part and checked by another was issue 18's
    item 2.
    """
    _Current.settings = ServingSettings()
    return _Current.settings


def fresh() -> ServingSettings:
    """A reading for a process that is not the running service.

    ``serving.bento_main`` before BentoML starts, a ``tipscore`` command. It never becomes
    the service's own (``load``/``current``), and it is still made here, the one place
    settings are read.
    """
    return ServingSettings()


def current() -> ServingSettings:
    """The service's settings: those ``load`` read (read now if nothing has loaded them)."""
    return _Current.settings if _Current.settings is not None else load()
