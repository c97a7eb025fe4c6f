"""The checks' part of the council's thresholds file, as one typed model.

``[checks] thresholds`` in cld.toml names a YAML file (sample: ``data/sample/thresholds.yaml``)
whose sections are read here: ``completeness`` (per field, the GX ``mostly`` among the rows the
field applies to), ``complete_months`` (the national complete-month test), ``volumes`` (events
per month by event type, null = no bound) and ``previous`` (change against the previous
submission). Its ``compare:`` section is the history comparison's
(``pipelines.history.compare.Thresholds``); ``pipelines.thresholds.load`` reads the file once
and hands each part to its user.

Every model refuses a key it does not know (``extra="forbid"``): a misspelt section or key
would otherwise switch checks off without a word. Numbers keep the type they were written
with (``max: 20000`` stays an int), so the findings' texts read as the file does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from cld_schema.errors import CldError

if TYPE_CHECKING:
    from cld_schema import Spec


class ThresholdsError(CldError, ValueError):
    """The thresholds file has a key or value the checks cannot use; the message names it."""


EVENT_KEYS = ("REQUEST", "ASSESSMENT", "SERVICE", "REVIEW")
EventKey = Literal["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]


def _number(lo: float | None = None, hi: float | None = None, *, none: bool = False):
    """A before-validator: an int or float (not a bool) within the bounds, kept as written."""

    def check(v: object) -> object:
        if v is None and none:
            return v
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        if not ok or (lo is not None and v < lo) or (hi is not None and v > hi):  # type: ignore[operator]
            bounds = f" between {lo} and {hi}" if hi is not None else ""
            raise ValueError(f"{v!r} is not a number{bounds}")
        return v

    return BeforeValidator(check)


Number = int | float
Share = Annotated[Number, _number(0, 1)]
Count = Annotated[Number, _number(0)]
Bound = Annotated[Number | None, _number(0, none=True)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompleteMonths(_Section):
    """Every month of the period holds at least ``min_events`` events of each type."""

    event_types: list[EventKey] = Field(default_factory=lambda: [*EVENT_KEYS[:3]])
    min_events: Count = 1


class Bounds(_Section):
    """Events per month of one event type: ``min`` and ``max``, None = no bound."""

    min: Bound = None
    max: Bound = None


class Previous(_Section):
    """Rows per event type may change by at most ``max_change`` against the previous file."""

    max_change: Count = 0.5


_SECTION_MODELS: dict[str, type[_Section]] = {
    "complete_months": CompleteMonths,
    "previous": Previous,
    "volumes": Bounds,
}


class CheckThresholds(_Section):
    """The quantitative checks' thresholds (all sections optional; an empty section, as an
    absent one, means its defaults). Build with :meth:`parse` for one-line errors."""

    completeness: dict[str, Share] = Field(default_factory=dict)
    complete_months: CompleteMonths = Field(default_factory=CompleteMonths)
    volumes: dict[EventKey, Bounds] = Field(default_factory=dict)
    previous: Previous = Field(default_factory=Previous)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("completeness", "complete_months", "volumes", "previous", mode="before")
    @classmethod
    def _empty_is_default(cls, v: object) -> object:
        return {} if v is None else v

    @field_validator("volumes", mode="before")
    @classmethod
    def _null_bounds(cls, v: object) -> object:
        # `REQUEST:` with nothing after it is no bound at all, like {min: null, max: null}
        if isinstance(v, dict):
            return {k: ({} if b is None else b) for k, b in v.items()}
        return v

    @classmethod
    def parse(cls, raw: object, source: Path | None = None) -> CheckThresholds:
        """The model from the file's parsed checks sections (None: all defaults); a problem is
        a :class:`ThresholdsError` naming the section and key (``source`` prefixes the
        errors :meth:`check_fields` raises later)."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ThresholdsError("the thresholds file must be a mapping of sections")
        try:
            model = cls.model_validate(raw)
        except ValidationError as exc:
            raise ThresholdsError(_problems(exc)) from None
        model._source = source
        return model

    def check_fields(self, spec: Spec) -> None:
        """Refuse a completeness field the spec's release does not have (run before any
        check, per file: the release is the file's)."""
        where = f"{self._source}: " if self._source is not None else ""
        for f in self.completeness:
            if not spec.has_field(f):
                raise ThresholdsError(f"{where}completeness: {f!r} is not a {spec.release} field")

    def completeness_fields(self, spec: Spec) -> list[str]:
        """The fields with a completeness threshold, in the file's order."""
        return [f for f in self.completeness if spec.has_field(f)]

    def as_dict(self) -> dict[str, Any]:
        """The sections as plain data (as a parsed file would hold them)."""
        return self.model_dump()


def _problems(exc: ValidationError) -> str:
    """Pydantic's errors as one line, in the thresholds file's words: each problem as
    ``section: key: what`` (unknown keys first: a misspelling is the likeliest mistake)."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    out: list[str] = []
    for err in errors:
        loc = [str(p) for p in err["loc"] if p != "[key]"]
        kind = err["type"]
        if kind == "extra_forbidden":
            *where, key = loc
            if not where:
                names = ", ".join(CheckThresholds.model_fields)
                out.append(f"{key!r} is not a section (the sections: {names})")
                continue
            keys = ", ".join(_SECTION_MODELS[where[0]].model_fields)
            out.append(f"{': '.join(where)}: {key!r} is not a key (the keys: {keys})")
            continue
        if kind == "value_error":
            what = str(err["ctx"]["error"])
        elif kind == "literal_error":
            # a dict key or a list item: the value names it
            what, loc = f"{err['input']!r} is not one of {EVENT_KEYS}", loc[:-1]
        elif kind in ("model_type", "dict_type"):
            what = "must be a mapping of keys"
        elif kind == "list_type":
            what = f"{err['input']!r} is not a list"
        else:
            what = err["msg"]
        out.append(f"{': '.join(loc)}: {what}" if loc else what)
    return "; ".join(out)
