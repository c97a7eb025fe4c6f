"""Compare two stored submissions: volumes, events added/dropped/changed, vanished people,
completeness, and the warnings a reviewer should look at before sending.

The work is DuckDB SQL (``sql/history/compare/*.sql``) over ``submission_rows``, so it runs
out of core for England-size files; only the small summaries and the changed events come back
to Python. Events are matched on the national de-duplication keys (rules.md 5.12); rows that
share a key are paired in a stable order, so a duplicated event shows as one added/dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.history.store import (
    HistoryError,
    SubmissionInfo,
    fetch_frame,
    insert_keyed_rows,
    sql,
)

if TYPE_CHECKING:
    from pipelines.history.store import History

DEFAULT_DATE_FORMAT = "%Y-%m-%d"


@dataclass(frozen=True)
class Thresholds:
    """When a difference becomes a warning. Percentages are of the older submission's count.

    A council can override any of these in the ``compare:`` section of its thresholds file
    (``[checks] thresholds`` in cld.toml).
    """

    month_drop_pct: float = 20.0  # an event type's month down by more than this
    month_rise_pct: float = 50.0  # ... or up by more than this
    category_drop_pct: float = 25.0  # a PSR, service type or team down by more than this
    completeness_pp: float = 5.0  # a field's completeness moved by more (percentage points)
    vanished_pct: float = 2.0  # people gone (not explained by the window) over this share
    changed_pct: float = 10.0  # events changed over this share of matched events
    min_count: int = 20  # ignore cells smaller than this in the older submission

    @classmethod
    def from_section(cls, section: object) -> Thresholds:
        """Defaults, overridden by the thresholds file's ``compare:`` section (parsed; None or
        empty: the defaults). Read through ``pipelines.thresholds.load``, the file's one
        reader; a key it does not know or a value that is not a number is a
        ``ThresholdsError`` naming it."""
        from checks.thresholds import ThresholdsError

        if not section:
            return cls()
        if not isinstance(section, dict):
            raise ThresholdsError("compare: must be a mapping of keys")
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ThresholdsError(
                f"unknown compare threshold(s) {', '.join(sorted(map(str, unknown)))}; "
                f"known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for k, v in section.items():
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise ThresholdsError(f"compare: {k}: {v!r} is not a number")
            values[k] = type(getattr(cls(), k))(v)
        return cls(**values)


@dataclass
class Comparison:
    """The result of comparing submission ``a`` (older) with ``b`` (newer)."""

    a: SubmissionInfo
    b: SubmissionInfo
    windows: pl.DataFrame  # side, period_start, period_end, people, rows
    counts: pl.DataFrame  # dimension, event_type, value, count_a, count_b, delta, pct_change
    events: pl.DataFrame  # per event type: added, dropped, dropped_left_window, changed, ...
    changes: pl.DataFrame  # each added / dropped / changed event (changed_fields for changed)
    field_changes: pl.DataFrame  # field, events (how many changed events differ in it)
    vanished: pl.DataFrame  # people in a with no row in b
    completeness: pl.DataFrame  # event_type, field, pct_a, pct_b, delta_pp
    warnings: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Whole-file numbers for a one-line summary."""
        e = self.events
        return {
            "added": int(e["added"].sum()),
            "dropped": int(e["dropped"].sum()),
            "dropped_left_window": int(e["dropped_left_window"].sum()),
            "changed": int(e["changed"].sum()),
            "unchanged": int(e["unchanged"].sum()),
            "vanished_people": self.vanished.height,
            "vanished_unexplained": int((~self.vanished["left_window"]).sum()),
        }

    def summary_text(self) -> str:
        """A plain-text report with counts only (no personal data: safe to print or log)."""
        t = self.totals()
        lines = [
            f"Submission {self.a.id} ({self.a.period}, {self.a.rows} rows) -> "
            f"submission {self.b.id} ({self.b.period}, {self.b.rows} rows)",
            f"Events: {t['added']} added, {t['dropped']} dropped "
            f"({t['dropped_left_window']} left the reporting window), {t['changed']} changed, "
            f"{t['unchanged']} unchanged",
            f"People no longer in the file: {t['vanished_people']} "
            f"({t['vanished_unexplained']} not explained by the window)",
            "",
            "By event type:",
        ]
        w = max([12, *(len(str(e)) for e in self.events["event_type"].to_list())])
        for r in self.events.iter_rows(named=True):
            lines.append(
                f"  {r['event_type']:<{w}} +{r['added']:<7} -{r['dropped']:<7} "
                f"~{r['changed']:<7} ={r['unchanged']}"
            )
        if self.field_changes.height:
            top = ", ".join(
                f"{r['field']} {r['events']}"
                for r in self.field_changes.head(8).iter_rows(named=True)
            )
            lines += ["", f"Fields changed most: {top}"]
        lines += ["", f"Warnings ({len(self.warnings)}):"]
        lines += [f"  - {w}" for w in self.warnings] or ["  none"]
        return "\n".join(lines)


