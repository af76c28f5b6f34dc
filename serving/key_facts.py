"""The report's key facts, read from the report itself, never from the model.

Why: an analyst must see in ten seconds what the report says (batched or not, a victim's
stated age, whether the platform viewed the files, an upload IP, prior reports cited, a
disabled account, the preservation deadline, linked reports, where and how the location
was found, who reported) whether or not the model happened to lean on it.
"""

from __future__ import annotations

from datetime import date

from features.platforms import OTHER
from features.schema import TipReport
from features.vocab import LocationSource, ReporterType
from serving.rules import LINK_WORDS, PreservationPolicy, counted
from serving.schemas import KeyFactOut


def _batched(report: TipReport) -> KeyFactOut:
    bundle = report.bundle
    text = (
        f"Yes: stands for {counted(bundle.incident_count, 'incident', 'incidents')}"
        if bundle.batched
        else "No"
    )
    return KeyFactOut(code="batched", label="Batched (viral) report", text=text)


def _victim_age(report: TipReport) -> KeyFactOut:
    if report.victims.minor_stated or report.recipients.minor_stated:
        who = "a victim" if report.victims.minor_stated else "an intended recipient"
        text = f"Yes: {who} is stated to be under 18"
    else:
        text = "No age under 18 is stated"
    return KeyFactOut(code="victim_age", label="Victim age stated", text=text)


def _files_viewed(report: TipReport) -> KeyFactOut:
    total = len(report.files)
    unseen = sum(f.viewed_by_esp is not True for f in report.files)
    if not total:
        text = "No files were listed"
    elif not unseen:
        every = "The one file" if total == 1 else f"All {total} files"
        text = f"{every} {'was' if total == 1 else 'were'} viewed by the platform"
    else:
        text = (
            f"{unseen} of {counted(total, 'file', 'files')} not viewed by the platform: "
            "a warrant may be needed"
        )
    return KeyFactOut(code="files_viewed", label="Files viewed by the ESP", text=text)


def _upload_ip(report: TipReport) -> KeyFactOut:
    given = report.reported_person.upload_ip or any(f.upload_ip for f in report.files)
    text = "Supplied" if given else "Not supplied"
    return KeyFactOut(code="upload_ip", label="Upload IP", text=text)


def _prior_reports(report: TipReport) -> KeyFactOut:
    n = report.reported_person.prior_ct_reports
    text = counted(n, "report cited", "reports cited") if n else "No report cited"
    return KeyFactOut(
        code="prior_ct_reports", label="Prior CyberTipline reports", text=text
    )


def _account(report: TipReport) -> KeyFactOut:
    person = report.reported_person
    if person.account_permanently_disabled:
        text = "Permanently disabled"
    elif person.account_temporarily_disabled:
        text = "Temporarily disabled"
    elif report.linkage.accounts or person.esp_user_id or person.screen_name:
        text = "Not stated as disabled"
    else:
        text = "No account named"
    return KeyFactOut(code="account_disabled", label="Account disabled", text=text)


def _preservation(
    report: TipReport, today: date, policy: PreservationPolicy
) -> KeyFactOut:
    if report.reporter_type is ReporterType.PUBLIC:
        text = "None: a report from the public starts no platform's preservation period"
        return KeyFactOut(code="preservation", label="Preservation", text=text)
    deadline = policy.deadline(report.received_at)
    left = (deadline - today).days
    if left < 0:
        text = f"Ended {deadline.isoformat()} ({counted(-left, 'day', 'days')} ago)"
    else:
        text = f"Until {deadline.isoformat()} ({counted(left, 'day', 'days')} left)"
    return KeyFactOut(code="preservation", label="Preservation", text=text)


def _linked(links: dict[str, int]) -> KeyFactOut:
    seen = [(words, links.get(name, 0)) for name, words in LINK_WORDS.items()]
    found = [f"{count} by {words}" for words, count in seen if count > 0]
    text = "; ".join(found) if found else "No linked report in the past year"
    return KeyFactOut(code="linked_reports", label="Linked earlier reports", text=text)


def _location(report: TipReport) -> KeyFactOut:
    where = report.location
    if (
        where.source is LocationSource.UNKNOWN
        and report.reported_person.estimated_location
    ):
        text = "Country unknown: an estimated location is given without one"
    elif where.source is LocationSource.UNKNOWN:
        text = "Unknown: no country supplied or derived"
    elif where.source is LocationSource.IP_DERIVED:
        text = f"{where.country_code} (derived from an IP address)"
    else:
        text = f"{where.country_code} (supplied in the report)"
    return KeyFactOut(code="location", label="Location", text=text)


OTHER_ESP_TEXT = "An ESP not registered here (its name is not kept)"


def _reporter(report: TipReport) -> KeyFactOut:
    if report.reporter_type is ReporterType.PUBLIC:
        text = "A member of the public"
    elif report.esp == OTHER:  # a name outside the closed vocabulary is not kept
        text = OTHER_ESP_TEXT
    elif report.esp:
        text = report.esp
    else:
        text = "An ESP (name not given)"
    return KeyFactOut(code="reporter", label="Reporter", text=text)


def key_facts(
    report: TipReport,
    links: dict[str, int],
    today: date,
    policy: PreservationPolicy,
) -> list[KeyFactOut]:
    """The report's key facts, in a fixed order."""
    return [
        _batched(report),
        _victim_age(report),
        _files_viewed(report),
        _upload_ip(report),
        _prior_reports(report),
        _account(report),
        _preservation(report, today, policy),
        _linked(links),
        _location(report),
        _reporter(report),
    ]
