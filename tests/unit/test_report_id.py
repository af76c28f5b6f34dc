"""The report-id rule (issue 18, point 5): references pass, identifiers of a person do not.

Review found IP and phone shapes written with ``_`` or ``:``, bare phone-shaped digit runs,
decimal and hex IPv4 addresses passing, and date-stamped references refused. Both lists
are judged by the contract itself (a 400 naming ``report_id`` at the service).
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from features.report_id import REPORT_ID_PATTERN, check_report_id, identifier_shape
from features.schema import ReportSubmission
from tests.service.conftest import submission

pytestmark = pytest.mark.reliability  # an issue-18 regression: `make test-reliability`

MUST_REFUSE = {
    # IPv4, any separator, decimal, hex
    "198_51_100_9": "an IPv4 address",
    "198:51:100:9": "an IPv4 address",
    "198-51-100-9": "an IPv4 address",
    "ip_198.51.100.9": "an IPv4 address",
    "198.51.100.9:443": "an IPv4 address",
    "3325256809": "a phone number",  # a decimal IPv4 (198.51.100.9) is a 10-digit run
    "0xC0A80164": "an IPv4 address",
    "ref-0xc0a80164": "an IPv4 address",
    "C0.A8.01.64": "an IPv4 address",
    "0xC0.0xA8.0x01.0x64": "an IPv4 address",
    # IPv6 and MAC, any separator
    "2001-db8--1": "an IPv6 address",
    "2001_db8__1": "an IPv6 address",
    "2001-0db8-0000-0000-0000-ff00-0042-8329": "an IPv6 address",
    "fe80--1": "an IPv6 address",
    "00:1A:2B:3C:4D:5E": "a MAC address",
    "00-1a-2b-3c-4d-5e": "a MAC address",
    "001a.2b3c.4d5e": "a MAC address",
    # emails spelled with separators (an @ is refused by the pattern and named)
    "john_at_example_com": "an email address",
    "john.doe.at.example.com": "an email address",
    "john-at-example-dot-org": "an email address",
    "john.doe@example.com": "an email address",
    # phone numbers, any separator, bare runs
    "555_701_9999": "a phone number",
    "555:701:9999": "a phone number",
    "555-7019999": "a phone number",
    "5557019999": "a phone number",
    "15557019999": "a phone number",
    "+15557019999": "a phone number",
    "tel5557019999": "a phone number",
    "442079460958": "a phone number",
    "00442079460958": "a phone number",
    "0015557019999": "a phone number",
    "07946095800": "a phone number",
    "(555) 123-4567": "a phone number",
    "+44 20 7946 0958": "a phone number",
    "2024-06-01-555-701-9999": "a phone number",  # a date stamp hides nothing after it
    "20241127-5557019999": "a phone number",
    # glued to letters (second review): the shapes are found anywhere in the id
    "ip10.0.0.1": "an IPv4 address",
    "src203.0.113.9": "an IPv4 address",
    "10.0.0.1a": "an IPv4 address",
    "v1.2.3.4": "an IPv4 address",
    "555-701-9999x": "a phone number",
    "ext555-701-9999": "a phone number",
    "555-701-9999-123456": "a phone number",
}
MUST_ACCEPT = [
    "20241127-1030-01",
    "2024.11.27.001",
    "20241127103001",
    "20241127",
    "2024-11-27T10:30:00",
    "2024-11-27-10-30-00-123",
    "2026-11-27_10:30:01",
    "27.11.2026",
    "ESP-2024-000123",
    "ESP_2024_11_27_000123",
    "job:2024-11-27:17",
    "R-1234567",
    "INC0012345",
    "000000123456",
    "r0000000007",
    "123e4567-e89b-12d3-a456-426614174000",
    "123e4567e89b12d3a456426614174000",
    "12345678-1234-4123-8123-923456789012",  # a UUID of digits only
    "xml-0123456789abcdef",
    "1732703401000",
    "abc123",
    "case-17",
    # second review: 8-hex references (a hex IPv4 only with 0x), long digit groups
    "5f3c9a2b",
    "ref-5f3c9a2b",
    "case_7e1f0c3a",
    "AB12CD34",
    "C0A80164",
    "112-1234567-1234567",
    "CASE-00123456-789",
    "001a2b3c4d5e",  # bare 12 hex: a MAC only with separators (docs/report-contract.md)
    "20010db8000000000000000000000001",  # 32 hex: an MD5 as much as an IPv6 address
]
WHITESPACE = ["\n", " ", "\t", "\r\n"]


@pytest.mark.parametrize(("report_id", "shape"), MUST_REFUSE.items())
def test_an_identifier_shaped_id_is_refused_saying_why(
    report_id: str, shape: str
) -> None:
    assert identifier_shape(report_id) == shape
    with pytest.raises(ValidationError) as caught:
        ReportSubmission.model_validate(submission(report_id))
    error = caught.value.errors()[0]
    assert error["loc"] == ("report_id",)
    assert f"looks like {shape}" in error["msg"]
    assert report_id not in error["msg"]


@pytest.mark.parametrize("report_id", MUST_ACCEPT)
def test_a_reference_or_date_stamped_id_is_accepted(report_id: str) -> None:
    assert identifier_shape(report_id) is None
    assert ReportSubmission.model_validate(submission(report_id)).report_id == report_id


@given(st.from_regex(REPORT_ID_PATTERN, fullmatch=True) | st.text(max_size=64))
def test_any_text_is_judged_without_an_error(text: str) -> None:
    identifier_shape(text)  # a 500 would follow from any exception but ValueError


@pytest.mark.parametrize(
    "report_id",
    [
        "2024-99999999999999999999-01",
        "01-99999999999999999999-2024",
        "9" * 64,
        "-" * 64,
    ],
)
def test_crafted_digit_groups_are_judged_not_crashed_on(report_id: str) -> None:
    assert identifier_shape(report_id) is None  # no identifier: too long for a phone
    # a 400 at most ("-" * 64 breaks the pattern), never an OverflowError's 500
    with contextlib.suppress(ValidationError):
        ReportSubmission.model_validate(submission(report_id))


@given(st.uuids(), st.sampled_from(["", "ESP-", "report:"]))
def test_every_uuid_is_accepted(value: uuid.UUID, prefix: str) -> None:
    for text in (str(value), value.hex, str(value).upper()):
        assert identifier_shape(prefix + text) is None


@given(st.ip_addresses(v=4), st.sampled_from(".:_-"), st.sampled_from(["", "ip-"]))
def test_every_ipv4_with_any_separator_is_refused(
    address: ipaddress.IPv4Address, sep: str, prefix: str
) -> None:
    assert identifier_shape(prefix + str(address).replace(".", sep)) is not None
    decimal, hexadecimal = str(int(address)), f"{int(address):08x}"
    if len(decimal) == 10:  # 8-9 digits cannot be told from a report number (accepted)
        assert identifier_shape(decimal) is not None
    assert identifier_shape(f"0x{hexadecimal}") == "an IPv4 address"
    assert identifier_shape(f"ip{address}") == "an IPv4 address"  # glued to letters


@given(st.ip_addresses(v=6))
def test_every_ipv6_is_refused(address: ipaddress.IPv6Address) -> None:
    for text in (address.compressed, address.exploded):
        assert identifier_shape(text) is not None


@given(st.integers(2_000_000_000, 9_999_999_999), st.sampled_from(["", "1", "tel-"]))
def test_every_ten_digit_number_is_refused(number: int, prefix: str) -> None:
    assert identifier_shape(f"{prefix}{number}") == "a phone number"


@pytest.mark.parametrize("space", WHITESPACE)
@pytest.mark.parametrize("report_id", MUST_REFUSE)
def test_whitespace_around_an_identifier_does_not_hide_it(
    report_id: str, space: str
) -> None:
    """A trailing newline once got any identifier past the rule (``$`` before ``\\n``)."""
    for sent in (report_id + space, space + report_id, space + report_id + space):
        with pytest.raises(ValidationError) as caught:
            ReportSubmission.model_validate(submission(sent))
        assert caught.value.errors()[0]["loc"] == ("report_id",)
        assert identifier_shape(sent) is not None


def test_the_final_value_is_checked_again() -> None:
    """The shape check runs after the pattern too, whatever ran before it."""
    with pytest.raises(ValueError, match="looks like an IPv4 address"):
        check_report_id("10.0.0.1")
    assert check_report_id("ESP-2024-000123") == "ESP-2024-000123"


@pytest.mark.parametrize("check", [identifier_shape, check_report_id])
def test_long_text_is_refused_before_any_pattern_runs(check: object) -> None:
    """40 KB of ``1 1 1 …`` took 22 s; now any text over 64 characters is refused unread."""
    started = time.process_time()
    with contextlib.suppress(ValueError):
        assert check("1 " * 20_000) is not None  # type: ignore[operator]
    assert time.process_time() - started < 0.5
    with pytest.raises(ValueError, match="at most 64"):
        check_report_id("a" * 65)
