"""A quarter that has not begun (by the real date) is refused in one line, naming the latest
quarter that has ended, before the database is read."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from pipelines.period import Period


def test_a_quarter_not_begun_is_refused(tmp_path: Path) -> None:
    y = date.today().year + 2
    future = f"{y}-{(y + 1) % 100:02d}Q1"
    cld = Path(sys.executable).with_name("cld")
    p = subprocess.run([str(cld), "build", "--period", future], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.count("\n") == 1 and f"{future} has not begun yet" in p.stderr
    assert str(Period.latest_ended(date.today())) in p.stderr
