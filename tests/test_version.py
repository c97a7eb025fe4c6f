"""``cld --version``: the package version, the exact code when run from a git checkout, and
the CLD releases the spec data holds (the same version history records beside each run)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from cld_schema import RELEASES

ROOT = Path(__file__).resolve().parents[1]


def test_version_names_the_package_the_commit_and_the_releases(tmp_path: Path) -> None:
    cld = Path(sys.executable).with_name("cld")
    p = subprocess.run([str(cld), "--version"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    first, second = p.stdout.splitlines()
    assert first.startswith(f"cld-pipeline {version('cld-pipeline')}")
    if (ROOT / ".git").exists():
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        assert head[:7] in first
    assert second.startswith(f"CLD releases: {', '.join(RELEASES)}")
