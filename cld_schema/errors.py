"""The one base of every error a user can cause and fix.

``CldError`` is "a problem the user can fix; the message says what to do". Every public error
of ``cld_schema``, ``checks``, ``pipelines`` and ``flows`` derives from it, so the ``cld``
command catches it once (one line on stderr, exit 2, no traceback) and a flow can tell a
user's problem from a fault. It carries no behaviour: the spec still knows nothing about
councils. Errors that were ``ValueError``\\ s keep that base too (pydantic validators and
callers that catch ``ValueError`` go on working).
"""

from __future__ import annotations


class CldError(Exception):
    """A problem the user can fix; the message says what to do."""
