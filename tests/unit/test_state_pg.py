"""PostgreSQL state (issue 22): the service's role, migrations, and replicas sharing it.

On a real PostgreSQL server (``tests/pg_fixtures.py``); the SQLite side of the migrations
is here too (``tipscore db upgrade`` on a state folder the service made before Alembic).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from features.identifiers import IdentifierHasher
from features.linkage import MICROS_PER_DAY
from serving.analyst.schemas import DecisionIn, Reason
from serving.state.cases import CaseConfig, CaseEntry
from serving.state.pg_backend import HEAD
from serving.state.pg_schema import APPEND_ONLY
from serving.state.store import StateStore
from serving.state.upgrade import upgrade
from tests.pg_fixtures import OWNER, SERVICE, PgServer
from tipscore.cli import app

T0 = 1_700_000_000_000_000


@pytest.fixture
def database(pg_server: PgServer) -> str:
    return pg_server.new_database()


@pytest.fixture
def replicas(pg_server: PgServer, database: str) -> Iterator[list[StateStore]]:
    """Two stores on one database, as two service replicas hold them."""
    stores = [
        StateStore.connect(pg_server.url(SERVICE, database), "unused") for _ in range(2)
    ]
    yield stores
    for store in stores:
        store.close()


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET seq = seq", "DELETE FROM {t}", "TRUNCATE {t} CASCADE"]
)
def test_the_service_role_cannot_change_a_log(
    pg_server: PgServer, database: str, table: str, statement: str
) -> None:
    """Refused by privileges to the service; by the trigger to the owner too."""
    for role, refusal in ((SERVICE, "permission denied"), (OWNER, "append-only")):
        with (
            psycopg.connect(pg_server.url(role, database), autocommit=True) as db,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal),
        ):
            db.execute(statement.format(t=table).encode())
    with (
        psycopg.connect(pg_server.url(SERVICE, database), autocommit=True) as db,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        db.execute(f"DROP TRIGGER {table}_no_change ON {table}".encode())


def test_a_database_without_the_schema_is_refused_with_the_command_to_run(
    pg_server: PgServer,
) -> None:
    pg_server.admin(f"CREATE DATABASE bare OWNER {OWNER}")
    with pytest.raises(psycopg.Error, match="tipscore db upgrade"):
        StateStore.connect(pg_server.url(OWNER, "bare"), "unused")
    upgrade(pg_server.url(OWNER, "bare"), Path("unused"))
    upgrade(pg_server.url(OWNER, "bare"), Path("unused"))  # idempotent
    StateStore.connect(pg_server.url(OWNER, "bare"), "unused").close()


def test_db_upgrade_keeps_an_existing_sqlite_state_folder(tmp_path: Path) -> None:
    path = tmp_path / "state" / "reports.db"
    store = StateStore.open(path)  # made by the service, before Alembic
    with store.transaction() as tx:
        tx.record_links([("old-1", T0, {"link_accounts": ["a"]})])
    store.close()
    result = CliRunner().invoke(
        app, ["db", "upgrade"], env={"TIPSCORE_STATE_DIR": str(tmp_path / "state")}
    )
    assert result.exit_code == 0, result.output
    assert f"revision {HEAD}" in result.output
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (HEAD,)
        ]
        assert db.execute("SELECT report_id FROM link").fetchall() == [("old-1",)]
    finally:
        db.close()
    reopened = StateStore.open(path)
    assert reopened.lookup(T0 + 1, {"link_accounts": ["a"]})[
        "hist_account_reports_365d"
    ]
    reopened.close()


def test_a_report_kept_by_one_replica_links_on_the_other(
    replicas: list[StateStore],
) -> None:
    a, b = replicas
    with a.transaction() as tx:
        tx.record_links([("r-a", T0, {"link_accounts": ["shared"]})])
    counts = b.lookup(T0 + MICROS_PER_DAY, {"link_accounts": ["shared"]})
    assert counts["hist_account_reports_365d"] == 1


def _place(store: StateStore, report_id: str, t: int) -> None:
    """What a replica does with a scored report, under the write lock from read to commit."""
    links = {"link_accounts": ["one-offender"]}
    with store.exclusive(), store.transaction() as tx:
        store.lookup(t, links)  # the linkage read happens under the lock
        tx.db.run(
            "INSERT INTO queue (report_id, scored_seq, priority, probability) "
            "VALUES (?, 0, 2, 0.5)",
            (report_id,),
        )
        tx.record_links([(report_id, t, links)])
        tx.maintain_cases([CaseEntry(report_id, t, links, 2, 0.5)], CaseConfig())


def test_linked_reports_scored_at_once_on_two_replicas_form_one_case(
    replicas: list[StateStore],
) -> None:
    """Without the lock, two replicas each saw no case yet and opened one each."""
    go = threading.Barrier(2)

    def replica(i: int) -> None:
        go.wait()
        for n in range(15):
            _place(replicas[i], f"c-{i}-{n}", T0 + n)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = replicas[0]._writer.rows(
        "SELECT case_id, members FROM cases WHERE merged_into IS NULL"
    )
    assert [(r["members"]) for r in rows] == [30]
    members = replicas[1]._writer.rows("SELECT DISTINCT case_id FROM case_member")
    assert [r["case_id"] for r in members] == [rows[0]["case_id"]]


def test_decisions_on_one_report_from_two_replicas_form_one_history(
    replicas: list[StateStore],
) -> None:
    a, b = replicas
    with a.transaction() as tx:
        tx.db.run(
            "INSERT INTO scored (report_id, request_id, scored_at, received_at, "
            "incident_type, priority, probability, model_version, codes, response, "
            "flat) VALUES ('d-1', 'r', 'x', 'x', 'x', 2, 0.5, 'm/1', '[]', '{}', '{}') "
        )
        tx.db.run(
            "INSERT INTO queue (report_id, scored_seq, priority, probability) "
            "SELECT 'd-1', MAX(seq), 2, 0.5 FROM scored"
        )
    go = threading.Barrier(8)

    def decide(i: int) -> None:
        go.wait()
        decision = DecisionIn(
            report_id="d-1", action="override", priority=1, reason=Reason.OTHER
        )
        (a, b)[i % 2].decide(decision, f"k{i}", f"Analyst {i}")

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = b.decisions("d-1")  # newest first
    assert len(made) == 8
    assert made[-1].supersedes is None
    assert [d.supersedes for d in made[:-1]] == [d.decision_id for d in made[1:]]
    latest = b._writer.one("SELECT decision_seq FROM queue WHERE report_id = 'd-1'")
    newest = b._writer.one("SELECT MAX(seq) AS seq FROM decisions")
    assert latest is not None and newest is not None
    assert latest["decision_seq"] == newest["seq"]  # the queue shows the later one


def test_commands_read_the_configured_postgresql_by_default(
    pg_server: PgServer,
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """export-decisions, monitor, compare: the default store is the service's database."""
    from serving.settings import ServingSettings
    from serving.state.command_store import open_for_command

    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TIPSCORE_DATABASE_URL", pg_server.url(SERVICE, database))
    store = open_for_command(ServingSettings().reports_path)
    try:
        assert store.backend.name == "postgresql"
    finally:
        store.close()
    with pytest.raises(FileNotFoundError, match="nothing scored yet"):
        open_for_command(tmp_path / "elsewhere.db")  # an explicit file stays a file


