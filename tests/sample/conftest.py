"""One small council per test session for the sample tests (generation is deterministic)."""

from __future__ import annotations

import pytest

from pipelines.sample import SampleInfo, small_council


@pytest.fixture(scope="session")
def council(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    return small_council(tmp_path_factory.mktemp("council"), people=600, seed=7)


@pytest.fixture(scope="session")
def clean_council(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    return small_council(tmp_path_factory.mktemp("clean"), people=600, seed=7, defects=0)
