"""The council's mapping tables: local codes → CLD values (``data/sample/mappings/*.csv``).

The tables are data the council edits (format in ``data/sample/mappings/README.md``). They are
checked when loaded, so a typo surfaces at once with the file, line and value, instead of as a
blank field in the national data-quality report months later:

* a target column must be a CLD field (``Service_Type``, first-release values) or its override
  for a later release named in ``cld_schema/data/releases.yaml`` (``Service_Type@R2``);
  lower-case columns (``local_code``, ``description``, notes) are for people;
* every non-blank target value must be in the field's defined list for that release;
* a local code appears once per table.

The transform never guesses: a code found in the data with no row here is *unmapped* and
reported with its count (:func:`unmapped_counts`); a row whose target cell is blank means "this
code gives no value for that field" and is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cld_schema.errors import CldError

if TYPE_CHECKING:
    from cld_schema import Spec

OVERRIDE = "@"  # <Field>@<release>: the value for that release, overriding the spec's map
CODE = "local_code"
DESCRIPTION = "description"


class MappingError(CldError, ValueError):
    """A mapping table that cannot be used; the message names the file, line and value."""


@dataclass(frozen=True)
class MappingTable:
    """One mapping table: ``name`` is the lower-case local picklist (file stem)."""

    name: str
    path: Path
    fields: tuple[str, ...]  # CLD fields (first-release values)
    overrides: dict[str, tuple[str, ...]]  # release -> fields with a <field>@<release> column
    frame: pl.DataFrame  # local_code, description, <fields>, <field>@<release> (all String)

    @property
    def file(self) -> str:
        return self.path.name

    def codes(self) -> pl.Series:
        return self.frame.get_column(CODE)

    def lookup(self, target: str, *, code_name: str, value_name: str) -> pl.LazyFrame:
        """``code_name`` → ``value_name`` for one target column (``Field`` or
        ``Field@<release>``)."""
        if target not in self.frame.columns:
            raise MappingError(
                f"{self.path}: no column {target!r} (the transform needs it; columns are "
                f"{', '.join(self.frame.columns)})"
            )
        return self.frame.lazy().select(
            pl.col(CODE).alias(code_name), pl.col(target).alias(value_name)
        )


@dataclass
class Mappings:
    """All mapping tables of a council, by name (``gender`` for ``gender.csv``)."""

    directory: Path
    tables: dict[str, MappingTable] = field(default_factory=dict)

    def table(self, name: str) -> MappingTable:
        try:
            return self.tables[name]
        except KeyError:
            raise MappingError(
                f"{self.directory}: mapping table {name}.csv is missing (needed to map the "
                f"{name.upper()} local codes; see data/sample/mappings/README.md)"
            ) from None

    def has(self, name: str, target: str | None = None) -> bool:
        t = self.tables.get(name)
        return t is not None and (target is None or target in t.frame.columns)


def _read_table(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except Exception as exc:  # polars raises several kinds for a broken CSV
        from pipelines.cldfile import csv_error_text

        raise MappingError(f"{path}: cannot be read as CSV: {csv_error_text(exc)}") from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    if CODE not in frame.columns:
        raise MappingError(f"{path}: line 1: no {CODE!r} column")
    stripped = [pl.col(c).str.strip_chars() for c in frame.columns]
    return frame.with_columns(
        [
            pl.when(e.str.len_chars() > 0).then(e).otherwise(None).alias(n)
            for e, n in zip(stripped, frame.columns, strict=True)
        ]
    )


def _check_values(path: Path, frame: pl.DataFrame, column: str, field_name: str, spec: Any) -> None:
    """Every non-blank value in ``column`` must be in the field's defined list (if any)."""
    allowed = spec.values(field_name)
    if not allowed:
        return
    bad = (
        frame.with_row_index("_line", offset=2)
        .filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(allowed))
        .select("_line", column)
        .head(1)
    )
    if bad.height:
        line, value = bad.row(0)
        raise MappingError(
            f"{path}: line {line}: {column} value {value!r} is not in the {spec.release} "
            f"defined list for {field_name} (see `cld spec lists`)"
        )


def _short(spec: Spec) -> str:
    """'Release 1' from the title 'CLD Release 1 (2023-24 to 2025-26 Q1)'."""
    return spec.title.removeprefix("CLD ").split(" (")[0]


def _validate(path: Path, frame: pl.DataFrame, base: Spec, later: dict[str, Spec]) -> MappingTable:
    fields: list[str] = []
    overrides: dict[str, list[str]] = {}
    base_names = set(base.field_names)
    for col in frame.columns:
        if not col[:1].isupper():
            continue  # local_code, description, notes: for people
        if OVERRIDE in col:
            name, release = col.rsplit(OVERRIDE, 1)
            spec = later.get(release)
            if spec is None:
                raise MappingError(
                    f"{path}: line 1: column {col!r}: {release!r} is not a later release "
                    f"({', '.join(later) or 'none'})"
                )
            if name not in base_names | set(spec.field_names):
                raise MappingError(f"{path}: line 1: column {col!r}: {name!r} is not a CLD field")
            _check_values(path, frame, col, name, spec)
            overrides.setdefault(release, []).append(name)
        else:
            if col not in base_names:
                raise MappingError(
                    f"{path}: line 1: column {col!r} is not a {_short(base)} CLD field"
                )
            _check_values(path, frame, col, col, base)
            fields.append(col)
    blank = frame.with_row_index("_line", offset=2).filter(pl.col(CODE).is_null()).head(1)
    if blank.height:
        raise MappingError(f"{path}: line {blank.item(0, '_line')}: empty {CODE}")
    dup = (
        frame.with_row_index("_line", offset=2)
        .filter(pl.col(CODE).is_duplicated())
        .sort("_line")
        .head(2)
    )
    if dup.height:
        raise MappingError(
            f"{path}: line {dup.item(1, '_line')}: {CODE} {dup.item(0, CODE)!r} appears twice "
            f"(first on line {dup.item(0, '_line')})"
        )
    if DESCRIPTION not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(DESCRIPTION))
    return MappingTable(
        path.stem.lower(), path, tuple(fields),
        {r: tuple(fs) for r, fs in overrides.items()}, frame,
    )


def load_mappings(mappings_dir: Path | str, base: Spec | None = None, *later: Spec) -> Mappings:
    """Load and validate every ``*.csv`` table in ``mappings_dir``.

    ``base`` (default: the first release in ``releases.yaml``) checks the ``<Field>`` columns;
    each ``<Field>@<release>`` column is checked against that release's lists (``later``,
    default: every later release).
    """
    from cld_schema import RELEASES, load_spec

    directory = Path(mappings_dir)
    if not directory.is_dir():
        raise MappingError(f"mappings folder {directory} not found ([paths] mappings_dir)")
    base = base or load_spec(RELEASES[0])
    specs = {s.release: s for s in later} or {
        r: load_spec(r) for r in RELEASES if r != base.release
    }
    out = Mappings(directory)
    for path in sorted(directory.glob("*.csv")):
        table = _validate(path, _read_table(path), base, specs)
        out.tables[table.name] = table
    return out
