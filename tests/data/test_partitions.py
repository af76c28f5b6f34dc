"""Partitioned histories: month parts are the file split in order; linkage over parts by
the shuffle on the hash equals linkage over the whole file; loading a folder equals loading
the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.linkage import LINK_COLUMNS, LINK_FEATURES, history_frame_features
from tipscore.cli import app
from training.dask.shuffle import INPUT_COLUMNS, input_columns, shuffled_links
from training.data import file_sha256, load_history
from training.decision_times import DEFAULT_ASSUMED_LAG_DAYS, decided_micros
from training.partitions import (
    PartsError,
    history_parts,
    part_columns,
    read_part,
    read_parts,
    receipt_micros,
    write_month_parts,
)
from training.synth.config import load_config
from training.synth.generate import GenerateRequest, generate


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 reports over two years, written in row groups of 4,000."""
    path = tmp_path_factory.mktemp("parts") / "history.parquet"
    cfg = load_config().model_copy(update={"chunk_rows": 4_000})
    generate(
        GenerateRequest(
            20_000, 5, date(2023, 1, 1), date(2024, 12, 31), path, progress=False
        ),
        cfg,
    )
    return path


@pytest.fixture(scope="module")
def months(single: Path) -> Path:
    folder = single.parent / "months"
    write_month_parts(single, folder)
    return folder


def _whole_links(path: Path) -> dict[str, np.ndarray]:
    table = pq.read_table(path, columns=[*INPUT_COLUMNS, "decided_at"])
    links: dict[str, object] = {name: table.column(name) for name in LINK_COLUMNS}
    links["received_at"] = table.column("received_at").to_pandas()
    decided = decided_micros(
        table, DEFAULT_ASSUMED_LAG_DAYS
    )  # point in time (issue 19)
    return history_frame_features(links, table.column("escalated").to_numpy(), decided)


def test_month_parts_concatenate_to_the_file(single: Path, months: Path) -> None:
    parts = history_parts(months)
    assert [p.name for p in parts][:2] == ["2023-01", "2023-02"]
    assert len(parts) == 24
    assert [p.offset for p in parts] == list(
        np.cumsum([0] + [p.rows for p in parts[:-1]])
    )
    assert read_parts(parts).equals(pq.read_table(single), check_metadata=True)
    micros = pq.read_table(single).column("received_at").to_numpy().astype(np.int64)
    np.testing.assert_array_equal(receipt_micros(parts), micros)


def test_a_single_file_is_split_at_its_row_groups(single: Path) -> None:
    parts = history_parts(single)
    assert [(p.row_group, p.rows) for p in parts] == [(k, 4_000) for k in range(5)]
    assert parts[1].name == "history-part0001"
    assert read_part(parts[2]).equals(pq.ParquetFile(single).read_row_group(2))


@pytest.mark.parametrize("buckets", [1, 3, 8])
def test_linkage_by_hash_shuffle_equals_the_whole_history(
    single: Path, months: Path, buckets: int
) -> None:
    whole = _whole_links(single)
    for source in (months, single):
        parts = history_parts(source)
        per_part = shuffled_links(
            [read_part(p, input_columns(part_columns(p))) for p in parts], buckets
        )
        for d in LINK_FEATURES:
            joined = np.concatenate([links[d.name] for links in per_part])
            np.testing.assert_array_equal(joined, whole[d.name], err_msg=d.name)
    assert whole["hist_account_reports_365d"].max() > 0  # the check is not vacuous
    assert whole["hist_account_escalations_365d"].max() > 0


def test_loading_a_folder_equals_loading_the_file(single: Path, months: Path) -> None:
    file, folder = load_history(single), load_history(months)
    np.testing.assert_array_equal(folder.matrix, file.matrix)
    np.testing.assert_array_equal(folder.labels, file.labels)
    assert folder.sha256 == file_sha256(months) != file.sha256


def test_parts_out_of_receipt_order_are_refused(months: Path, tmp_path: Path) -> None:
    for part in sorted(months.glob("*.parquet"))[:3]:
        (tmp_path / part.name).write_bytes(part.read_bytes())
    (tmp_path / "2023-01.parquet").rename(tmp_path / "2023-09.parquet")
    with pytest.raises(PartsError, match="2023-09 starts before 2023-03"):
        history_parts(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PartsError, match=r"no \.parquet parts"):
        history_parts(tmp_path / "empty")
    with pytest.raises(PartsError, match="no such file or folder"):
        history_parts(tmp_path / "missing")


def test_generate_partition_month_writes_the_same_rows(tmp_path: Path) -> None:
    runner = CliRunner()
    common = ["--rows", "3000", "--seed", "2", "--no-progress"]
    common += ["--start", "2024-01-01", "--end", "2024-04-30"]
    single = tmp_path / "one.parquet"
    folder = tmp_path / "parts"
    assert (
        runner.invoke(app, ["generate", "--out", str(single), *common]).exit_code == 0
    )
    beside = folder.with_suffix(".parquet")  # a user's file next to the folder
    beside.write_bytes(b"not touched")
    done = runner.invoke(
        app, ["generate", "--out", str(folder), "--partition", "month", *common]
    )
    assert done.exit_code == 0, done.output
    assert beside.read_bytes() == b"not touched"
    assert (folder / "card.md").is_file() and f"{folder / 'card.md'}" in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "one.card.md",
        "one.parquet",
        "parts",
        "parts.parquet",
    ]  # no scratch folder left
    assert sorted(p.name for p in folder.glob("*.parquet")) == [
        f"2024-0{m}.parquet" for m in range(1, 5)
    ]
    assert f"wrote 3,000 reports to {folder}/ (4 monthly parts)" in done.output
    joined = read_parts(history_parts(folder))
    assert joined.equals(pq.read_table(single).cast(joined.schema))
    assert joined.num_rows == 3000
    again = runner.invoke(
        app, ["generate", "--out", str(folder), "--partition", "month", *common]
    )
    message = " ".join(again.output.replace("│", " ").split())
    assert again.exit_code == 2 and "already holds Parquet parts" in message


def test_validate_data_checks_a_folder_as_one_history(months: Path) -> None:
    done = CliRunner().invoke(app, ["validate-data", str(months)])
    assert done.exit_code == 0, done.output
    assert "rows: 20000" in done.output
