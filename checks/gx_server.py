"""``python -m checks.gx_server``: the GX process of :func:`checks.gx_import.start_gx_process`.

It imports Great Expectations at once, then reads pickled ``(plans, data_docs_dir)`` requests
from stdin until it ends, validating each with :func:`checks.gx_suites.validate` and writing
back a pickled ``("ok", rows, docs)`` or ``("error", "<type>: <message>")``. Its stdout carries
only the answers (anything printed goes to stderr). Run by the checking process only."""

from __future__ import annotations

import os
import pickle
import signal
import sys


def main() -> int:
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a print from GX or a library must not corrupt the answers
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this ends
    from checks.gx_import import import_gx
    from checks.gx_suites import validate

    import_gx()
    requests = sys.stdin.buffer
    while True:
        try:
            plans, docs_dir = pickle.load(requests)
        except EOFError:  # the checking process has ended or closed the pipe: done
            answers.flush()
            os._exit(0)  # skip tearing down GX's modules (over half a second)
        try:
            rows, docs = validate(plans, docs_dir)
            answer: tuple = ("ok", rows, docs)
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    sys.exit(main())
