"""The CLD specification as data, keyed by release.

``load_spec("R1")`` / ``load_spec("R2")`` read ``cld_schema/data/*.yaml`` into a validated
:class:`Spec`; :func:`field_status` gives each row's national field status and validity.
This package knows nothing about councils, databases or submission files.
"""

from cld_schema.spec import (
    DATA_DIR,
    MODULES,
    RELEASES,
    DefinedList,
    FieldSpec,
    ListValue,
    Spec,
    SpecError,
    load_spec,
)
from cld_schema.status import STATUS_LABELS, VALIDITY_LABELS, field_status, nhs_number_valid

__all__ = [
    "DATA_DIR",
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
]