def resolve_pair(h: History, a: int | None, b: int | None) -> tuple[SubmissionInfo, SubmissionInfo]:
    """Default pair: the newest submission against the last one sent before it, else the one
    before it. Either side can be given."""
    new = h.submission(b) if b is not None else h.latest_submission()
    if new is None:
        raise HistoryError("history holds no submission yet: run `cld build` first")
    old = h.submission(a) if a is not None else h.previous_submission(before=new.id)
    if old is None:
        raise HistoryError(
            f"nothing to compare submission {new.id} with: history holds no earlier submission "
            "of it or of an earlier quarter; give two ids (`cld compare A B`, ids from "
            "`cld history runs`)"
        )
    if old.id == new.id:
        raise HistoryError(f"cannot compare submission {new.id} with itself")
    return old, new


def _date_format(release: str | None) -> str:
    try:
        from cld_schema import RELEASES, load_spec

        return load_spec(release or RELEASES[0]).date_format
    except Exception:  # an unknown release still compares with the spec's usual format
        return DEFAULT_DATE_FORMAT


def compare(
    h: History, a: int | None = None, b: int | None = None, thresholds: Thresholds | None = None
) -> Comparison:
    """Compare two stored submissions (see module doc); ``a`` older, ``b`` newer."""
    old, new = resolve_pair(h, a, b)
    th = thresholds or Thresholds()
    ids: dict[str, Any] = {"a": old.id, "b": new.id}
    con = h.con
    fmt = {**ids, "fmt": _date_format(new.release)}
    translated = _translating(old, new)
    try:
        if translated:
            _translate_older(h, old, new)
            con.execute(sql("compare/source_translated.sql"))
        else:
            con.execute(sql("compare/source_same.sql"))
        windows = fetch_frame(con, sql("compare/windows.sql"), fmt)
        b_start = _window(windows, "b", "period_start")
        con.execute(sql("compare/rows.sql"), fmt)
        con.execute(sql("compare/events.sql"), {"b_start": b_start})
        events = fetch_frame(con, sql("compare/event_summary.sql"))
        changes = fetch_frame(con, sql("compare/event_detail.sql"), ids)
        changed = fetch_frame(con, sql("compare/changed_fields.sql"), ids)
        counts = fetch_frame(con, sql("compare/counts.sql"), fmt)
        vanished = fetch_frame(con, sql("compare/vanished.sql"), {**fmt, "b_start": b_start})
        completeness = fetch_frame(con, sql("compare/completeness.sql"), ids)
    finally:
        con.execute(sql("compare/cleanup.sql"))
    changes = changes.join(changed, on=["row_a", "row_b"], how="left").with_columns(
        pl.col("changed_fields").fill_null(pl.lit([], pl.List(pl.String)))
    )
    field_changes = (
        changes.select(pl.col("changed_fields").explode().alias("field"))
        .drop_nulls()
        .group_by("field")
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .sort(["events", "field"], descending=[True, False])
    )
    counts = counts.with_columns(
        (pl.col("count_b") - pl.col("count_a")).alias("delta"),
        pl.when(pl.col("count_a") > 0)
        .then(((pl.col("count_b") - pl.col("count_a")) / pl.col("count_a") * 100).round(1))
        .alias("pct_change"),
    )
    completeness = _completeness(completeness, h, old, new)
    result = Comparison(
        old, new, windows, counts, events, changes, field_changes, vanished, completeness
    )
    result.warnings = warnings(result, th)
    if translated:
        result.warnings.insert(
            0,
            f"submission {old.id} is {old.release} and {new.id} is {new.release}: its values "
            f"were translated to {new.release} texts (spec {old.release}->{new.release} maps) "
            f"and fields not in "
            f"{new.release} left out before comparing",
        )
    return result


def _translating(old: SubmissionInfo, new: SubmissionInfo) -> bool:
    """A file of an earlier release against a later one (e.g. R1 against R2, the 2025-26
    switch; ``based_on`` in releases.yaml): translate the older side first."""
    from cld_schema import RELEASES, load_spec

    if old.release not in RELEASES or new.release not in RELEASES:
        return False
    return old.release in load_spec(new.release).earlier


def _translate_older(h: History, old: SubmissionInfo, new: SubmissionInfo) -> None:
    """The older submission's rows with its list values translated to the newer release's
    texts (``Spec.translate_from``; values with no equivalent kept as they were) and only the
    newer release's fields, hashed as stored rows are, into the temporary table the comparison
    then reads instead (``cmp_a_rows``)."""
    from cld_schema import load_spec

    spec = load_spec(new.release)
    frame = h.submission_frame(old.id)
    keep = [f for f in spec.field_names if f in frame.columns]
    exprs = spec.translate_from(load_spec(old.release), keep_unknown=True)
    rows = frame.select(
        pl.col("_row").cast(pl.Int32).alias("row_no"),
        pl.col("_team_id").alias("team_id"),
        pl.col("_team_name").alias("team_name"),
        *[exprs.get(f, pl.col(f)) for f in keep],
    )
    h.con.execute(sql("compare/source_translated_table.sql"))
    h.con.register("_new_rows", rows)
    try:
        insert_keyed_rows(h.con, "cmp_a_rows", old.id)
    finally:
        h.con.unregister("_new_rows")


