"""One whole process measured, with everything it starts: wall and CPU seconds, the largest
single process's peak RSS (wait4) and the most the process and all its descendants (worker
processes, the GX process) held together, sampled from /proc. Shared by the benchmarks."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def run_measured(
    cmd: list[str], *, env: dict[str, str] | None = None, every: float = 0.05
) -> dict:
    """Run ``cmd`` to its end: ``wall_s``, ``cpu_s`` (it and the descendants it waited for),
    ``peak_mb`` (the largest single process, wait4), ``peak_tree_mb`` (the process and its
    descendants together, sampled every ``every`` seconds; never below ``peak_mb``), ``code``,
    ``load_1m`` (at the start and the end), ``out`` (its stdout and stderr), ``lines``
    (each output line with the seconds since the start when it was read: progress lines
    time the steps)."""
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            peak[0] = max(peak[0], tree_rss_mb(p.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines: list[tuple[float, str]] = []
    for line in p.stdout or ():
        lines.append((time.perf_counter() - t0, line.rstrip("\n")))
    out = "\n".join(text for _, text in lines)
    done.set()
    sampler.join()
    _, status, usage = os.wait4(p.pid, 0)
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "peak_tree_mb": max(peak[0], usage.ru_maxrss / 1024),
        "code": os.waitstatus_to_exitcode(status),
        "load_1m": [load0, os.getloadavg()[0]],
        "out": out,
        "lines": lines,
    }
