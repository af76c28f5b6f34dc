"""The dataset card written beside a generated history.

It lists the knobs, and each calibrated marginal with its target, its source and the value
actually achieved in this file, so a reader sees how close the synthetic history comes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.synth.config import GeneratorConfig
from training.synth.outcomes import bias_mask

ENTICEMENT = "Online Enticement of Children for Sexual Acts"
CSAM = "Child Pornography (possession, manufacture, and distribution)"
Columns = dict[str, np.ndarray]


@dataclass
class Tally:
    """Running numerators and denominators of every achieved figure, summed over chunks."""

    sums: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0.0])
    )
    esp_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(
        self, name: str, hits: np.ndarray, within: np.ndarray | None = None
    ) -> None:
        """Add ``hits`` (counted where ``within``) to figure ``name``."""
        within = np.ones(len(hits), dtype=bool) if within is None else within
        self.sums[name][0] += float(np.sum(hits[within]))
        self.sums[name][1] += float(np.sum(within))

    def value(self, name: str) -> float | None:
        """The achieved figure (None when nothing was counted)."""
        num, den = self.sums[name]
        return num / den if den else None


def tally_chunk(
    tally: Tally,
    columns: Columns,
    outcomes: Columns,
    p_true: np.ndarray,
    regime: tuple[np.ndarray, np.ndarray],
    cfg: GeneratorConfig,
) -> None:
    """Add one chunk's figures to the tally."""
    from_2024, after_act = regime
    c = columns
    escalated, informational = (
        outcomes["escalated"],
        outcomes["designation"] == "informational",
    )
    esp_rows = c["reporter_type"] == "esp"
    us, unknown = c["country_code"] == "US", c["location_source"] == "unknown"
    tally.add("escalated", escalated)
    tally.add("p_true", p_true)
    tally.add("public", ~esp_rows)
    for label, rows in (("before_2024", ~from_2024), ("from_2024", from_2024)):
        tally.add(f"us_{label}", us, rows)
        tally.add(f"unknown_{label}", unknown, rows)
        tally.add(f"informational_{label}", informational, rows)
        tally.add(f"genai_{label}", c["files_tag_generative_ai"] > 0, rows)
        tally.add(f"india_{label}", c["country_code"] == "IN", rows)
    for label, rows in (("before_act", ~after_act), ("after_act", after_act)):
        tally.add(f"csam_{label}", c["incident_type"] == CSAM, rows)
        tally.add(f"enticement_{label}", c["incident_type"] == ENTICEMENT, rows)
        tally.add(
            f"sextortion_{label}",
            c["ann_sextortion"],
            rows & (c["incident_type"] == ENTICEMENT),
        )
    tally.add(
        "us_enticement_after_act", c["incident_type"] == ENTICEMENT, after_act & us
    )
    tally.add("snapchat_of_us", c["esp"] == "Snapchat", us & esp_rows)
    tally.add("esp_escalated_us", c["esp_escalated"], us & esp_rows)
    tally.add("esp_escalated_intl", c["esp_escalated"], ~us & ~unknown & esp_rows)
    tally.add("files_per_report", c["files_count"])
    tally.sums["video_share"][0] += float(c["files_video"].sum())
    tally.sums["video_share"][1] += float(c["files_count"].sum())
    for group, rows in (("us", us), ("non_us", ~us)):
        tally.sums[f"a1_{group}"][0] += float(c["files_class_a1"][rows].sum())
        tally.sums[f"a1_{group}"][1] += float(c["files_count"][rows & esp_rows].sum())
    tally.sums["known_hash"][0] += float(c["files_hash_known"].sum())
    tally.sums["known_hash"][1] += float(c["files_count"].sum())
    tally.add("incidents_per_report_2024", c["bundle_incident_count"], from_2024)
    tally.add("informational_unknown_2024", informational, from_2024 & unknown)
    tally.add("escalated_given_informational", escalated, informational)
    tally.add("escalated_enticement", escalated, c["incident_type"] == ENTICEMENT)
    tally.add("escalated_csam", escalated, c["incident_type"] == CSAM)
    for index, bias in enumerate(cfg.label_bias):
        members = bias_mask(c, _jurisdiction(c), bias)
        tally.add(f"bias{index}_rate", escalated, members)
        tally.add(f"bias{index}_p_true", p_true, members)
    names, counts = np.unique(c["esp"][esp_rows].astype(str), return_counts=True)
    for name, count in zip(names, counts, strict=True):
        tally.esp_counts[str(name)] += int(count)


