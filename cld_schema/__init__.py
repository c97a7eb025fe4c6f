"""The CLD specification as data, keyed by release.

``load_spec(release)`` reads ``cld_schema/data/*.yaml`` into a validated :class:`Spec`; the
releases, and which quarter is submitted under which, are data (``releases.yaml``:
``RELEASES``, ``LATEST_RELEASE``, ``release_for``); :func:`field_status` gives each row's
national field status and validity.
This package knows nothing about councils, databases or submission files.
"""

from typing import TYPE_CHECKING

from cld_schema.spec import (
    DATA_DIR,
    MODULES,
    DefinedList,
    FieldSpec,
    ListValue,
    Spec,
    SpecError,
    load_spec,
    release_for,
    release_names,
)

if TYPE_CHECKING:
    from cld_schema.spec import LATEST_RELEASE, RELEASES
    from cld_schema.status import STATUS_LABELS, VALIDITY_LABELS, field_status, nhs_number_valid

# cld_schema.status builds polars expressions: imported on first use, so that `cld --help` and
# the modules that only need the spec do not pay for polars.
_STATUS = ("STATUS_LABELS", "VALIDITY_LABELS", "field_status", "nhs_number_valid")


# RELEASES and LATEST_RELEASE come from releases.yaml on first use, not at import (a broken
# spec folder is a SpecError where the releases are needed, one line from `cld`).
_RELEASE_NAMES = ("RELEASES", "LATEST_RELEASE")


def __getattr__(name: str):
    if name in _RELEASE_NAMES:
        from cld_schema import spec

        return getattr(spec, name)
    if name in _STATUS:
        from cld_schema import status

        return getattr(status, name)
    raise AttributeError(f"module 'cld_schema' has no attribute {name!r}")

__all__ = [
    "DATA_DIR",
    "LATEST_RELEASE",
    "MODULES",
    "RELEASES",
    "STATUS_LABELS",
    "VALIDITY_LABELS",
    "DefinedList",
    "FieldSpec",
    "ListValue",
    "Spec",
    "SpecError",
    "field_status",
    "load_spec",
    "nhs_number_valid",
    "release_for",
    "release_names",
]
