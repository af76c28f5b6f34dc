"""Stage 2, files: per-report file counts, tags, classifications and hash matches.

File-level facts are drawn as counts per report (binomial / multinomial over the report's
files), which is exactly what the flat form keeps, so no per-file rows are ever built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from training.synth.config import GeneratorConfig
from training.synth.population import US

if TYPE_CHECKING:
    from training.synth.reports import Chunk

MAX_FILES = 500
CLASSES = ("A1", "A2", "B1", "B2", "none")


def file_counts(chunk: Chunk, cfg: GeneratorConfig) -> np.ndarray:
    """Files per report: zero-inflated, log-normal body, mean as M8; one for batched reports."""
    f = cfg.files
    csam = chunk.type_key() == "csam"
    zero = np.where(csam, f.zero_share_csam, f.zero_share_other)
    mean_nonzero = f.mean / (1.0 - f.zero_share_csam)
    mu = np.log(max(mean_nonzero - 0.5, 0.6)) - f.lognormal_sigma**2 / 2
    body = 1 + np.floor(np.exp(chunk.rng.normal(mu, f.lognormal_sigma, chunk.size)))
    counts = np.where(
        chunk.rng.random(chunk.size) < zero, 0, np.minimum(body, MAX_FILES)
    )
    counts = np.where(chunk.col("batched"), 1, counts).astype(np.int64)
    public = chunk.col("public")
    counts[public] = np.minimum(counts[public], 1)
    return counts


def _binomial(chunk: Chunk, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    draws: np.ndarray = chunk.rng.binomial(n, np.clip(p, 0.0, 1.0)).astype(np.int64)
    return draws


def _tags(
    chunk: Chunk, cfg: GeneratorConfig, n: np.ndarray, viral: np.ndarray
) -> dict[str, np.ndarray]:
    t = cfg.file_tags
    enticement = chunk.type_key() == "enticement"
    rates: dict[str, np.ndarray | float] = {
        "anime_drawing_virtual_hentai": t["anime"],
        "potential_meme": np.where(viral, t["meme_given_viral_content"], 0.0),
        "viral": np.where(viral, t["viral_given_viral_content"], 0.0),
        "possible_self_production": np.where(
            enticement, t["self_production_enticement"], t["self_production"]
        ),
        "physical_harm": t["physical_harm"],
        "violence_gore": t["violence_gore"],
        "bestiality": t["bestiality"],
        "live_streaming": np.where(
            enticement, t["live_streaming_enticement"], t["live_streaming"]
        ),
        "infant": t["infant"],
    }
    batched = chunk.col("batched")
    out = {}
    for tag, rate in rates.items():
        counts = _binomial(chunk, n, rate)
        if tag in ("viral", "potential_meme"):
            counts = np.where(batched, 1, counts)
        elif tag != "anime_drawing_virtual_hentai":
            counts = np.where(batched, 0, counts)
        out[f"files_tag_{tag}"] = counts
    out["files_tag_generative_ai"] = _genai(chunk, cfg, n)
    return out


def _genai(chunk: Chunk, cfg: GeneratorConfig, n: np.ndarray) -> np.ndarray:
    """Generative-AI content is a property of a report (M5d is a share of reports)."""
    a = cfg.annotations
    rate = np.where(chunk.col("from_2024"), a.genai_from_2024, a.genai_before_2024)
    with_files = max(float(np.mean(n > 0)), 1e-9)
    flagged = (
        (n > 0)
        & (chunk.rng.random(chunk.size) < rate / with_files)
        & ~chunk.col("batched")
    )
    tagged = 1 + _binomial(chunk, np.maximum(n - 1, 0), 0.5)
    counts: np.ndarray = np.where(flagged, tagged, 0)
    return counts


def _classes(
    chunk: Chunk, cfg: GeneratorConfig, n: np.ndarray
) -> dict[str, np.ndarray]:
    us = chunk.col("jurisdiction") == US
    table = np.array(
        [
            [cfg.industry.non_us[c] for c in CLASSES],
            [cfg.industry.us[c] for c in CLASSES],
        ]
    )
    probs = table[us.astype(int)]
    probs = probs / probs.sum(axis=1, keepdims=True)
    counts = chunk.rng.multinomial(n, probs)
    counts[chunk.col("public")] = 0
    return {
        f"files_class_{c.lower()}": counts[:, i].astype(np.int64)
        for i, c in enumerate(CLASSES[:4])
    }


def draw_files(
    chunk: Chunk, cfg: GeneratorConfig, columns: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every ``files_*`` column for one chunk (plus the internal viral-content flag)."""
    t, f = cfg.file_tags, cfg.files
    n = file_counts(chunk, cfg)
    viral = chunk.col("batched") | (
        (chunk.type_key() == "csam")
        & (chunk.rng.random(chunk.size) < t["viral_content"])
    )
    video = _binomial(chunk, n, f.video_share)
    other = _binomial(chunk, n - video, f.other_share / (1.0 - f.video_share))
    viewed = _binomial(chunk, n, chunk.profile_rate(cfg, "file_viewed"))
    known = _binomial(
        chunk, n, np.where(viral, t["known_given_viral"], t["known_otherwise"])
    )
    out = {
        "files_count": n,
        "files_image": n - video - other,
        "files_video": video,
        "files_viewed": viewed,
        "files_exif_viewed": _binomial(chunk, viewed, t["exif_viewed_given_viewed"]),
        "files_public": _binomial(chunk, n, t["public"]),
        "files_supplemental": _binomial(chunk, np.maximum(n - 1, 0), t["supplemental"]),
        "files_upload_ip": np.where(
            columns["rp_upload_ip"], _binomial(chunk, n, 0.8), 0
        ),
        "files_hash_known": known,
        "files_hash_novel": _binomial(chunk, n - known, t["novel_given_not_known"]),
        "_viral_content": viral,
    }
    out |= _tags(chunk, cfg, n, viral)
    out |= _classes(chunk, cfg, n)
    return out