def test_make_test_installs_postgresql_where_it_is_missing() -> None:
    """The PostgreSQL tests run (never skipped) on a fresh machine: `make test` sees to it."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    target = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "postgres" in target.split("##")[0].split()
    assert "apt-get install -y -qq postgresql" in makefile


def test_db_upgrade_as_the_service_role_fails_clearly(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pg_server.admin(f"CREATE DATABASE fresh OWNER {OWNER}")
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path))
    result = CliRunner().invoke(
        app, ["db", "upgrade", "--url", pg_server.url(SERVICE, "fresh")]
    )
    assert result.exit_code == 1
    assert "the database refused the upgrade" in result.output
    assert "permission denied" in result.output


def test_info_names_the_state_database_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv(
        "TIPSCORE_DATABASE_URL", "postgresql://svc:s3cret@db.internal:5432/tipscore"
    )
    result = CliRunner().invoke(app, ["info"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "postgresql://svc:***@db.internal:5432/tipscore" in result.output
    assert "s3cret" not in result.output


def test_a_sqlite_state_copies_into_postgresql_whole_and_once(
    pg_server: PgServer, database: str, tmp_path: Path, hasher: IdentifierHasher
) -> None:
    from datetime import date

    from serving.analyst.schemas import QueueQuery
    from serving.state.copy import copy_sqlite
    from tests.state_backends import counts
    from tests.unit.test_state import TABLES, _keep, _scored

    path = tmp_path / "state" / "reports.db"
    old = StateStore.open(path)
    _keep(old, [_scored(hasher, f"s-{i}", 1 + i % 3) for i in range(6)])
    old.decide(
        DecisionIn(report_id="s-1", action="override", priority=1, reason=Reason.OTHER),
        "k",
        "Analyst",
    )
    with old.transaction() as tx:
        tx.mark_migrated("esp_vocabulary", "scored", 0)  # the service closed the names
    today = date(2024, 12, 10)
    before = (old.queue(QueueQuery(), today), old.decisions("s-1"), counts(old, TABLES))
    old.close()
    copied = copy_sqlite(path, pg_server.url(OWNER, database))
    assert copied["scored"] == 6 and copied["decisions"] == 1
    new = StateStore.connect(pg_server.url(SERVICE, database), "unused")
    try:
        after = (
            new.queue(QueueQuery(), today),
            new.decisions("s-1"),
            counts(new, TABLES),
        )
        assert after == before
        assert new.linked_to("s-2") == []  # same instant: as on SQLite
        _keep(new, [_scored(hasher, "s-new", 2)])  # the keys continue after the copied
        assert new.latest("s-new")["seq"] == 7
    finally:
        new.close()
    with pytest.raises(ValueError, match="already holds rows"):
        copy_sqlite(path, pg_server.url(OWNER, database))


def test_db_copy_says_what_is_missing(
    pg_server: PgServer, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("TIPSCORE_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["db", "copy"])
    assert result.exit_code == 2 and "no PostgreSQL URL" in result.output
    url = pg_server.url(OWNER, database)
    result = runner.invoke(app, ["db", "copy", "--url", url])
    assert result.exit_code == 1 and "no SQLite state file" in result.output
    StateStore.open(tmp_path / "reports.db").close()
    result = runner.invoke(app, ["db", "copy", "--url", url])
    assert result.exit_code == 0, result.output
    assert "no rows" in result.output


def test_db_copy_keeps_the_secrets_fingerprint(
    pg_server: PgServer, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica with another secret started on copied reports and split linkage
    silently: the copy carried no fingerprint (an outside operator test, session 9)."""
    from serving.intake import load_or_create_key
    from serving.state.key_check import KeyMismatch, check_key
    from tests.unit.test_state import _keep, _scored

    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path / "elsewhere"))
    state = tmp_path / "state"
    secret = IdentifierHasher(load_or_create_key(state / "hmac.key"))
    old = StateStore.open(state / "reports.db")
    _keep(old, [_scored(secret, "fp-1", 2)])  # hashed identifiers: links kept
    with old.transaction() as tx:
        tx.mark_migrated("esp_vocabulary", "scored", 0)  # the service closed the names
    old.close()
    url = pg_server.url(OWNER, database)
    args = ["db", "copy", "--url", url, "--from", str(state / "reports.db")]
    (state / "hmac.key").rename(state / "moved.key")
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1 and "--hmac-key-file" in refused.output
    typo = CliRunner().invoke(app, [*args, "--hmac-key-file", str(state / "mvoed.key")])
    assert typo.exit_code == 1 and "no such file" in typo.output
    result = CliRunner().invoke(
        app, [*args, "--hmac-key-file", str(state / "moved.key")]
    )
    assert result.exit_code == 0, result.output
    new = StateStore.connect(pg_server.url(SERVICE, database), "unused")
    try:
        with pytest.raises(KeyMismatch):
            check_key(new, IdentifierHasher(b"a-new-secret-of-32-bytes-length!"))
        check_key(new, secret)  # the secret the reports were hashed with: accepted
    finally:
        new.close()


