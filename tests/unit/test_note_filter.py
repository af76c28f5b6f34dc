"""Analysts' notes: obfuscated identifiers are refused, ordinary notes are kept as written.

The outside test (issue 18, point 5) got 15 of 24 obfuscated spellings past the old
patterns; every spelling below must now be refused.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
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
    # review of the detector (issue 18, point 5): escaped, other full stops, spoken TLDs
    "mail john%40example.com": "an email address",  # URL-escaped @
    "mail john%2540example.com": "an email address",  # escaped twice
    "mail john&#64;example.com": "an email address",  # HTML entities
    "mail john&commat;example.com": "an email address",
    "mail john&#x40;example.com": "an email address",
    "mail john@example\u3002com": "an email address",  # ideographic full stop
    "mail john@example\uff0ecom": "an email address",  # fullwidth full stop
    "mail john@example\uff61com": "an email address",  # halfwidth ideographic stop
    "mail john at example dot org": "an email address",
    "mail john at example dot co dot uk": "an email address",
    "mail john at example dot io": "an email address",
    "mail john at example dot photography": "an email address",  # any spoken TLD
    "mail john at my-site . xyz": "an email address",
    "mail JOHN AT EXAMPLE DOT DE": "an email address",
    "mail john [at] example [dot] org": "an email address",
    "mail john <at> example <dot> org": "an email address",
    "mail john (dot) doe (at) example (dot) org": "an email address",
    "mail jo\u200bhn@exam\u200dple.com": "an email address",  # zero-width (non-)joiner
    "mail john\u2060@example.com": "an email address",  # word joiner
    "mail john\u00ad@example.com": "an email address",  # soft hyphen
    "ip 192 . 168 . 1 . 100": "an IP address",
    "ip 192,168,1,100": "an IP address",
    "ip 10,0,0,1": "an IP address",
    "ip 192\u3002168\u30021\u3002100": "an IP address",
    "ip 192&#46;168&#46;1&#46;100": "an IP address",
    "ip 192%2E168%2E1%2E100": "an IP address",
    "ip 1.2.3.4": "an IP address",  # a dotted quad of parts <= 255, even as a version
    "call 555\u200b701\u200b9999": "a phone number",
    "call 5557019999": "a phone number",
    "call 01 02 03 04 05": "a phone number",
    "call 555&#45;701&#45;9999": "a phone number",
    "call 555 7 019999": "a phone number",
    # second review: spaced or spoken dots after an @, other dashes and separators, MACs
    "mail jdoe99@yahoo dot com": "an email address",
    "mail john(at)example dot com": "an email address",
    "mail john [at] example dot com": "an email address",
    "mail john@example. com": "an email address",
    "mail john@example .com": "an email address",
    "mail johndoe at protonmail.me": "an email address",
    "phone 555\u2010123\u20104567": "a phone number",  # hyphen
    "phone 555\u2013123\u20134567": "a phone number",  # en dash
    "phone 555\u2212123\u22124567": "a phone number",  # minus sign
    "phone 555_123_4567": "a phone number",
    "phone 555|123|4567": "a phone number",
    "phone 555~123~4567": "a phone number",
    "phone 555 701 9999x": "a phone number",  # a letter does not hide the number
    "phone 07700 900123": "a phone number",  # a trunk prefix: not a list of numbers
    "ip 192_168_1_100": "an IP address",
    "ip 192\u00b7168\u00b71\u00b7100": "an IP address",
    "ip 10_0_0_1": "an IP address",
    "mac 00:1A:2B:3C:4D:5E": "a MAC address",
    "mac 00-1a-2b-3c-4d-5e": "a MAC address",
    "mac 001a.2b3c.4d5e": "a MAC address",
    # an outside security test's spellings (2026-11-28), each kept before
    "phone 555767-1234 or 555:767:1234": "a phone number",
    "phone 555\u2027767\u20271234": "a phone number",
    "mail jdoe\\u0040example.com": "an email address",
    "mail j d o e @ e x a m p l e . c o m": "an email address",
    "mac 00 1A 2B 3C 4D 5E": "a MAC address",
    "phone 555\u2022767\u20221234 or 555 \u2219 767 \u2219 1234": "a phone number",
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
    # analysts paste hashes, dates, times, counts and versions (issue 18 review)
    "md5 d41d8cd98f00b204e9800998ecf8427e matches the known file",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "hash 0123456789abcdef0123456789abcdef (md5)",
    "received 27.11.2026 10:30, reviewed 28.11.2026 09:15",
    "incident 2026-11-27, follow-up 2026-11-28T10:30:00Z",
    "call logged at 10:30:15",
    "dates 11/27/2026 and 27/11/2026",
    "see report 12345",
    "see report 4564654 and 7855776",
    "priority kept at 2; 57 files, 3 videos",
    "score 93% vs 40%, 12% override rate",
    "scores 0.93 0.87 0.55 0.41",
    "looked at it dot by dot",
    "we looked at it dot by dot carefully",
    "pointed at the red dot on the map",
    "met at Starbucks. In the chat the user asked for more",
    "looked at notes.md and frame.jpg",
    "version 2.14.1 of the app, build 4432",
    "files 1, 2, 3, 4 are duplicates",
    "items 1,2,3,4",
    "about 1,500 images over 3 accounts; 12,000,000,000 bytes",
    "user replied at 10.30 and at 11.45",
    "see &lt;report&gt; &amp; its files; 100% sure",
    # second review: references, versions, lists of numbers, coordinates, sites
    "duplicate of report ESP-2024-000123",
    "see 20241127103001",
    "see 2024.11.27.001",
    "see 123e4567-e89b-12d3-a456-426614174000",
    "ts 1732703401000",
    "dup of r0000000007",
    "Chrome 120.0.6099.109",
    "Windows 10.0.19045.3803",
    "reports 4564654 4564655",
    "see case 4564654/4564655/4564656",
    "sizes 1024 2048 4096 8192 bytes",
    "GPS 40.712776 -74.005974",
    "posted at reddit.com",
    "Found at google.com search results",
    "escalated @10am, reviewed @ 11:30",
    "a b c d: steps done",
    # a stranger's review of the rules added for the outside test: analysts write these
    "Victim safe @home, Child @risk, call back @noon",
    "meeting @10.30am; @ESP confirmed; see @support_team",
    "scores 1 2 3 4 5 6 7 8 9 10",
    "counts 12;34;56;78;90 and bitrate 128+128+128+256 kbps",
    "hash prefix de ad be ef 00 11",
    "path c:\\x40dir",
    "video 1920x1080 @30fps, @1080p; call @1400hrs; deadline @Nov2024; user @jdoe_1984",
    "header FF D8 FF E0 00 10 4A 46 49 46 and 4D 4D 00 2A 00 00 00 08",
]
DASHES = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Pd"]


def test_the_corpus_has_the_issues_24_spellings_at_least() -> None:
    assert len(OBFUSCATED) >= 24
    assert len(ORDINARY) >= 25


@pytest.mark.parametrize(("note", "kind"), list(OBFUSCATED.items())[::7])
def test_the_refusal_names_the_kind_and_never_the_note(note: str, kind: str) -> None:
    with pytest.raises(ValidationError) as caught:
        DecisionIn(report_id="r-1", action="accept", reason="other", note=note)  # type: ignore[arg-type]
    message = caught.value.errors()[0]["msg"]
    assert f"looks like it holds {kind}" in message
    assert note not in message and note.split()[-1] not in message


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


@given(
    st.binary(min_size=8, max_size=32), st.sampled_from(["md5 {}", "{} (sha)", "{}"])
)
def test_every_hex_digest_is_an_ordinary_note(digest: bytes, form: str) -> None:
    assert identifier_in(form.format(digest.hex())) is None


@given(
    st.ip_addresses(v=4),
    st.sampled_from([".", " . ", "[.]", "(.)", " dot ", "\u3002", "%2E", "&#46;"]),
)
def test_every_ipv4_however_dotted_is_refused(address: object, dot: str) -> None:
    assert identifier_in("ip " + str(address).replace(".", dot)) == "an IP address"


@given(st.text(max_size=1000))
def test_any_note_is_judged_without_an_error(note: str) -> None:
    assert identifier_in(note) in (
        None,
        "an email address",
        "an IP address",
        "a phone number",
        "a MAC address",
    )


@pytest.mark.parametrize("dash", [*DASHES, "\u2212"])
def test_every_unicode_dash_joins_a_phone_number(dash: str) -> None:
    note = f"call 555{dash}123{dash}4567"
    assert identifier_in(note) == "a phone number"


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("call 555\u0000701\u00009999", "a phone number"),
        ("call 555\u007f701\u007f9999", "a phone number"),
        ("jdoe\u0000@\u0000example.com", "an email address"),
        ("ip 192\u001b.168\u001b.1\u001b.100", "an IP address"),
        ("call 555\u2044701\u20449999", "a phone number"),
        ("call 555\u2043701\u20439999", "a phone number"),
    ],
)
def test_control_characters_and_slash_lookalikes_hide_nothing(
    note: str, kind: str
) -> None:
    # an outside security test (session 9): NUL, ESC, DEL and BEL between the parts, a
    # fraction slash or a hyphen bullet for a separator, and the note was kept
    assert identifier_in(note) == kind


def test_tabs_and_new_lines_still_separate_words() -> None:
    assert identifier_in("seen twice\tno match\r\nescalate 2") is None
