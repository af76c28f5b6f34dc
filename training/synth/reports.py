"""Stage 2 of the generator: one chunk of reports as flat columns (the contract's flat form).

Everything here is drawn per chunk from the chunk's own random stream, so a chunk can be
generated again bit for bit (the generator's second pass relies on that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from features.vocab import INCIDENT_KINDS, REPORT_ANNOTATIONS
from training.synth.config import GeneratorConfig
from training.synth.files import draw_files
from training.synth.population import (
    INCIDENT_TYPES,
    MICROS_PER_DAY,
    US,
    Population,
    profile_table,
)

TYPE_KEYS = {
    "Child Pornography (possession, manufacture, and distribution)": "csam",
    "Online Enticement of Children for Sexual Acts": "enticement",
    "Child Sex Trafficking": "trafficking",
    "Child Sexual Molestation": "molestation",
    "Child Sex Tourism": "tourism",
    "Unsolicited Obscene Material Sent to a Child": "obscene",
    "Misleading Domain Name": "misleading",
    "Misleading Words or Digital Images on the Internet": "misleading",
}
CONTACT = ("enticement", "trafficking", "molestation", "tourism")


@dataclass
class Chunk:
    """Rows ``start:stop`` of the population, with their per-row stage-1 facts."""

    start: int
    stop: int
    pop: Population
    rng: np.random.Generator

    @property
    def size(self) -> int:
        """Rows in the chunk."""
        return self.stop - self.start

    def col(self, name: str) -> Any:
        """The chunk's slice of a population column."""
        return getattr(self.pop, name)[self.start : self.stop]

    def type_key(self) -> np.ndarray:
        """Short incident-type keys (csam, enticement, ...) per row."""
        keys = np.array([TYPE_KEYS[t] for t in INCIDENT_TYPES], dtype=object)
        picked: np.ndarray = keys[self.col("incident")]
        return picked

    def profile_rate(self, cfg: GeneratorConfig, field: str) -> np.ndarray:
        """A profile field's rate per row, by the row's ESP profile."""
        rates: np.ndarray = profile_table(cfg, self.pop.profile_names, field)[
            self.col("profile")
        ]
        return rates


def _bern(chunk: Chunk, p: np.ndarray | float) -> np.ndarray:
    draws: np.ndarray = chunk.rng.random(chunk.size) < p
    return draws


def times(chunk: Chunk) -> dict[str, np.ndarray]:
    """Receipt and incident times; incidents precede receipt by a log-normal lag."""
    received = chunk.col("received_us")
    contact = np.isin(chunk.type_key(), CONTACT)
    median_days = np.where(contact, 0.5, 2.0)
    lag_days = median_days * np.exp(chunk.rng.normal(0.0, 1.3, chunk.size))
    incident = received - (lag_days * MICROS_PER_DAY).astype(np.int64)
    return {
        "received_at": received.astype("datetime64[us]"),
        "incident_at": incident.astype("datetime64[us]"),
    }


def reporter(chunk: Chunk) -> dict[str, np.ndarray]:
    """Reporter type, ESP name and jurisdiction columns."""
    names = np.asarray([*chunk.pop.esp_names, None], dtype=object)
    esp = chunk.col("esp")
    public = chunk.col("public")
    return {
        "reporter_type": np.where(public, "public", "esp").astype(object),
        "esp": names[np.where(esp >= 0, esp, len(names) - 1)],
        "country_code": chunk.col("country"),
    }


def _esp_escalation(chunk: Chunk, cfg: GeneratorConfig, key: np.ndarray) -> np.ndarray:
    """ESP urgency flags: M7 rates for US and international, 8x as likely for contact types."""
    us = chunk.col("jurisdiction") == US
    multiplier = np.where(np.isin(key, CONTACT), 8.0, 1.0)
    rate = np.zeros(chunk.size)
    for mask, base in (
        (us, cfg.esp_escalation.us),
        (~us, cfg.esp_escalation.international),
    ):
        if mask.any():
            rate[mask] = base * multiplier[mask] / multiplier[mask].mean()
    allowed = ~chunk.col("batched") & ~chunk.col("public")
    flagged: np.ndarray = allowed & _bern(chunk, np.minimum(rate, 1.0))
    return flagged


