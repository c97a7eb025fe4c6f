"""The README's two commands say what they install and how long it takes before the long,
silent `pip install` (it once ran for about 4 minutes with no output)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize("script", ["scripts/run-sample.sh", "scripts/test.sh"])
def test_the_install_step_says_what_and_how_long_first(script: str) -> None:
    text = (PROJECT_ROOT / script).read_text(encoding="utf-8")
    subprocess.run(["bash", "-n", str(PROJECT_ROOT / script)], check=True)
    before_pip = text[: text.index("pip install")]
    said = " ".join(re.findall(r'echo "([^"]*)"', before_pip))
    assert re.search(r"\d+ Python packages", said), said
    assert "Prefect" in said and "polars" in said
    assert re.search(r"\d+-\d+ minutes", said), said
