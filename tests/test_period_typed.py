"""The period is parsed once at the edge (CLI, flows, runs): the stages take a parsed
``pipelines.period.Period`` and say so in their signature (architecture d8)."""

from __future__ import annotations

import inspect

import pytest

from pipelines.build import build
from pipelines.source.extract import extract
from pipelines.transform import transform


@pytest.mark.parametrize("stage", [extract, build, transform], ids=lambda f: f.__name__)
def test_stage_takes_a_parsed_period(stage):
    annotation = inspect.signature(stage).parameters["period"].annotation
    assert annotation == "Period"


def test_extract_does_not_parse_text():
    source = inspect.getsource(extract)
    assert "Period.parse" not in source and "isinstance(period, str)" not in source