def report_annotations(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """The ESP's escalation flag and report annotations."""
    key = chunk.type_key()
    enticement = key == "enticement"
    a = cfg.annotations
    sextortion_rate = np.where(
        chunk.col("after_act"),
        a.sextortion_of_enticement_after_act,
        a.sextortion_of_enticement_before_act,
    )
    rates = {
        "sextortion": np.where(enticement, sextortion_rate, 0.0),
        "csam_solicitation": a.csam_solicitation * np.where(enticement, 5.0, 1.0),
        "minor_to_minor_interaction": np.full(chunk.size, a.minor_to_minor),
        "spam": np.full(chunk.size, a.spam),
        "sadistic_online_exploitation": a.sadistic * np.where(enticement, 10.0, 1.0),
    }
    batched = chunk.col("batched")
    out = {"esp_escalated": _esp_escalation(chunk, cfg, key)}
    for name in REPORT_ANNOTATIONS:
        out[f"ann_{name}"] = ~batched & _bern(chunk, np.minimum(rates[name], 1.0))
    return out


def incident_kinds(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """Which internetDetails kinds each report carries, by incident type."""
    key = chunk.type_key()
    batched = chunk.col("batched")
    out = {}
    for kind in INCIDENT_KINDS:
        rate = np.array([cfg.channels.get(k, {}).get(kind, 0.0) for k in key])
        out[f"inc_{kind}"] = ~batched & _bern(chunk, rate)
    return out


def reported_person(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """What the report says about the reported person(s), by the ESP's practice."""
    p = cfg.parties
    public, batched = chunk.col("public"), chunk.col("batched")
    has_account = chunk.col("account") >= 0
    present = has_account | (~batched & _bern(chunk, np.where(public, 0.5, 0.6)))
    count = np.where(batched, chunk.col("incident_count"), present.astype(np.int64))
    detail = present & ~batched
    upload = detail & _bern(chunk, chunk.profile_rate(cfg, "upload_ip"))
    ip_events = np.where(upload, 1, 0) + np.where(
        detail, chunk.rng.poisson(p["ip_events_mean"], chunk.size), 0
    )
    prior = chunk.col("prior_reports")
    return {
        "rp_count": count,
        "rp_ip_events": ip_events,
        "rp_device_ids": np.where(
            detail, chunk.rng.poisson(p["devices_mean"], chunk.size), 0
        ),
        "rp_prior_ct_reports": np.where(
            detail, chunk.rng.binomial(prior, p["esp_cites_prior"]), 0
        ),
        "rp_esp_user_id": has_account | (batched & (count > 0)),
        "rp_screen_name": detail & _bern(chunk, chunk.profile_rate(cfg, "screen_name")),
        "rp_email": detail & _bern(chunk, chunk.profile_rate(cfg, "email")),
        "rp_phone": detail & _bern(chunk, chunk.profile_rate(cfg, "phone")),
        "rp_upload_ip": upload,
        "rp_age_or_dob": detail & _bern(chunk, p["age_given"]),
        "rp_estimated_location": np.zeros(chunk.size, dtype=bool),
        "rp_account_temporarily_disabled": detail
        & _bern(chunk, p["temporarily_disabled"]),
        "rp_account_permanently_disabled": detail
        & _bern(chunk, p["permanently_disabled"]),
    }


def parties(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """Victims and intended recipients, and whether one is stated to be a minor."""
    p, key = cfg.parties, chunk.type_key()
    batched = chunk.col("batched")
    enticement = np.isin(key, ("enticement", "obscene"))
    contact = np.isin(key, ("trafficking", "molestation", "tourism"))
    victim_rate = np.where(
        contact, p["victim_contact"], np.where(key == "csam", p["victim_csam"], 0.0)
    )
    victims = np.where(
        ~batched & _bern(chunk, victim_rate),
        1 + chunk.rng.binomial(1, 0.2, chunk.size),
        0,
    )
    minor_rate = np.where(contact, p["victim_minor_contact"], p["victim_minor_csam"])
    recipients = np.where(enticement & _bern(chunk, p["recipient_enticement"]), 1, 0)
    return {
        "victims_count": victims,
        "victims_minor_stated": (victims > 0) & _bern(chunk, minor_rate),
        "recipients_count": recipients,
        "recipients_minor_stated": (recipients > 0)
        & _bern(chunk, p["recipient_minor_enticement"]),
    }


def location(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """How the country was found: supplied by the ESP or derived from an IP address."""
    known = chunk.col("country") != None  # noqa: E711 (object array comparison)
    supplied = known & _bern(chunk, chunk.profile_rate(cfg, "location_supplied"))
    source = np.where(~known, "unknown", np.where(supplied, "supplied", "ip_derived"))
    return {"location_source": source.astype(object), "rp_estimated_location": supplied}


def bundle(chunk: Chunk) -> dict[str, np.ndarray]:
    """Batched flag and incidents per report (drawn in stage 1)."""
    return {
        "bundle_batched": chunk.col("batched"),
        "bundle_incident_count": chunk.col("incident_count"),
    }


def draw_chunk(chunk: Chunk, cfg: GeneratorConfig) -> dict[str, np.ndarray]:
    """Every flat column except ids, incident type and linkage for one chunk."""
    columns: dict[str, np.ndarray] = {}
    columns |= times(chunk)
    columns |= reporter(chunk)
    columns |= report_annotations(chunk, cfg)
    columns |= incident_kinds(chunk, cfg)
    columns |= reported_person(chunk, cfg)
    columns |= location(chunk, cfg)
    columns |= parties(chunk, cfg)
    columns |= bundle(chunk)
    columns |= draw_files(chunk, cfg, columns)
    return columns
