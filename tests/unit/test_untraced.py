"""Which routes BentoML's OpenTelemetry middleware leaves alone (``serving.service.UNTRACED``)."""

from __future__ import annotations

import pytest
from opentelemetry.util.http import ExcludeList

from serving.service import UNTRACED

BASE = "http://127.0.0.1:3000"


@pytest.mark.parametrize("path", ["/score", "/score_batch", "/score_xml", "/score/"])
def test_the_scoring_routes_are_not_traced(path: str) -> None:
    assert ExcludeList(UNTRACED).url_disabled(BASE + path)


@pytest.mark.parametrize(
    "path", ["/queue", "/decide", "/reports/score", "/scorecard", "/model_card", "/"]
)
def test_every_other_route_keeps_its_spans(path: str) -> None:
    assert not ExcludeList(UNTRACED).url_disabled(BASE + path)
