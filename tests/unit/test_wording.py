"""Every feature's sentence reads correctly for every value: 0, 1, many, absent, n/a.

A property test over the whole feature spec: each sentence is rendered for values drawn
from its range, in contexts where the report lacks files, an account, a location, and
checked against shapes a person would find nonsense ("0 of 0", "0 earlier", "(s)").
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.spec import FEATURE_NAMES, FEATURE_SPEC, FEATURES
from serving.explain import grouped, sentence
from serving.wording import Context, not_applicable

FORBIDDEN = [
    re.compile(r"\b0 of\b"),
    re.compile(r"\b0 earlier\b"),
    re.compile(r"(?<![\d.])0(?![\d.])"),  # a bare zero: say "no"/"none"
    re.compile(r"\(s\)"),
    re.compile(r"\bNone\b"),
    re.compile(r"\bnan\b", re.IGNORECASE),
    re.compile(r"\bnull\b"),
    re.compile(r"  "),
    re.compile(r"[{}]"),
    re.compile(
        r"\b1 (\w+ )?(files|reports|days|incidents|victims|persons|ids|events)\b"
    ),
    re.compile(r"\bone (\w+ )?(files|reports|days|incidents|victims|persons|ids)\b"),
    re.compile(r"\b(unknown|other|none)\b"),  # raw category labels
    re.compile(r"\w+_\w+"),  # a column name instead of words
]

COUNTS = st.one_of(st.just(0), st.just(1), st.integers(2, 5000), st.none())


def _value(feature: str) -> st.SearchStrategy[Any]:
    spec = FEATURES[feature]
    if spec.kind == "bool":
        return st.one_of(st.booleans(), st.none())
    if spec.kind == "int":
        return COUNTS
    if spec.kind == "float":
        return st.one_of(
            st.sampled_from([0.0, 0.4, 1.0, 1.4, 2.6]),
            st.floats(0, 5000),
            st.just(float("nan")),
            st.none(),
        )
    return st.one_of(st.sampled_from(spec.categories), st.none())


@st.composite
def rows(draw: st.DrawFn) -> tuple[dict[str, Any], Context]:
    """A row of values over every feature's range, and a context consistent with it."""
    row = {name: draw(_value(name)) for name in FEATURE_NAMES}
    files = draw(st.one_of(st.just(0), st.just(1), st.integers(2, 50)))
    row["files_count"] = files
    for name in FEATURE_NAMES:
        if name.startswith("files_") and FEATURES[name].kind == "int" and files:
            row[name] = min(row[name] or 0, files) if draw(st.booleans()) else files
    context = Context(
        files=files > 0,
        accounts=draw(st.booleans()),
        emails=draw(st.booleans()),
        phones=draw(st.booleans()),
        ips=draw(st.booleans()),
        devices=draw(st.booleans()),
        file_hashes=files > 0 and draw(st.booleans()),
        location=row["country"] not in (None, "unknown"),
        esp_named=draw(st.booleans()),
    )
    return row, context


def _check(text: str) -> None:
    assert text[0].isupper() or text[0].isdigit(), text
    for shape in FORBIDDEN:
        assert not shape.search(text.rsplit(": ", 1)[0]), (shape.pattern, text)


@settings(max_examples=150, deadline=None)
@given(rows(), st.sampled_from([-0.7, 0.3]))
def test_every_sentence_reads_correctly(
    drawn: tuple[dict[str, Any], Context], contribution: float
) -> None:
    row, context = drawn
    for name in FEATURE_NAMES:
        text = sentence(name, row, contribution, context)
        _check(text)
        assert text.endswith(("raises priority", "lowers priority"))


@settings(max_examples=100, deadline=None)
@given(rows())
def test_sentences_without_a_context_read_correctly(
    drawn: tuple[dict[str, Any], Context],
) -> None:
    row, _ = drawn
    for name in FEATURE_NAMES:
        _check(sentence(name, row, 1.0))


def test_the_issues_reports_read_as_people_say_them() -> None:
    row: dict[str, Any] = {n: 0 for n in FEATURE_NAMES}
    row |= {"country": "unknown", "location_source": "unknown", "esp": "other"}
    none = Context(files=False, accounts=False, location=False, esp_named=False)
    said = {n: sentence(n, row, 1.0, none) for n in FEATURE_NAMES}
    assert said["files_tag_viral"] == "No file is tagged viral: raises priority"
    assert said["hist_account_reports_365d"] == (
        "No account was named, so no earlier reports could be linked: raises priority"
    )
    assert said["esp"].startswith("The reporting platform was not named")
    # with an account named and no history: no "0 earlier"
    named = sentence("hist_account_reports_365d", row, -1.0, Context())
    assert named == (
        "The reported account appeared in no earlier report in the past year: "
        "lowers priority"
    )


def test_country_says_how_it_was_found() -> None:
    row = {"country": "US", "location_source": "ip_derived"}
    assert sentence("country", row, 1.0) == (
        "Country: US, derived from an IP address: raises priority"
    )


def test_files_counts_read_naturally() -> None:
    cases = {
        (1, 3): "1 of 3 files is a video",
        (2, 3): "2 of 3 files are videos",
        (3, 3): "All 3 files are videos",
        (1, 1): "The one file is a video",
        (0, 3): "No file is a video",
    }
    for (value, total), said in cases.items():
        row = {"files_video": value, "files_count": total}
        assert sentence("files_video", row, 1.0) == f"{said}: raises priority"


def test_not_applicable_features_are_grouped_in_one_line() -> None:
    row: dict[str, Any] = {n: 0 for n in FEATURE_NAMES}
    row |= {"country": "US", "location_source": "supplied", "esp": "Snapchat"}
    columns = {n: np.array([v], dtype=object) for n, v in row.items()}
    context = Context(files=False, accounts=False)
    mask = np.array(
        [not_applicable(f.name, row, context) is not None for f in FEATURE_SPEC]
    )
    shap = np.linspace(-0.5, 0.5, len(FEATURE_SPEC))
    shap[FEATURE_NAMES.index("files_tag_viral")] = 0.25
    line = grouped(columns, 0, shap, mask, context)
    assert line is not None
    assert line.because == ("no files", "no account")
    assert line.contribution == float(np.sum(shap[mask]))
    names = {c.feature for c in line.contributions}
    assert "files_tag_viral" in names and "hist_account_reports_365d" in names
    assert not names & {"files_count", "country", "esp", "rp_email"}
    direction = "raises" if line.contribution > 0 else "lowers"
    assert line.text.startswith(
        f"Not applicable to this report (no files, no account): together {direction}"
    )
    assert grouped(columns, 0, shap, np.zeros_like(mask), context) is None


def test_no_hash_result_says_whether_any_file_was_checked() -> None:
    # "No file is new (no hash match)" was said when no file had been checked against
    # known hashes at all: it read as "every file matched" (an outside test, session 9)
    from serving.wording import _files

    unchecked = {"files_count": 3, "files_hash_known": 0, "files_hash_novel": 0}
    assert (
        _files("files_hash_novel", unchecked)
        == "No file was checked against known hashes"
    )
    assert (
        _files("files_hash_known", unchecked)
        == "No file was checked against known hashes"
    )
    all_known = {**unchecked, "files_hash_known": 3}
    assert "each matched a known hash" in _files("files_hash_novel", all_known)
    all_new = {**unchecked, "files_hash_novel": 3}
    assert _files("files_hash_known", all_new) == "No checked file matches a known hash"
