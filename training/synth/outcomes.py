"""Stage 3 of the generator: the latent escalation model, ``p_true`` and the drawn outcomes.

``p_true`` is a function of observable metadata only — the report's flat columns and its
point-in-time account history (``prior_reports``, which linkage features can compute) —
with no hidden per-row noise. It is the probability that a report is escalated:

    q      = sigmoid(c_regime + zeta(x))     clearinghouse designates it informational
    r      = sigmoid(b + eta(x))             escalation risk of a referral
    p_true = (1 - q) * r

Outcomes are drawn from exactly these probabilities (informational reports are never
escalated), so ``P(escalated | x) = p_true`` holds by construction. Label-bias knobs then
flip some escalations of a named group, changing labels and never ``p_true``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from training.synth.config import GeneratorConfig, LabelBias

TYPE_RISK = {
    "Online Enticement of Children for Sexual Acts": "enticement",
    "Child Sex Trafficking": "trafficking",
    "Child Sexual Molestation": "molestation",
    "Child Sex Tourism": "sex_tourism",
    "Unsolicited Obscene Material Sent to a Child": "unsolicited_obscene",
    "Misleading Domain Name": "misleading",
    "Misleading Words or Digital Images on the Internet": "misleading",
}
Columns = dict[str, np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def _share(columns: Columns, name: str) -> np.ndarray:
    n = columns["files_count"]
    share: np.ndarray = np.divide(columns[name], n, out=np.zeros(len(n)), where=n > 0)
    return share


def _lag_days(columns: Columns) -> np.ndarray:
    lag = columns["received_at"] - columns["incident_at"]
    days: np.ndarray = lag.astype("timedelta64[us]").astype(np.int64) / 86_400e6
    return days


def _type_terms(columns: Columns, w: dict[str, float]) -> np.ndarray:
    incident = columns["incident_type"]
    terms = np.zeros(len(incident))
    for value, key in TYPE_RISK.items():
        terms += np.where(incident == value, w[key], 0.0)
    return terms


def risk_score(
    columns: Columns, prior_reports: np.ndarray, cfg: GeneratorConfig
) -> np.ndarray:
    """eta(x): the referral escalation log-odds, before the intercept."""
    w, c = cfg.risk, columns
    enticement = c["incident_type"] == "Online Enticement of Children for Sexual Acts"
    minor = c["victims_minor_stated"] | c["recipients_minor_stated"]
    kinds = (
        c["rp_esp_user_id"].astype(int)
        + c["rp_screen_name"]
        + c["rp_email"]
        + c["rp_phone"]
    )
    after_act = c["received_at"] >= np.datetime64(cfg.calendar.report_act_date, "us")
    window = np.where(
        after_act, cfg.preservation.days_after_act, cfg.preservation.days_before_act
    )
    lag = _lag_days(c)
    worst_a1 = c["files_class_a1"] > 0
    eta = _type_terms(c, w)
    for flag, key in (
        ("esp_escalated", "esp_escalated"),
        ("ann_sextortion", "sextortion"),
        ("ann_csam_solicitation", "csam_solicitation"),
        ("ann_sadistic_online_exploitation", "sadistic"),
        ("ann_minor_to_minor_interaction", "minor_to_minor"),
        ("ann_spam", "spam"),
        ("victims_minor_stated", "victim_minor"),
        ("recipients_minor_stated", "recipient_minor"),
        ("rp_upload_ip", "upload_ip"),
        ("bundle_batched", "batched"),
    ):
        eta += w[key] * c[flag]
    eta += w["enticement_minor_upload_ip"] * (enticement & minor & c["rp_upload_ip"])
    eta += w["per_identifier_kind"] * kinds
    eta += w["us"] * (c["country_code"] == "US")
    for tag, key in (
        ("infant", "infant"),
        ("physical_harm", "physical_harm"),
        ("live_streaming", "live_streaming"),
        ("possible_self_production", "self_production"),
        ("generative_ai", "generative_ai"),
    ):
        eta += w[key] * (c[f"files_tag_{tag}"] > 0)
    eta += w["viral_share"] * _share(c, "files_tag_viral")
    eta += w["novel_share"] * _share(c, "files_hash_novel")
    eta += w["worst_a1"] * worst_a1 + w["worst_b1"] * (
        ~worst_a1 & (c["files_class_b1"] > 0)
    )
    eta += w["prior_reports_log"] * np.log1p(prior_reports)
    eta += w["lag_log"] * np.log1p(lag / 30.0) + w["beyond_preservation"] * (
        lag > window
    )
    return eta


def informational_score(columns: Columns, cfg: GeneratorConfig) -> np.ndarray:
    """zeta(x): the log-odds that the clearinghouse designates the report informational."""
    w, c = cfg.informational_model, columns
    identified = (
        c["rp_esp_user_id"] | c["rp_screen_name"] | c["rp_email"] | c["rp_phone"]
    )
    contact = np.isin(c["incident_type"], list(TYPE_RISK)[:4])
    low_quality = np.isin(c["esp"], cfg.esp.low_quality)
    zeta = w["unknown_location"] * (c["location_source"] == "unknown")
    zeta = zeta + w["no_user_identifier"] * ~identified
    zeta += (
        w["viral_share"] * _share(c, "files_tag_viral")
        + w["batched"] * c["bundle_batched"]
    )
    zeta += (
        w["enticement_or_contact"] * contact + w["esp_escalated"] * c["esp_escalated"]
    )
    zeta += w["low_quality_esp"] * low_quality
    result: np.ndarray = zeta.astype(np.float64)
    return result


def solve_intercept(
    score: np.ndarray, target: float, scale: np.ndarray | None = None
) -> float:
    """The intercept b with mean(scale * sigmoid(b + score)) == target (bisection)."""
    scale = np.ones_like(score) if scale is None else scale
    low, high = -40.0, 40.0
    for _ in range(100):
        mid = (low + high) / 2
        if float(np.mean(scale * sigmoid(mid + score))) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def draw_outcomes(
    rng: np.random.Generator,
    p_informational: np.ndarray,
    risk: np.ndarray,
    cfg: GeneratorConfig,
) -> dict[str, np.ndarray]:
    """Designation, escalation and priority drawn from the model's probabilities."""
    n = len(risk)
    informational = rng.random(n) < p_informational
    escalated = ~informational & (rng.random(n) < risk)
    u = rng.random(n)
    p2 = np.minimum(cfg.priority.cap, cfg.priority.p2_per_risk * risk)
    p3 = np.minimum(cfg.priority.cap, cfg.priority.p3_per_risk * risk)
    referral_priority = np.where(u < p2, "2", np.where(u < p2 + p3, "3", "E"))
    priority = np.where(escalated, "1", np.where(informational, "E", referral_priority))
    return {
        "escalated": escalated,
        "priority": priority.astype(object),
        "designation": np.where(informational, "informational", "referral").astype(
            object
        ),
    }


