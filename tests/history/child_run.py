"""A real second process for the history tests (run as ``python tests/history/child_run.py``).

Modes:
  write DB   open a run and stage submissions forever, printing ``staged N`` after each one,
             so the test can SIGKILL it while it is in the middle of writing the next one.
  hold DB    open a run, print ``in run``, wait for a line on stdin, then finish the run.
  try DB     try to open history and start a run; print the error and exit 3 if refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipelines.history import History, HistoryBusy
from tests.history.helpers import bulk_frame


def main(mode: str, db: str) -> int:
    if mode == "try":
        try:
            with History.open(db) as h, h.run("nightly"):
                print("got a run", flush=True)
                return 0
        except HistoryBusy as exc:
            print(f"refused: {exc}", flush=True)
            return 3
    with History.open(db) as h, h.run("build", "2024-25Q3", "R1") as run:
        if mode == "hold":
            print("in run", flush=True)
            sys.stdin.readline()
            return 0
        frame = bulk_frame(20_000)
        for n in range(1, 100_000):
            run.add_submission(None, frame)
            print(f"staged {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
