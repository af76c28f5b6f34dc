"""Analysts' notes: obfuscated identifiers are refused, ordinary notes are kept as written.

The outside test (issue 18, point 5) got 15 of 24 obfuscated spellings past the old
patterns; every spelling below must now be refused.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serving.analyst.notes import identifier_in
from serving.analyst.schemas import DecisionIn

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

OBFUSCATED = {
    # emails
    "mail john.doe(at)example.com": "an email address",
    "mail john.doe[at]example[.]com": "an email address",
    "mail john.doe {at} example {dot} com": "an email address",
    "mail john.doe at example dot com": "an email address",
    "mail john.doe at example.com": "an email address",
    "mail john.doe\uff20example.com": "an email address",  # fullwidth @
    "mail john.doe\ufe6bexample.com": "an email address",  # small commercial at
    "mail john\u200b.doe@exa\u200bmple.com": "an email address",  # zero-width spaces
    "mail john.doe @ example . com": "an email address",
    "mail JOHN.DOE(AT)EXAMPLE(DOT)ORG": "an email address",
    # IPv4
    "ip 192[.]168[.]1[.]100": "an IP address",
    "ip 192(.)168(.)1(.)100": "an IP address",
    "ip 192 dot 168 dot 1 dot 100": "an IP address",
    "ip 0xC0A80164": "an IP address",
    "ip 0xC0.0xA8.0x01.0x64": "an IP address",
    "ip \uff11\uff19\uff12.168.1.100": "an IP address",  # fullwidth digits
    "ip 198.51.100.9": "an IP address",
    # IPv6
    "ip 2001:db8::1": "an IP address",
    "ip [2001:db8::1]:443": "an IP address",
    "ip fe80::1%eth0": "an IP address",
    "ip 2001:0db8:0000:0000:0000:ff00:0042:8329": "an IP address",
    "ip ::ffff:192.0.2.1": "an IP address",
    # phones
    "call (555) 123-4567": "a phone number",
    "call 555-701-9999": "a phone number",
    "call +1 (555) 701 99 99": "a phone number",
    "call 555.701.9999": "a phone number",
    "call +44 20 7946 0958": "a phone number",
    "call \uff15\uff15\uff15-701-9999": "a phone number",  # fullwidth digits
}

ORDINARY = [
    "",
    "chat log shows a meeting planned",
    "see the linked case file",
    "looked at the files twice; the account was disabled at 10.30",
    "met at home. In the chat the user asked for more",
    "received 2024-06-01 10:00, incident 2024-05-30",
    "priority kept at 2: report web-meme-1 is the same viral meme as report 123456",
    "version 3.2 of the app; 57 incidents bundled",
    "ratio: 1:2 of files",
    "agree",
]


def test_the_corpus_has_the_issues_24_spellings_at_least() -> None:
    assert len(OBFUSCATED) >= 24


@pytest.mark.parametrize(("note", "kind"), OBFUSCATED.items())
def test_every_obfuscated_spelling_is_refused(note: str, kind: str) -> None:
    assert identifier_in(note) == kind
    with pytest.raises(ValidationError, match="notes must not carry raw identifiers"):
        DecisionIn(report_id="r-1", action="accept", reason="other", note=note)  # type: ignore[arg-type]


@pytest.mark.parametrize("note", ORDINARY)
def test_ordinary_notes_are_kept_as_written(note: str) -> None:
    assert identifier_in(note) is None
    decision = DecisionIn(
        report_id="r-1", action="accept", reason="other", note=f" {note} "
    )  # type: ignore[arg-type]
    assert decision.note == note
