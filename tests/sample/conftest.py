"""Sample councils shared by the sample tests (generation is deterministic and takes ~1 s)."""

from __future__ import annotations

import pytest

from pipelines.sample import SampleInfo, small_council


@pytest.fixture(scope="session")
def council(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    """With 4 defects of each kind, so every variant of every kind is injected."""
    return small_council(tmp_path_factory.mktemp("council"), people=800, seed=7, defects=4)


@pytest.fixture(scope="session")
def clean_council(tmp_path_factory: pytest.TempPathFactory) -> SampleInfo:
    return small_council(tmp_path_factory.mktemp("clean"), people=800, seed=7, defects=0)