def test_the_store_works_again_after_a_database_restart(
    pg_server: PgServer, database: str
) -> None:
    """Before, every connection stayed broken: each replica answered 500 until restarted.

    Readiness (``reachable``, ``/readyz``) is false while the database is down, so a
    load balancer takes the replica out; after the restart reads and writes go on.
    """
    store = StateStore.connect(pg_server.url(SERVICE, database), "unused")
    try:
        with store.transaction() as tx:
            tx.record_links([("before", T0, {"link_accounts": ["a"]})])
        assert store.in_queue(["x"]) == set() and store.reachable()
        pg_server.ctl("stop", "-m", "fast")
        try:
            store._checked = (0.0, True)  # as if the last check was long ago
            assert not store.reachable()
        finally:
            pg_server.ctl("start")
        store._checked = (0.0, False)
        assert store.reachable()  # a new reader for this thread
        assert store.in_queue(["x"]) == set()
        with store.transaction() as tx:  # the writer: replaced before its BEGIN
            tx.record_links([("after", T0 + 1, {"link_accounts": ["a"]})])
        pg_server.ctl("restart", "-m", "fast")
        # reads and a write at once, as if nothing happened (a lost idle connection)
        assert (
            store.lookup(T0 + 2, {"link_accounts": ["a"]})["hist_account_reports_365d"]
            == 2
        )
        with store.transaction() as tx:
            tx.record_links([("later", T0 + 2, {"link_accounts": ["a"]})])
    finally:
        store.close()


