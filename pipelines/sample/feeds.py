"""Provider feeds (carers' centre, community equipment) and the NHS-number feedback sample.

The files look like what providers send: one file per month, CSV in Windows-1252 with UK
dates, some months UTF-8 with a byte-order mark, some XLSX. Their columns come from the feed
contracts (``data/sample/contracts/*.yaml``), so a contract change is a data change here too.
People are named by NHS number and/or council person id (a few rows carry only one of them);
with defects on, some rows name nobody, the wrong NHS number or the wrong date of birth, and a
few whole files are malformed (a renamed column, impossible dates, text in a number column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.sample.data import _write_csv, load_contract, load_feedback_layout
from pipelines.sample.journeys import NULL, ChunkBuilder, World, _pick, _str
from pipelines.sample.nhs import spare_valid_numbers

EPOCH_ORD = datetime(1970, 1, 1).toordinal()
FIXED_TIME = datetime(2026, 1, 1)
FEEDBACK_MAX_ROWS = 500_000  # XLSX document properties: fixed, so files are reproducible


def _uk(days: np.ndarray) -> list[str | None]:
    s = pl.Series(np.asarray(days, dtype=np.int64))
    out = pl.select(
        pl.when(s != NULL)
        .then(s)
        .otherwise(None)
        .cast(pl.Int32)
        .cast(pl.Date)
        .dt.strftime("%d/%m/%Y")
    ).to_series()
    return out.to_list()


@dataclass
class FeedAccumulator:
    """Feed and feedback rows gathered chunk by chunk (they are a few % of the persons)."""

    world: World
    seed: int
    carers: list[pl.DataFrame] = field(default_factory=list)
    equipment: list[pl.DataFrame] = field(default_factory=list)
    people: list[pl.DataFrame] = field(default_factory=list)  # for the feedback sample
    known_ids: list[np.ndarray] = field(default_factory=list)

    def add_chunk(
        self, tables: dict[str, pl.DataFrame], b: ChunkBuilder, rng: np.random.Generator
    ) -> None:
        persons = tables["persons"]
        current = (
            tables["person_addresses"]
            .sort("start_date")
            .group_by("person_id", maintain_order=True)
            .last()
            .select("person_id", "postcode")
        )
        info = persons.join(current, on="person_id", how="left")
        self.known_ids.append(persons["person_id"].to_numpy())
        avoid = getattr(b, "defect_persons", np.zeros(0, dtype=np.int64))
        self.carers.append(self._carers(b, info, rng, avoid))
        self.equipment.append(self._equipment(b, info, rng, avoid))
        take = rng.random(persons.height) < 0.25
        if sum(f.height for f in self.people) < FEEDBACK_MAX_ROWS:  # bounded for England
            self.people.append(persons.filter(pl.Series(take)).select("person_id", "nhs_number"))

    # -------------------------------------------------------------------- carers' centre
    def _carers(self, b: ChunkBuilder, info: pl.DataFrame, rng, avoid) -> pl.DataFrame:
        w = self.world
        ix = getattr(b, "centre_people", np.zeros(0, dtype=np.int64))
        ix = ix[~np.isin(b.pid[ix], avoid)]
        k = len(ix)
        a0 = w.span_start + rng.integers(0, w.ref_end - w.span_start - 20, k)
        n_rev = np.where(a0 + 365 <= w.ref_end, 1, 0)
        n_sup = rng.integers(1, 4, k)
        rows_kind = np.concatenate(
            [
                np.full(k, "ASSESSMENT", dtype=object),
                np.full(n_rev.sum(), "REVIEW", dtype=object),
                np.full(n_sup.sum(), "SUPPORT", dtype=object),
            ]
        )
        who = np.concatenate([ix, np.repeat(ix, n_rev), np.repeat(ix, n_sup)])
        a0_all = np.concatenate([a0, np.repeat(a0, n_rev), np.repeat(a0, n_sup)])
        m = len(who)
        start = a0_all.copy()
        rev = rows_kind == "REVIEW"
        start[rev] = a0_all[rev] + rng.integers(360, 380, rev.sum())
        sup = rows_kind == "SUPPORT"
        # successive support rows of a carer start at least a month apart (no twin services)
        sup_rank = np.concatenate([np.zeros(k + n_rev.sum(), dtype=np.int64), _rank(n_sup)])
        start[sup] = a0_all[sup] + 7 + 45 * sup_rank[sup] + rng.integers(0, 30, sup.sum())
        start = np.minimum(start, w.ref_end)
        end = start + rng.integers(0, 15, m)
        ongoing = sup & (rng.random(m) < 0.2)
        end[sup] = start[sup] + rng.integers(0, 60, sup.sum())
        end = np.where(ongoing | (end > w.ref_end), NULL, end)
        support = np.where(sup, _pick(rng, {"RESPITE": 3, "SITTING": 2, "GRANT": 2}, m), None)
        outcome = np.where(
            rows_kind == "ASSESSMENT",
            "SUPPORT_PLAN",
            np.where(
                rev,
                b.d.codes("CARERS_OUTCOME").draw(rng, m),  # weighted: the review outcomes
                np.where(end == NULL, "ONGOING", "COMPLETED"),
            ),
        ).astype(object)
        pid = b.pid[who]
        cared = b.pid[b.cared_for[who]]
        frame = pl.DataFrame(
            {"person_id": pid, "_start": start, "_end": end, "_cared": cared}
        ).with_columns(
            _str("_kind", rows_kind),
            _str("_support", support),
            _str("_outcome", outcome),
            _str("_hours", b.hours_caring[who]),
        )
        return self._ids(frame.join(info, on="person_id", how="left"), rng)

    # -------------------------------------------------------------------- equipment
    def _equipment(self, b: ChunkBuilder, info: pl.DataFrame, rng, avoid) -> pl.DataFrame:
        w = self.world
        ix = getattr(b, "equipment_people", np.zeros(0, dtype=np.int64))
        frm = getattr(b, "equipment_from", np.zeros(0, dtype=np.int64))
        keep = ~np.isin(b.pid[ix], avoid) & (frm <= w.ref_end - 3) & (b.stop[ix] == NULL)
        ix, frm = ix[keep], frm[keep]
        n_orders = rng.choice([1, 2, 3], len(ix), p=[0.6, 0.3, 0.1])
        who = np.repeat(ix, n_orders)
        m = len(who)
        order = np.minimum(np.repeat(frm, n_orders) + rng.integers(0, 30, m), w.ref_end)
        items = b.d.codes("EQUIPMENT_ITEM")
        item = items.draw(rng, m)
        status = _pick(rng, {"DELIVERED": 50, "INSTALLED": 35, "COLLECTED": 10, "CANCELLED": 5}, m)
        delivery = np.where(status != "CANCELLED", order, NULL)
        install = np.where(
            status == "INSTALLED", np.minimum(order + rng.integers(0, 5, m), w.ref_end), NULL
        )
        collect = np.where(status == "COLLECTED", order + rng.integers(20, 200, m), NULL)
        collect = np.where(collect > w.ref_end, NULL, collect)
        status = np.where((status == "COLLECTED") & (collect == NULL), "DELIVERED", status)
        frame = pl.DataFrame(
            {
                "person_id": b.pid[who],
                "_order": order,
                "_delivery": delivery,
                "_install": install,
                "_collect": collect,
                "_qty": rng.choice([1, 1, 1, 2], m),
                "_cost": np.round(rng.uniform(15, 650, m), 2),
            }
        ).with_columns(
            _str("_item", item),
            _str("_status", status),
        )
        return self._ids(frame.join(info, on="person_id", how="left"), rng)

    @staticmethod
    def _ids(frame: pl.DataFrame, rng) -> pl.DataFrame:
        """Which identifiers the provider wrote: both (most), NHS number only, council id only."""
        u = pl.Series(rng.random(frame.height))
        return frame.with_columns(
            pl.when(u < 0.85)
            .then(pl.col("nhs_number"))
            .otherwise(pl.when(u < 0.93).then(None).otherwise(pl.col("nhs_number")))
            .alias("_nhs"),
            pl.when(u < 0.85)
            .then(pl.col("person_id").cast(pl.String))
            .otherwise(pl.when(u < 0.93).then(pl.col("person_id").cast(pl.String)).otherwise(None))
            .alias("_la_id"),
        )

    # -------------------------------------------------------------------- writing
    def write(
        self, feeds_dir: Path, rng: np.random.Generator, per_kind: int, window: tuple[int, int]
    ) -> tuple[list[Path], list[dict[str, object]]]:
        from pipelines.sample import defects as defects_mod

        feeds_dir.mkdir(parents=True, exist_ok=True)
        for old in list(feeds_dir.glob("carers_*")) + list(feeds_dir.glob("equipment_*")):
            old.unlink()
        carers = _carers_file_rows(
            pl.concat(self.carers, how="vertical_relaxed") if self.carers else pl.DataFrame()
        )
        equipment = _equipment_file_rows(
            pl.concat(self.equipment, how="vertical_relaxed") if self.equipment else pl.DataFrame()
        )
        manifest: list[dict[str, object]] = []
        known = np.concatenate(self.known_ids) if self.known_ids else np.zeros(0, dtype=np.int64)
        if per_kind:
            carers, equipment, manifest = defects_mod.inject_feeds(
                carers, equipment, rng, per_kind, window, known
            )
        files: list[Path] = []
        where: dict[str, tuple[str, int]] = {str(r["_feed_key"]): ("", 0) for r in manifest}
        files += _write_monthly(
            feeds_dir, "carers", carers, load_contract("carers_feed"), 6, 2, 4, where
        )
        files += _write_monthly(
            feeds_dir, "equipment", equipment, load_contract("equipment_feed"), 4, 1, 3, where
        )
        if per_kind:
            month = (datetime.fromordinal(EPOCH_ORD + window[1])).strftime("%Y-%m")
            mal, rows = defects_mod.inject_feed_files(
                feeds_dir, carers, equipment, rng, per_kind, month
            )
            files += mal
            manifest += rows
        manifest = _resolve_lines(manifest, where)
        return files, manifest


def _rank(counts: np.ndarray) -> np.ndarray:
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def _carers_file_rows(f: pl.DataFrame) -> pl.DataFrame:
    """Contract column names (carers_feed.yaml), dates still as days, plus ``_month``."""
    if f.height == 0:
        return pl.DataFrame()
    f = f.sort("_start", "person_id")
    return pl.DataFrame(
        {
            "Record ID": [f"CC{i:07d}" for i in range(1, f.height + 1)],
            "Carer NHS Number": f["_nhs"],
            "Carer Council ID": f["_la_id"],
            "Carer Surname": f["last_name"],
            "Carer Date of Birth": f["date_of_birth"],
            "Carer Gender": _feed_gender(f["gender_code"]),
            "Carer Postcode": f["postcode"],
            "Cared For Council ID": f["_cared"].cast(pl.String),
            "Activity Type": f["_kind"],
            "Activity Start Date": _as_date(f["_start"]),
            "Activity End Date": _as_date(f["_end"]),
            "Support Type": f["_support"],
            "Outcome": f["_outcome"],
            "Hours Caring per Week": f["_hours"],
            "_person_id": f["person_id"],
            "_month": _as_date(f["_start"]).dt.strftime("%Y-%m"),
        }
    )


def _equipment_file_rows(f: pl.DataFrame) -> pl.DataFrame:
    if f.height == 0:
        return pl.DataFrame()
    f = f.sort("_order", "person_id")
    return pl.DataFrame(
        {
            "Order Number": [f"EQ{i:07d}" for i in range(1, f.height + 1)],
            "NHS Number": f["_nhs"],
            "Client ID": f["_la_id"],
            "Client Surname": f["last_name"],
            "Date of Birth": f["date_of_birth"],
            "Gender": _feed_gender(f["gender_code"]),
            "Item Code": f["_item"],
            "Item Description": f["_item"].replace_strict(_ITEM_TEXT, default="Equipment item"),
            "Quantity": f["_qty"],
            "Status": f["_status"],
            "Delivery Date": _as_date(f["_delivery"]),
            "Installation Date": _as_date(f["_install"]),
            "Collection Date": _as_date(f["_collect"]),
            "Unit Cost": f["_cost"],
            "_person_id": f["person_id"],
            "_month": _as_date(f["_order"]).dt.strftime("%Y-%m"),
        }
    )


def _item_text() -> dict[str, str]:
    import csv as _csv

    from pipelines.sample.data import DATA_DIR

    with (DATA_DIR / "lookups" / "lookup_codes.csv").open(encoding="utf-8") as fh:
        return {
            r["code"]: r["description"]
            for r in _csv.DictReader(fh)
            if r["code_type"] == "EQUIPMENT_ITEM"
        }


_ITEM_TEXT = _item_text()


def _feed_gender(s: pl.Series) -> pl.Series:
    """Providers know M, F, I and U; anything else the council holds goes out as U."""
    return pl.select(
        pl.when(s.is_in(["M", "F", "I", "U"])).then(s).otherwise(pl.lit("U"))
    ).to_series()


def _as_date(s: pl.Series) -> pl.Series:
    return pl.select(
        pl.when(s != NULL).then(s).otherwise(None).cast(pl.Int32).cast(pl.Date)
    ).to_series()


def _write_monthly(
    feeds_dir: Path,
    stem: str,
    rows: pl.DataFrame,
    contract: dict,
    xlsx_every: int,
    xlsx_at: int,
    bom_at: int,
    where: dict[str, tuple[str, int]] | None = None,
) -> list[Path]:
    """One file per month; format rotates: cp1252 CSV, UTF-8 BOM CSV, XLSX. ``where`` gets
    ``key -> (file, line)`` (line 1 is the header) for the keys it already holds."""
    if rows.height == 0:
        return []
    names = [c["name"] for c in contract["columns"]]
    extra = [c for c in rows.columns if not c.startswith("_") and c not in names]
    cols = names + extra
    out: list[Path] = []
    months = sorted(rows["_month"].unique().to_list())
    for i, month in enumerate(months):
        part = rows.filter(pl.col("_month") == month)
        if i % xlsx_every == xlsx_at:
            path = feeds_dir / f"{stem}_{month}.xlsx"
            _write_xlsx(path, part.select(cols))
        else:
            path = feeds_dir / f"{stem}_{month}.csv"
            enc = "utf-8-sig" if i % xlsx_every == bom_at else "cp1252"
            _write_csv(path, part.select(cols), enc)
        out.append(path)
        if where:
            key = names[0]
            hits = part.with_row_index("_i").filter(pl.col(key).is_in(list(where)))
            for k, i in zip(hits[key].to_list(), hits["_i"].to_list(), strict=True):
                where[k] = (path.name, i + 2)
    return out


def _write_xlsx(path: Path, frame: pl.DataFrame) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": FIXED_TIME})
    ws = wb.add_worksheet("Data")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, frame.columns)
    for j, (name, dtype) in enumerate(frame.schema.items()):
        col = frame[name].to_list()
        if dtype == pl.Date:  # Excel serial day numbers, shown as dd/mm/yyyy date cells
            serial = (frame[name].cast(pl.Int32) + 25569).to_list()
            for i, v in enumerate(serial):  # xlsxwriter takes cells one by one
                if v is not None:
                    ws.write_number(i + 1, j, v, date_fmt)
        elif dtype in (pl.String, pl.Utf8):
            for i, v in enumerate(col):
                if v is not None:
                    ws.write_string(i + 1, j, v)
        else:
            for i, v in enumerate(col):
                if v is not None:
                    ws.write_number(i + 1, j, v)
    wb.close()


def _resolve_lines(
    rows: list[dict[str, object]], where: dict[str, tuple[str, int]]
) -> list[dict[str, object]]:
    """Feed defects point at ``<file>:<line>`` (line 1 is the header), found by the row key."""
    for r in rows:
        key = r.pop("_feed_key", None)
        if key is not None:
            file, line = where[str(key)]
            r["source"] = f"feeds/{file}"
            r["record_key"] = f"{file}:{line}"
    return rows


def write_feedback(
    feedback_dir: Path, acc: FeedAccumulator, rng: np.random.Generator, reference
) -> Path:
    """The NHS-number matching feedback sample, in the layout of ``feedback_layout.yaml``."""
    layout = load_feedback_layout()
    feedback_dir.mkdir(parents=True, exist_ok=True)
    people = (
        pl.concat(acc.people) if acc.people else pl.DataFrame({"person_id": [], "nhs_number": []})
    )
    people = people.head(FEEDBACK_MAX_ROWS)
    n = people.height
    basis = _pick(
        rng, {"NAME_DOB_POSTCODE": 82, "DOB_POSTCODE": 7, "NAME_DOB": 6, "NO_MATCH": 5}, n
    )
    nhs = people["nhs_number"].to_numpy().astype(object)
    from pipelines.sample.nhs import is_valid

    bad = ~is_valid(nhs)
    fresh = spare_valid_numbers(rng, n) if n else np.zeros(0, dtype=object)
    found = np.where(bad, fresh, nhs).astype(object)
    no_match = basis == layout.get("no_match_value", "NO_MATCH")
    found = np.where(no_match, None, found).astype(object)
    traced = reference.toordinal() - EPOCH_ORD + 40
    cols = layout["columns"]
    frame = pl.DataFrame(
        {
            cols["la_person_id"]: people["person_id"].cast(pl.String),
            cols["nhs_number_found"]: _str("", found),
            cols["match_basis"]: _str("", basis),
            cols["traced_on"]: _as_date(pl.Series(np.full(n, traced, dtype=np.int64))),
        }
    )
    stamp = datetime.fromordinal(EPOCH_ORD + traced).strftime("%Y-%m-%d")
    path = feedback_dir / f"nhs_number_feedback_{stamp}.csv"
    _write_csv(
        path,
        frame,
        (layout.get("encodings") or ["utf-8"])[0],
        date_fmt=layout.get("date_format", "%d/%m/%Y"),
    )
    return path


__all__ = ["FeedAccumulator", "write_feedback"]
