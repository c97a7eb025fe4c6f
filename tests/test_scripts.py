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


def _fake_project(root, venv_paths: list[str]) -> None:
    """A copy of the project's layout whose .venv has no pip or project, only what ``venv_paths``
    (a .pth) makes importable; its pip and cld just say they ran."""
    import os
    import sys

    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "run-sample.sh").write_bytes(
        (PROJECT_ROOT / "scripts" / "run-sample.sh").read_bytes())
    for name in ("pipelines", "pyproject.toml"):  # importable from the folder, as in a clone
        os.symlink(PROJECT_ROOT / name, root / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")],
                   check=True)
    bin_ = root / ".venv" / "bin"
    for tool in ("pip", "cld"):
        (bin_ / tool).write_text(f"#!/bin/sh\necho {tool} ran\n")
        (bin_ / tool).chmod(0o755)
    site = next((root / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "project.pth").write_text("".join(p + "\n" for p in venv_paths))


def test_run_sample_says_installing_in_an_empty_venv(tmp_path) -> None:
    """usertest P1: the probe imported ``pipelines`` from the project folder, which works in an
    empty .venv, so the first run said "a few seconds" and then installed for minutes."""
    import sysconfig

    empty = tmp_path / "empty"
    _fake_project(empty, [])
    r = subprocess.run(["bash", str(empty / "scripts" / "run-sample.sh")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "installing the project into .venv" in r.stdout and "a few seconds" not in r.stdout
    assert "pip ran" in r.stdout and "cld ran" in r.stdout
    ready = tmp_path / "ready"  # the project and its packages installed in the venv
    _fake_project(ready, [str(PROJECT_ROOT), sysconfig.get_paths()["purelib"],
                          sysconfig.get_paths()["platlib"]])
    r = subprocess.run(["bash", str(ready / "scripts" / "run-sample.sh")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "checking the project's packages" in r.stdout and "installing" not in r.stdout