def test_a_write_waits_for_the_write_lock_no_longer_than_lock_timeout(
    pg_server: PgServer, database: str
) -> None:
    """A replica stuck holding the lock made every other replica's writes wait forever."""
    import time

    from serving.state.pg_backend import LOCK_KEY, PgBackend

    url = pg_server.url(SERVICE, database)
    store = StateStore(PgBackend(url, lock_timeout_ms=300))
    try:
        with psycopg.connect(url, autocommit=True) as stuck:
            stuck.execute("BEGIN")
            stuck.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})".encode())
            started = time.monotonic()
            with (
                pytest.raises(psycopg.errors.LockNotAvailable),
                store.transaction() as tx,
            ):
                tx.record_links([("waited", T0, {"link_accounts": ["a"]})])
            assert time.monotonic() - started < 5
            stuck.execute("ROLLBACK")
        with store.transaction() as tx:  # the lock is free again: the writer is usable
            tx.record_links([("later", T0, {"link_accounts": ["a"]})])
    finally:
        store.close()


def test_connections_have_a_connect_timeout_and_keepalives_unless_the_url_says(
    pg_server: PgServer, database: str
) -> None:
    from serving.state.pg_backend import PgBackend

    url = pg_server.url(SERVICE, database)
    with PgBackend(url).connect() as db:
        given = db.info.get_parameters()
        assert given["connect_timeout"] == "10" and given["keepalives_idle"] == "30"
    with PgBackend(url + "?connect_timeout=3").connect() as db:
        assert db.info.get_parameters()["connect_timeout"] == "3"