def _jurisdiction(c: Columns) -> np.ndarray:
    codes: np.ndarray = np.where(
        c["country_code"] == "US", 0, np.where(c["location_source"] == "unknown", 2, 1)
    )
    return codes


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a (no rows)"
    return f"{value:.4g}"


def marginal_rows(
    tally: Tally, cfg: GeneratorConfig
) -> list[tuple[str, str, str, str]]:
    """(figure, target, achieved, source) for every calibrated marginal."""
    j, d, a, m = cfg.jurisdiction, cfg.designation, cfg.annotations, cfg.incident_type
    v = tally.value
    rows = [
        (
            "escalation rate (labels)",
            _fmt(cfg.escalation.base_rate),
            _fmt(v("escalated")),
            cfg.escalation.source,
        ),
        (
            "mean p_true",
            _fmt(cfg.escalation.base_rate),
            _fmt(v("p_true")),
            "calibrated by construction",
        ),
        (
            "public reports",
            _fmt(cfg.reporter.public_share),
            _fmt(v("public")),
            cfg.reporter.source,
        ),
        (
            "US share, before 2024",
            _fmt(j.before_2024["US"]),
            _fmt(v("us_before_2024")),
            j.source,
        ),
        (
            "US share, from 2024",
            _fmt(j.from_2024["US"]),
            _fmt(v("us_from_2024")),
            j.source,
        ),
        (
            "unknown location, before 2024",
            _fmt(j.before_2024["unknown"]),
            _fmt(v("unknown_before_2024")),
            j.source + "; low-quality ESPs add unknowns (M16)",
        ),
        (
            "unknown location, from 2024",
            _fmt(j.from_2024["unknown"]),
            _fmt(v("unknown_from_2024")),
            j.source + "; low-quality ESPs add unknowns (M16)",
        ),
        (
            "India share, from 2024",
            _fmt(cfg.countries.shares.get("IN")),
            _fmt(v("india_from_2024")),
            cfg.countries.source,
        ),
        (
            "CSAM share, before the Act",
            _fmt(m.before_act[CSAM]),
            _fmt(v("csam_before_act")),
            m.source,
        ),
        (
            "enticement share, before the Act",
            _fmt(m.before_act[ENTICEMENT]),
            _fmt(v("enticement_before_act")),
            m.source,
        ),
        (
            "enticement share, after the Act",
            _fmt(m.after_act[ENTICEMENT]),
            _fmt(v("enticement_after_act")),
            m.source,
        ),
        (
            "enticement share of US reports, after the Act",
            _fmt(m.us_after_act[ENTICEMENT]),
            _fmt(v("us_enticement_after_act")),
            m.source,
        ),
        (
            "Snapchat share of US ESP reports",
            _fmt(cfg.esp.us.get("Snapchat")),
            _fmt(v("snapchat_of_us")),
            cfg.esp.source,
        ),
        (
            "sextortion share of enticement, before the Act",
            _fmt(a.sextortion_of_enticement_before_act),
            _fmt(v("sextortion_before_act")),
            a.source,
        ),
        (
            "sextortion share of enticement, after the Act",
            _fmt(a.sextortion_of_enticement_after_act),
            _fmt(v("sextortion_after_act")),
            a.source,
        ),
        (
            "generative-AI reports, before 2024",
            _fmt(a.genai_before_2024),
            _fmt(v("genai_before_2024")),
            a.source,
        ),
        (
            "generative-AI reports, from 2024",
            _fmt(a.genai_from_2024),
            _fmt(v("genai_from_2024")),
            a.source,
        ),
        (
            "ESP escalation flag, US",
            _fmt(cfg.esp_escalation.us),
            _fmt(v("esp_escalated_us")),
            cfg.esp_escalation.source,
        ),
        (
            "ESP escalation flag, international",
            _fmt(cfg.esp_escalation.international),
            _fmt(v("esp_escalated_intl")),
            cfg.esp_escalation.source,
        ),
        (
            "files per report",
            _fmt(cfg.files.mean),
            _fmt(v("files_per_report")),
            cfg.files.source,
        ),
        (
            "video share of files",
            _fmt(cfg.files.video_share),
            _fmt(v("video_share")),
            cfg.files.source,
        ),
        (
            "A1 share of files, US",
            _fmt(cfg.industry.us["A1"]),
            _fmt(v("a1_us")),
            cfg.industry.source,
        ),
        (
            "A1 share of files, non-US",
            _fmt(cfg.industry.non_us["A1"]),
            _fmt(v("a1_non_us")),
            cfg.industry.source,
        ),
        (
            "known-hash share of files",
            _fmt(cfg.hashes.known_share),
            _fmt(v("known_hash")),
            cfg.hashes.source,
        ),
        (
            "incidents per report, from 2024",
            _fmt(cfg.bundling.mean_incidents_from_2024),
            _fmt(v("incidents_per_report_2024")),
            cfg.bundling.source,
        ),
        (
            "informational share, before 2024",
            _fmt(d.informational_before_2024),
            _fmt(v("informational_before_2024")),
            d.source,
        ),
        (
            "informational share, from 2024",
            _fmt(d.informational_from_2024),
            _fmt(v("informational_from_2024")),
            d.source,
        ),
        (
            "informational share of unknown-location reports, from 2024",
            "0.312",
            _fmt(v("informational_unknown_2024")),
            "M4: 2024 per-country table (a check, not a knob)",
        ),
        (
            "escalation rate of informational reports",
            "0",
            _fmt(v("escalated_given_informational")),
            "public-statistics.md §3 consistency check 2",
        ),
        (
            "escalation rate, enticement vs CSAM",
            "enticement far above CSAM",
            f"{_fmt(v('escalated_enticement'))} vs {_fmt(v('escalated_csam'))}",
            "public-statistics.md §3 consistency check 3",
        ),
    ]
    for index, bias in enumerate(cfg.label_bias):
        rate, truth = v(f"bias{index}_rate"), v(f"bias{index}_p_true")
        achieved = _fmt(rate / truth) if rate is not None and truth else "n/a"
        rows.append(
            (
                f"label bias: {bias.attribute}={bias.group} escalation rate / mean p_true",
                _fmt(bias.factor),
                achieved,
                "label-bias knob (labels only; p_true unchanged)",
            )
        )
    return rows


