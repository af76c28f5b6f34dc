"""Warnings that are rules, not model output: computed the same way for every report.

They answer what an analyst must know before acting, whatever the score: whether the
platform viewed the files (if not, opening them may need a warrant), how long the platform
must preserve the content, what makes the report likely "informational", and which earlier
reports share its hashed identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from features.schema import TipReport
from features.vocab import LocationSource, ReporterType


class RuleWarning(BaseModel):
    """One rule's finding: a stable ``code`` and a sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    text: str


@dataclass(frozen=True)
class PreservationPolicy:
    """Preservation period by receipt date (18 U.S.C. 2258A(h), REPORT Act of 2024).

    Dates are taken in UTC. Before ``change_date`` the period is ``days_before`` days; from
    it, one calendar year (a 29 February deadline falls back to 28 February).
    """

    change_date: date = date(2024, 5, 7)
    days_before: int = 90

    def period(self, received_at: datetime) -> str:
        """The period in words."""
        return f"{self.days_before}-day" if self._old(received_at) else "one-year"

    def _old(self, received_at: datetime) -> bool:
        return received_at.astimezone(UTC).date() < self.change_date

    def deadline(self, received_at: datetime) -> date:
        """The last day the platform must preserve the reported content."""
        received = received_at.astimezone(UTC).date()
        if self._old(received_at):
            return received + timedelta(days=self.days_before)
        try:
            return received.replace(year=received.year + 1)
        except ValueError:  # 29 February
            return received.replace(year=received.year + 1, day=28)


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` with its noun in the right number ("1 file", "2 files"): never "file(s)"."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def files_not_viewed(report: TipReport) -> RuleWarning | None:
    """Files the platform did not say it viewed (a missing flag counts as not viewed)."""
    unseen = sum(f.viewed_by_esp is not True for f in report.files)
    if not unseen:
        return None
    return RuleWarning(
        code="files_not_viewed",
        text=(
            f"{unseen} of {counted(len(report.files), 'file')} "
            f"{'was' if unseen == 1 else 'were'} not viewed by the platform "
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
    period = policy.period(report.received_at)
    if left < 0:
        return RuleWarning(
            code="preservation_expired",
            text=(
                f"The {period} preservation period ended on {deadline.isoformat()} "
                f"({counted(-left, 'day')} ago): the platform may no longer hold the content"
            ),
        )
    return RuleWarning(
        code="preservation_deadline",
        text=(
            f"Preservation ({period}) runs until {deadline.isoformat()}: "
            f"{counted(left, 'day')} left to request the content"
        ),
    )


def likely_informational(report: TipReport) -> RuleWarning | None:
    """What is missing that makes an industry report hard to act on.

    Only what the report lacks: an estimated location without a country is a location
    (its country is unknown, the place is not), and identifiers the report hashed for
    linkage (an ``associatedAccount``'s, say) are user identifiers even when the
    reported person's own flags are unset (an outside XML client, session 9).
    """
    person, keys = report.reported_person, report.linkage
    missing = []
    if (
        report.location.source == LocationSource.UNKNOWN
        and not person.estimated_location
    ):
        missing.append("no location")
    named = person.esp_user_id or person.screen_name or person.email or person.phone
    if not (named or keys.accounts or keys.emails or keys.phones):
        missing.append("no user identifiers")
    if not person.upload_ip:
        missing.append("no upload IP")
    if not missing:
        return None
    return RuleWarning(
        code="likely_informational",
        text="Likely informational: " + ", ".join(missing),
    )


LINK_WORDS = {
    "hist_account_reports_365d": "account",
    "hist_email_reports_365d": "email",
    "hist_phone_reports_365d": "phone",
    "hist_ip_reports_365d": "IP address",
    "hist_device_reports_365d": "device",
    "hist_file_reports_365d": "file hash",
}


def linked_reports(links: dict[str, int]) -> RuleWarning | None:
    """Earlier reports (past year) that share this report's hashed identifiers."""
    seen = {words: links.get(name, 0) for name, words in LINK_WORDS.items()}
    seen = {words: count for words, count in seen.items() if count > 0}
    if not seen:
        return None
    escalated = links.get("hist_account_escalations_365d", 0)
    kinds = ", ".join(f"{count} by {words}" for words, count in seen.items())
    tail = f"; {escalated} escalated (by account)" if escalated else ""
    return RuleWarning(
        code="linked_reports",
        text=(
            "Linked to earlier reports in the past year on the same hashed identifiers "
            f"({kinds}){tail}"
        ),
    )


def warnings_for(
    report: TipReport,
    links: dict[str, int],
    today: date,
    policy: PreservationPolicy = PreservationPolicy(),
) -> list[RuleWarning]:
    """Every rule's warning for one report, in a fixed order.

    The preservation period and the referral/informational designation are an ESP's
    report's (18 U.S.C. 2258A): a report from the public starts no platform's preservation
    and is not designated, so it gets neither warning (it was told "the platform may no
    longer hold the content"; an outside test, session 9).
    """
    industry = report.reporter_type is ReporterType.ESP
    found = [
        files_not_viewed(report),
        preservation(report, today, policy) if industry else None,
        likely_informational(report) if industry else None,
        linked_reports(links),
    ]
    return [w for w in found if w is not None]