def test_db_upgrade_on_postgresql_requires_the_owners_url(
    pg_server: PgServer, database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Falling back to the service's URL would make the service's role own the tables."""
    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TIPSCORE_DATABASE_URL", pg_server.url(SERVICE, database))
    monkeypatch.delenv("TIPSCORE_DATABASE_ADMIN_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "TIPSCORE_DATABASE_ADMIN_URL" in result.output
    monkeypatch.setenv("TIPSCORE_DATABASE_ADMIN_URL", pg_server.url(OWNER, database))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_the_service_refuses_to_start_as_a_role_that_may_change_the_logs(
    pg_server: PgServer, database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from serving.settings import ServingSettings
    from serving.state.migrate import open_state

    monkeypatch.setenv("TIPSCORE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TIPSCORE_DATABASE_URL", pg_server.url(OWNER, database))
    with pytest.raises(psycopg.Error, match="owns or may change the append-only logs"):
        open_state(ServingSettings())
    monkeypatch.setenv("TIPSCORE_DATABASE_URL", pg_server.url(SERVICE, database))
    open_state(ServingSettings()).close()  # the service's own role: accepted
    pg_server.admin(f"GRANT DELETE ON decisions TO {SERVICE}", database)
    with pytest.raises(psycopg.Error, match=r"\(decisions\)"):
        open_state(ServingSettings())


def test_a_replica_with_another_hmac_secret_refuses_to_start(
    replicas: list[StateStore],
) -> None:
    """Before, a replica without the shared key file made a fresh one: linkage split."""
    from serving.state.key_check import KeyMismatch, check_key

    a, b = replicas
    shared = IdentifierHasher(b"s" * 32)
    check_key(a, shared)  # the first start keeps the fingerprint
    check_key(b, shared)  # the same key: accepted
    with pytest.raises(KeyMismatch, match="TIPSCORE_HMAC_KEY_FILE"):
        check_key(b, IdentifierHasher(b"o" * 32))
    kept = a._writer.rows("SELECT source_table FROM migrated")
    assert all(b"s" * 32 not in r["source_table"].encode() for r in kept)


def test_the_service_role_cannot_choose_a_logs_sequence_number(
    pg_server: PgServer, database: str
) -> None:
    """An explicit ``seq`` forged a log's order, or took the number the next row gets."""
    with psycopg.connect(pg_server.url(SERVICE, database), autocommit=True) as db:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute(
                "INSERT INTO requests (seq, request_id, at, key_id, endpoint) "
                "VALUES (1, 'r', 'x', 'k', '/score')"
            )
        row = db.execute(
            "INSERT INTO requests (request_id, at, key_id, endpoint) "
            "VALUES ('r', 'x', 'k', '/score') RETURNING seq"
        ).fetchone()
        assert row == (1,)
    with psycopg.connect(pg_server.admin_url(database), autocommit=True) as db:
        public = db.execute(
            "SELECT count(*) FROM information_schema.role_table_grants "
            "WHERE grantee = 'PUBLIC' AND table_schema = 'public'"
        ).fetchone()
        assert public == (0,)


def test_a_commit_the_database_turned_into_a_rollback_is_an_error(
    pg_server: PgServer, database: str
) -> None:
    """A statement's error caught inside the block: COMMIT kept nothing, silently."""
    from serving.state.backend import RolledBack

    store = StateStore.connect(pg_server.url(SERVICE, database), "unused")
    try:

        def caught_and_went_on() -> None:
            with store.transaction() as tx:
                tx.record_links([("lost", T0, {"link_accounts": ["a"]})])
                with pytest.raises(psycopg.errors.DivisionByZero):
                    tx.db.run("SELECT 1 / 0")

        with pytest.raises(RolledBack):
            caught_and_went_on()
        assert (
            store.lookup(T0 + 1, {"link_accounts": ["a"]})["hist_account_reports_365d"]
            == 0
        )
        with store.transaction() as tx:  # the writer is usable again
            tx.record_links([("kept", T0, {"link_accounts": ["a"]})])
    finally:
        store.close()


def test_the_baseline_revision_keeps_its_own_statements() -> None:
    """Importing the current DDL, revision 0001 would change when a later one does."""
    import ast

    import serving.state.upgrade as upgrade_module

    source = (upgrade_module.MIGRATIONS / "versions" / "v0001_baseline.py").read_text()
    imported = [
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
    ]
    assert not [m for m in imported if m and m.startswith("serving")]


def test_installing_postgresql_creates_no_system_cluster_and_the_server_lives_in_tmp(
    pg_server: PgServer,
) -> None:
    """The ``postgresql`` metapackage made (and started) a cluster on port 5432."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "create_main_cluster = false" in makefile
    assert "apt-get install -y -qq postgresql >" not in makefile
    # a TMPDIR the postgres user cannot reach must not stop initdb
    assert pg_server.root.parent == Path("/tmp")


def test_a_closed_store_opens_no_new_connection(
    pg_server: PgServer, database: str
) -> None:
    store = StateStore.connect(pg_server.url(SERVICE, database), "unused")
    store.in_queue(["x"])
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.in_queue(["x"])
    with pytest.raises(RuntimeError, match="closed"), store.transaction():
        pass
