"""Bigger CLD files for benchmarks, made from a built one (not part of the test suite).

* :func:`replicate_file`: one file ``copies`` times the rows: each copy's person ids, event
  references, linked person ids and NHS numbers are made distinct (a bigger council of the
  same shape, so one-per-person and duplicate rules see as many people, not the same ones).
* :func:`council_files`: one file per council, each the original with its own ``LA_Code``
  (for checking a folder of councils' files, e.g. all of England).

The header row, its style and the column order are kept; text is written as UTF-8 when the
source is pure ASCII (the same bytes as Windows-1252).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.cldfile import read_cld_info

IDS = ["LA_Person_Unique_Identifier", "Event_Reference"] + [
    f"Adult_{i}_Linked_Person_ID" for i in (1, 2, 3)
]


def other_nhs_number(k: int) -> pl.Expr:
    """Copy k's NHS numbers: the first nine digits shifted, a fresh Modulus 11 check digit
    (blank where the check digit would be 10), so copies are distinct valid people; blanks
    and invalid numbers stay as they were (they are defects of the original)."""
    col = pl.col("NHS_Number")
    nine = (
        ((col.str.slice(0, 9).cast(pl.Int64, strict=False) + k * 1_000_003) % 1_000_000_000)
        .cast(pl.String)
        .str.zfill(9)
    )
    digits = [nine.str.slice(i, 1).cast(pl.Int64) for i in range(9)]
    check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    check = pl.when(check == 11).then(0).otherwise(check)
    valid = col.str.contains(r"^\d{10}$").fill_null(False)
    return (
        pl.when(~valid)
        .then(col)
        .when(check < 10)
        .then(nine + check.cast(pl.String))
        .otherwise(None)
    )


def _write(frame: pl.DataFrame, spec, style: str, target: Path) -> None:
    names = dict(zip(spec.field_names, spec.headers(style), strict=True))
    frame.select(spec.field_names).rename(names).write_csv(target)


def replicate_file(source: Path, target: Path, copies: int) -> Path:
    frame, spec, info = read_cld_info(source)
    frame = frame.select(spec.field_names)
    parts = [frame] + [
        frame.with_columns(
            *[pl.col(c) + pl.lit(f"-{k}") for c in IDS],
            other_nhs_number(k).alias("NHS_Number"),
        )
        for k in range(1, copies)
    ]
    _write(pl.concat(parts), spec, info.header_style, target)
    return target


def council_files(source: Path, folder: Path, councils: int, first_code: int = 100) -> list[Path]:
    """``councils`` files in ``folder``, LA codes ``first_code``, ``first_code + 1``, ..."""
    frame, spec, info = read_cld_info(source)
    frame = frame.select(spec.field_names)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(councils):
        code = str(first_code + i)
        target = folder / f"cld_{code}_{source.name.split('_', 2)[-1]}"
        _write(frame.with_columns(pl.lit(code).alias("LA_Code")), spec, info.header_style, target)
        out.append(target)
    return out