def write_card(
    path: Path, tally: Tally, cfg: GeneratorConfig, summary: dict[str, str]
) -> None:
    """Write the dataset card (Markdown) beside the history file."""
    lines = ["# Dataset card: synthetic report history", ""]
    lines += [f"- **{key}**: {value}" for key, value in summary.items()]
    lines += [
        "",
        "Synthetic data: no real report is in it. Outcomes are drawn from `p_true`, the true "
        "escalation probability given the observable metadata and point-in-time account "
        "history, so model quality can be compared with the best possible (the oracle).",
        "",
        "## Calibrated marginals",
        "",
        "| figure | target | achieved | source |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in marginal_rows(tally, cfg)]
    lines += [
        "",
        "## ESP mix (top 15 of ESP reports)",
        "",
        "| ESP | share |",
        "|---|---|",
    ]
    total = sum(tally.esp_counts.values()) or 1
    top = sorted(tally.esp_counts.items(), key=lambda kv: -kv[1])[:15]
    lines += [f"| {name} | {count / total:.4f} |" for name, count in top]
    lines += ["", "## Label-bias knobs", ""]
    if cfg.label_bias:
        lines += [
            f"- {b.attribute} = {b.group}: escalations kept with probability {b.factor}"
            for b in cfg.label_bias
        ]
    else:
        lines.append("None (historical labels follow p_true).")
    lines += ["", "## Knobs", "", "```json", cfg.model_dump_json(indent=2), "```", ""]
    path.write_text("\n".join(lines))
