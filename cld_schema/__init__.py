"""The CLD specification as data, keyed by release.

``load_spec(release)`` reads ``cld_schema/data/*.yaml`` into a validated :class:`Spec`; the
releases, and which quarter is submitted under which, are data (``releases.yaml``:
``RELEASES``, ``LATEST_RELEASE``, ``release_for``); :func:`field_status` gives each row's
national field status and validity.
This package knows nothing about councils, databases or submission files.
"""

from cld_schema.spec import (
    DATA_DIR,
    LATEST_RELEASE,
    MODULES,
    RELEASES,
    DefinedList,
    FieldSpec,
    ListValue,
    Spec,
    SpecError,
    load_spec,
    release_for,
    release_names,
)
from cld_schema.status import STATUS_LABELS, VALIDITY_LABELS, field_status, nhs_number_valid

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