def _window(windows: pl.DataFrame, side: str, col: str) -> Any:
    rows = windows.filter(pl.col("side") == side)
    return rows[col][0] if rows.height else None


def _completeness(
    frame: pl.DataFrame, h: History, old: SubmissionInfo, new: SubmissionInfo
) -> pl.DataFrame:
    """Percent filled per side, only for fields that are in either submission's file."""
    import json

    from pipelines.history.store import first

    wanted: set[str] = set()
    for sub in (old, new):
        row = first(h.con, sql("submission_fields.sql"), {"id": sub.id})
        wanted |= set(json.loads(row[0]) if row and row[0] else [])
    pct = lambda f, n: pl.when(pl.col(n) > 0).then((pl.col(f) / pl.col(n) * 100).round(1))  # noqa: E731
    return (
        frame.filter(pl.col("field").is_in(sorted(wanted)))
        .with_columns(pct_a=pct("filled_a", "rows_a"), pct_b=pct("filled_b", "rows_b"))
        .with_columns(delta_pp=(pl.col("pct_b") - pl.col("pct_a")).round(1))
    )


def _months_in_both(c: Comparison) -> tuple[str, str] | None:
    """The months (YYYY-MM) inside both reporting windows: only these can be compared fairly."""
    starts = [_window(c.windows, s, "period_start") for s in ("a", "b")]
    ends = [_window(c.windows, s, "period_end") for s in ("a", "b")]
    if None in starts or None in ends:
        return None
    lo, hi = max(starts), min(ends)
    return (lo.strftime("%Y-%m"), hi.strftime("%Y-%m")) if lo <= hi else None


def warnings(c: Comparison, th: Thresholds) -> list[str]:
    """The differences over the thresholds, as sentences with counts only (no personal data)."""
    out: list[str] = []
    if c.a.release and c.b.release and c.a.release != c.b.release and not _translating(c.a, c.b):
        out.append(
            f"the submissions are of different releases ({c.a.release} -> {c.b.release}): "
            f"values renamed between releases show as changes, and as dropped + added events "
            f"where they are part of the event key"
        )
    big = pl.col("count_a") >= th.min_count
    months = _months_in_both(c)
    if months:
        m = c.counts.filter(
            (pl.col("dimension") == "month")
            & big
            & pl.col("value").is_between(pl.lit(months[0]), pl.lit(months[1]))
        )
        for r in m.filter(pl.col("pct_change") < -th.month_drop_pct).iter_rows(named=True):
            out.append(
                f"{r['event_type']} in {r['value']}: {r['count_a']} -> {r['count_b']} "
                f"({r['pct_change']:+.1f}%, more than {th.month_drop_pct:g}% down)"
            )
        for r in m.filter(pl.col("pct_change") > th.month_rise_pct).iter_rows(named=True):
            out.append(
                f"{r['event_type']} in {r['value']}: {r['count_a']} -> {r['count_b']} "
                f"({r['pct_change']:+.1f}%, more than {th.month_rise_pct:g}% up)"
            )
    cats = c.counts.filter(
        pl.col("dimension").is_in(["primary_support_reason", "service_type", "team"])
        & big
        & (pl.col("pct_change") < -th.category_drop_pct)
    )
    for r in cats.iter_rows(named=True):
        out.append(
            f"{r['dimension'].replace('_', ' ')} '{r['value']}' ({r['event_type']}): "
            f"{r['count_a']} -> {r['count_b']} ({r['pct_change']:+.1f}%)"
        )
    comp = c.completeness.filter(
        (pl.col("rows_a") >= th.min_count)
        & (pl.col("rows_b") >= th.min_count)
        & (pl.col("delta_pp").abs() > th.completeness_pp)
    )
    for r in comp.iter_rows(named=True):
        out.append(
            f"completeness of {r['field']} on {r['event_type']} rows: {r['pct_a']:.1f}% -> "
            f"{r['pct_b']:.1f}% ({r['delta_pp']:+.1f} points)"
        )
    people_a = _window(c.windows, "a", "people") or 0
    gone = int((~c.vanished["left_window"]).sum()) if c.vanished.height else 0
    if people_a and gone / people_a * 100 > th.vanished_pct:
        out.append(
            f"{gone} of {people_a} people ({gone / people_a * 100:.1f}%) are no longer in the "
            f"file though their events had not all ended before the new reporting period"
        )
    t = c.totals()
    matched = t["changed"] + t["unchanged"]
    if matched >= th.min_count and t["changed"] / matched * 100 > th.changed_pct:
        out.append(
            f"{t['changed']} of {matched} matched events ({t['changed'] / matched * 100:.1f}%) "
            f"changed"
        )
    return out
