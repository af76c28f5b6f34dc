"""Warnings that are rules, not model output: computed the same way for every report.

They answer what an analyst must know before acting, whatever the score: whether the
platform viewed the files (if not, opening them may need a warrant), how long the platform
must preserve the content, what makes the report likely "informational", and which earlier
reports share its hashed identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from features.schema import TipReport
from features.vocab import LocationSource


class RuleWarning(BaseModel):
    """One rule's finding: a stable ``code`` and a sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    text: str


@dataclass(frozen=True)
class PreservationPolicy:
    """Preservation period by receipt date (18 U.S.C. 2258A(h), REPORT Act of 2024)."""

    change_date: date = date(2024, 5, 7)
    days_before: int = 90
    days_after: int = 365

    def deadline(self, received_at: datetime) -> date:
        """The last day the platform must preserve the reported content."""
        days = (
            self.days_before
            if received_at.date() < self.change_date
            else self.days_after
        )
        return (received_at + timedelta(days=days)).date()


def files_not_viewed(report: TipReport) -> RuleWarning | None:
    """Files the platform did not say it viewed (a missing flag counts as not viewed)."""
    unseen = sum(f.viewed_by_esp is not True for f in report.files)
    if not unseen:
        return None
    return RuleWarning(
        code="files_not_viewed",
        text=(
            f"{unseen} of {len(report.files)} file(s) were not viewed by the platform "
            "(a missing flag counts as not viewed): a warrant may be needed before "
            "anyone opens them"
        ),
    )


def preservation(
    report: TipReport, today: date, policy: PreservationPolicy
) -> RuleWarning:
    """The preservation deadline, with the days left (or how long ago it passed)."""
    deadline = policy.deadline(report.received_at)
    left = (deadline - today).days
    period = (
        policy.days_before
        if report.received_at.date() < policy.change_date
        else policy.days_after
    )
    if left < 0:
        return RuleWarning(
            code="preservation_expired",
            text=(
                f"The {period}-day preservation period ended on {deadline.isoformat()} "
                f"({-left} day(s) ago): the platform may no longer hold the content"
            ),
        )
    return RuleWarning(
        code="preservation_deadline",
        text=(
            f"Preservation ({period} days) runs until {deadline.isoformat()}: "
            f"{left} day(s) left to request the content"
        ),
    )


def likely_informational(report: TipReport) -> RuleWarning | None:
    """What is missing that makes an industry report hard to act on."""
    person = report.reported_person
    missing = []
    if report.location.source == LocationSource.UNKNOWN:
        missing.append("no location")
    if not (person.esp_user_id or person.screen_name or person.email or person.phone):
        missing.append("no user identifiers")
    if not person.upload_ip:
        missing.append("no upload IP")
    if not missing:
        return None
    return RuleWarning(
        code="likely_informational",
        text="Likely informational: " + ", ".join(missing),
    )


def linked_reports(links: dict[str, int]) -> RuleWarning | None:
    """Earlier reports that share this report's hashed identifiers."""
    seen = {k: v for k, v in links.items() if v > 0 and "escalations" not in k}
    if not seen:
        return None
    escalated = links.get("hist_account_escalations_365d", 0)
    kinds = ", ".join(
        f"{count} by {name.split('_')[1]}" for name, count in sorted(seen.items())
    )
    tail = f"; {escalated} of them escalated" if escalated else ""
    return RuleWarning(
        code="linked_reports",
        text=f"Linked to earlier reports on the same hashed identifiers ({kinds}){tail}",
    )


def warnings_for(
    report: TipReport,
    links: dict[str, int],
    today: date,
    policy: PreservationPolicy = PreservationPolicy(),
) -> list[RuleWarning]:
    """Every rule's warning for one report, in a fixed order."""
    found = [
        files_not_viewed(report),
        preservation(report, today, policy),
        likely_informational(report),
        linked_reports(links),
    ]
    return [w for w in found if w is not None]