def bias_mask(
    columns: Columns, jurisdiction: np.ndarray, bias: LabelBias
) -> np.ndarray:
    """Rows of the group a label-bias knob names."""
    if bias.attribute == "country":
        mask: np.ndarray = columns["country_code"] == bias.group
    elif bias.attribute == "esp":
        mask = columns["esp"] == bias.group
    else:
        names = np.array(["US", "international", "unknown"], dtype=object)
        mask = names[jurisdiction] == bias.group
    return mask


def apply_label_bias(
    rng: np.random.Generator,
    outcomes: dict[str, np.ndarray],
    columns: Columns,
    jurisdiction: np.ndarray,
    cfg: GeneratorConfig,
) -> None:
    """Under-escalate named groups: an escalation survives with probability ``factor``."""
    for bias in cfg.label_bias:
        group = bias_mask(columns, jurisdiction, bias)
        flipped = (
            outcomes["escalated"] & group & (rng.random(len(group)) >= bias.factor)
        )
        outcomes["escalated"] = outcomes["escalated"] & ~flipped
        outcomes["priority"] = np.where(flipped, "2", outcomes["priority"]).astype(
            object
        )


def draw_decision_times(
    rng: np.random.Generator,
    received: np.ndarray,
    priority: np.ndarray,
    cfg: GeneratorConfig,
) -> pa.Array:
    """``decided_at`` per report: receipt plus a log-normal lag of its final priority.

    Drawn after the outcomes (and the label-bias flips), from their own random stream, so
    every other column keeps its bytes. Null for a report never reviewed.
    """
    n = len(received)
    z, u = rng.standard_normal(n), rng.random(n)
    hours, never = np.zeros(n), np.zeros(n, dtype=bool)
    for value, lag in cfg.decision_lag.by_priority().items():
        rows = priority == value
        hours[rows] = lag.median_hours * np.exp(lag.sigma * z[rows])
        never[rows] = u[rows] < lag.never_reviewed
    lag_us = np.maximum(np.round(hours * 3_600e6), 1).astype(np.int64)
    decided = received.astype("datetime64[us]") + lag_us.astype("timedelta64[us]")
    return pa.array(decided, mask=never).cast(pa.timestamp("us", tz="UTC"))
