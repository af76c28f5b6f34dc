"""``tipscore generate``: orchestrate the stages and write the history and its card.

Pass 1 draws every chunk and scores it (risk and informational log-odds); the intercepts are
then solved so that the designation shares and the escalation base rate hit their targets;
pass 2 draws the outcomes and writes each chunk as a Parquet row group. Small histories keep
pass 1's chunks in memory; large ones draw them again from the same random streams, so
memory stays bounded (10M rows fit the machine) and the bytes do not depend on which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from features.flat import FLAT_COLUMNS
from training.data_format import history_schema
from training.synth.card import Tally, tally_chunk, write_card
from training.synth.config import GeneratorConfig
from training.synth.history import build_population
from training.synth.linkage import draw_links
from training.synth.outcomes import (
    apply_label_bias,
    draw_decision_times,
    draw_outcomes,
    informational_score,
    risk_score,
    sigmoid,
    solve_intercept,
)
from training.synth.population import INCIDENT_TYPES, Population
from training.synth.reports import Chunk, draw_chunk

CACHE_ROWS = 2_000_000
SCHEMA = history_schema(with_p_true=True, with_decided_at=True)
"""A synthetic history's columns: the format's, ``decided_at``, then ``p_true``."""
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate."""

    rows: int
    seed: int
    start: date
    end: date
    out: Path
    progress: bool = True


@dataclass(frozen=True)
class GenerateResult:
    """Where the history and its card were written, and headline figures."""

    path: Path
    card: Path
    rows: int
    escalation_rate: float
    mean_p_true: float
    tally: Tally


def chunk_columns(
    pop: Population, k: int, bounds: tuple[int, int], cfg: GeneratorConfig, seed: int
) -> tuple[Columns, dict[str, pa.Array]]:
    """Flat columns (numpy) and link columns (Arrow) of chunk ``k``."""
    start, stop = bounds
    chunk = Chunk(start, stop, pop, np.random.default_rng([seed, 2, k]))
    columns = draw_chunk(chunk, cfg)
    columns["incident_type"] = np.asarray(INCIDENT_TYPES, dtype=object)[
        chunk.col("incident")
    ]
    columns["report_id"] = np.char.add(
        "r", np.char.zfill(np.arange(start, stop).astype(str), 10)
    ).astype(object)
    return columns, draw_links(chunk, cfg, seed, columns)


def calibrate(
    eta: np.ndarray, zeta: np.ndarray, from_2024: np.ndarray, cfg: GeneratorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Informational probability q and referral risk r, intercepts solved on the targets."""
    q = np.zeros(len(eta))
    for flag, target in (
        (False, cfg.designation.informational_before_2024),
        (True, cfg.designation.informational_from_2024),
    ):
        rows = from_2024 == flag
        if rows.any():
            q[rows] = sigmoid(solve_intercept(zeta[rows], target) + zeta[rows])
    b = solve_intercept(eta, cfg.escalation.base_rate, scale=1.0 - q)
    return q, sigmoid(b + eta)


def to_table(
    columns: Columns,
    links: dict[str, pa.Array],
    outcomes: Columns,
    p_true: np.ndarray,
    decided: pa.Array,
) -> pa.Table:
    """One chunk as an Arrow table in the training-data format (with ``decided_at``)."""
    schema = SCHEMA
    data = {**columns, **outcomes, "p_true": p_true}
    arrays = []
    for f in schema:
        if f.name in links:
            arrays.append(links[f.name])
        elif f.name == "decided_at":
            arrays.append(decided)
        elif pa.types.is_timestamp(f.type):
            arrays.append(pa.array(data[f.name]).cast(f.type))
        else:
            arrays.append(pa.array(data[f.name], type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _bounds(rows: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, rows)) for start in range(0, rows, size)]


def generate(request: GenerateRequest, cfg: GeneratorConfig) -> GenerateResult:
    """Generate a history file and its dataset card."""
    if request.end < request.start:
        raise ValueError(f"--end {request.end} is before --start {request.start}")
    pop = build_population(request.rows, request.seed, request.start, request.end, cfg)
    bounds = _bounds(request.rows, cfg.chunk_rows)
    keep = request.rows <= CACHE_ROWS
    cached: dict[int, tuple[Columns, dict[str, pa.Array]]] = {}
    eta, zeta = np.empty(request.rows), np.empty(request.rows)
    for k, (a, b) in enumerate(
        tqdm(bounds, desc="draw reports", unit="chunk", disable=not request.progress)
    ):
        columns, links = chunk_columns(pop, k, (a, b), cfg, request.seed)
        eta[a:b] = risk_score(columns, pop.prior_reports[a:b], cfg)
        zeta[a:b] = informational_score(columns, cfg)
        if keep:
            cached[k] = (columns, links)
    q, r = calibrate(eta, zeta, pop.from_2024, cfg)
    p_true = (1.0 - q) * r
    tally = Tally()
    request.out.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(request.out, SCHEMA, compression="zstd") as writer:
        for k, (a, b) in enumerate(
            tqdm(
                bounds,
                desc="draw outcomes, write",
                unit="chunk",
                disable=not request.progress,
            )
        ):
            columns, links = (
                cached.pop(k)
                if keep
                else chunk_columns(pop, k, (a, b), cfg, request.seed)
            )
            outcomes = draw_outcomes(
                np.random.default_rng([request.seed, 3, k]), q[a:b], r[a:b], cfg
            )
            apply_label_bias(
                np.random.default_rng([request.seed, 4, k]),
                outcomes,
                columns,
                pop.jurisdiction[a:b],
                cfg,
            )
            decided = draw_decision_times(
                np.random.default_rng([request.seed, 5, k]),
                columns["received_at"],
                outcomes["priority"],
                cfg,
            )
            writer.write_table(to_table(columns, links, outcomes, p_true[a:b], decided))
            tally_chunk(
                tally,
                columns,
                outcomes,
                p_true[a:b],
                (pop.from_2024[a:b], pop.after_act[a:b]),
                cfg,
            )
    card = request.out.with_suffix(".card.md")
    summary = {
        "file": request.out.name,
        "rows": f"{request.rows:,}",
        "seed": str(request.seed),
        "received": f"{request.start} to {request.end}",
        "columns": f"{len(FLAT_COLUMNS)} report columns + outcomes + decided_at "
        "+ p_true",
    }
    write_card(card, tally, cfg, summary)
    return GenerateResult(
        path=request.out,
        card=card,
        rows=request.rows,
        escalation_rate=tally.value("escalated") or 0.0,
        mean_p_true=tally.value("p_true") or 0.0,
        tally=tally,
    )
