"""Journeys of the sample council's people, generated a chunk of persons at a time with numpy.

No Python loop runs per person or per event: each journey stage is an array operation over the
persons that reach it. Dates are whole days since 1970-01-01 (``int64``); ``NULL`` marks no date.

Order of a journey (what the tests check): request → assessment (Care Act / OT / reablement,
then financial) → short-term support (reablement / ST-Max) → long-term support → reviews. A
service never starts before the assessment that set it up, a review never before the first
service it reviews, and nothing happens after a person's death or move away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.sample import measure_journeys
from pipelines.sample.data import (
    CARER,
    CENTRE,
    CONTACT_ONLY,
    EXISTING_LTS,
    NEW_LTS,
    NULL,
    OBJ,
    OT_EQUIP,
    OUT_OF_SCOPE,
    SHORT_TERM,
    SampleData,
    _obj,
    _pick,
)
from pipelines.sample.nhs import valid_numbers

YEAR = 365.25
ADULT_DAYS = 6576  # 18 years and a few days: an event on or after dob + ADULT_DAYS is adult

MIX_KEYS = (
    "contact_only",
    "short_term",
    "new_long_term",
    "existing_long_term",
    "carer",
    "carers_centre",
    "ot_equipment",
    "out_of_scope",
)



def group_rank(counts: np.ndarray) -> np.ndarray:
    """0..c-1 within each group of a ``np.repeat(..., counts)`` expansion."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


@dataclass
class World:
    """What every chunk shares: the timeline, reference tables and the council's picklists."""

    data: SampleData
    ref_end: int  # last day with data (reference date)
    span_start: int  # first day of the ~2-year window
    team_ids: np.ndarray
    team_roles: np.ndarray
    worker_team: np.ndarray  # team_id of each worker (worker_id = index + 1)
    provider_ids: np.ndarray
    provider_has_cqc: np.ndarray
    gp_codes: np.ndarray
    mix: np.ndarray
    postcode_areas: tuple[str, ...] = ("SX", "SY", "SZ")
    review_share: float = 1.0  # share of planned reviews that happen (councils review ~50-60%)


@dataclass
class Ids:
    """Running ids, so chunks never collide and the same seed gives the same ids."""

    person: int = 100_001
    step: int = 5_000_001
    agreement: int = 700_001
    address: int = 1
    registration: int = 1
    condition: int = 1
    psr: int = 1
    employment: int = 1
    allocation: int = 1
    relationship: int = 1


@dataclass
class _Table:
    """Columns appended stage by stage; ``add`` returns the new rows' indices."""

    cols: dict[str, list[np.ndarray]] = field(default_factory=dict)
    n: int = 0

    def add(self, size: int, **values: object) -> np.ndarray:
        start = self.n
        for name in set(self.cols) | set(values):
            if name not in self.cols:
                self.cols[name] = [_obj(None, self.n)] if self.n else []
            v = values.get(name)
            arr = v if isinstance(v, np.ndarray) else _obj(v, size)
            self.cols[name].append(arr)
        self.n += size
        return np.arange(start, self.n)

    def frame(self) -> dict[str, np.ndarray]:
        out = {}
        for name, parts in self.cols.items():
            if any(p.dtype == OBJ for p in parts):
                out[name] = (
                    np.concatenate([p.astype(OBJ) for p in parts]) if parts else _obj(None, 0)
                )
            else:
                out[name] = np.concatenate(parts) if parts else np.zeros(0)
        return out


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int):
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    return lo_a + np.floor(rng.random(n) * np.maximum(hi_a - lo_a, 1)).astype(np.int64)


def _dur(rng: np.random.Generator, mean: float, lo: int, hi: int, n: int) -> np.ndarray:
    return np.clip(np.round(rng.exponential(mean, n)).astype(np.int64), lo, hi)


class ChunkBuilder:
    """Builds every table for ``n`` new persons."""

    def __init__(self, world: World, rng: np.random.Generator, ids: Ids, n: int):
        self.w, self.rng, self.ids, self.n = world, rng, ids, n
        self.d = world.data
        self.steps = _Table()
        self.services = _Table()
        self.pid = ids.person + np.arange(n, dtype=np.int64)
        ids.person += n
        self.ptype = rng.choice(8, n, p=world.mix)
        self.first_event = np.full(n, NULL, dtype=np.int64)
        self.transition = np.zeros(n, dtype=bool)
        self.stop = np.full(n, NULL, dtype=np.int64)  # death or move away
        self.died = np.zeros(n, dtype=bool)
        self.psr = _obj(None, n)
        self.lts_team_role = _obj("OP", n)
        self.intake_role = _obj("FRONT_DOOR", n)
        self.intake_end = np.full(n, NULL, dtype=np.int64)
        self.accommodation_override = _obj(None, n)
        self.care_start = np.full(n, NULL, dtype=np.int64)  # start of residential/nursing care
        self.cared_for = np.full(n, -1, dtype=np.int64)  # carer -> index of cared-for person
        self.hours_caring = _obj(None, n)

    # ------------------------------------------------------------------ helpers
    def _codes(self, code_type: str, n: int) -> np.ndarray:
        return self.d.codes(code_type).draw(self.rng, n)

    def _step(self, ix, step_type, status, start, end, outcome, prev, carer=False, **detail):
        k = len(ix)
        return self.steps.add(
            k,
            pidx=ix,
            step_type=step_type if isinstance(step_type, np.ndarray) else _obj(step_type, k),
            status=status if isinstance(status, np.ndarray) else _obj(status, k),
            start=start,
            end=end,
            outcome=outcome if isinstance(outcome, np.ndarray) else _obj(outcome, k),
            prev=prev if isinstance(prev, np.ndarray) else np.full(k, -1, dtype=np.int64),
            carer=np.full(k, bool(carer)) if not isinstance(carer, np.ndarray) else carer,
            **{key: (v if isinstance(v, np.ndarray) else _obj(v, k)) for key, v in detail.items()},
        )

    def _close(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steps that would finish after the reference date are still open (no end)."""
        open_ = end > self.w.ref_end
        status = np.where(open_, "OPEN", "COMP").astype(OBJ)
        return status, np.where(open_, NULL, end)

    def _touch(self, ix: np.ndarray, day: np.ndarray) -> None:
        cur = self.first_event[ix]
        self.first_event[ix] = np.where((cur == NULL) | (day < cur), day, cur)

    # ------------------------------------------------------------------ journeys
    def requests(self, ix: np.ndarray, t0: np.ndarray, outcome: np.ndarray, route, carer=False):
        rng, k = self.rng, len(ix)
        end = t0 + _dur(rng, 4, 0, 45, k)
        status, end = self._close(t0, end)
        outcome = np.where(status == "OPEN", None, outcome).astype(OBJ)
        desc = np.where(rng.random(k) < 0.3, "Initial conversation", None).astype(OBJ)
        rows = self._step(
            ix,
            "CONTACT",
            status,
            t0,
            end,
            outcome,
            None,
            carer,
            kind="C",
            route=route,
            csource=_pick(rng, {"Telephone": 6, "Email": 2, "Online": 1, "Hospital ward": 1}, k),
            cdesc=desc,
        )
        self._touch(ix, t0)
        return rows, end, status

    def build(self) -> None:
        rng, w, n = self.rng, self.w, self.n
        pt = self.ptype
        self.psr = self._codes("PSR", n)
        entrants = np.flatnonzero(np.isin(pt, [CONTACT_ONLY, SHORT_TERM, NEW_LTS, OT_EQUIP]))
        t0 = np.full(n, NULL, dtype=np.int64)
        t0[entrants] = _uniform_days(rng, w.span_start - 60, w.ref_end - 3, len(entrants))

        # contact only: the request closes with advice, signposting, no services, ...
        ix = np.flatnonzero(pt == CONTACT_ONLY)
        route = self._codes("ROUTE", len(ix))
        outcome = _pick(
            rng,
            {
                "INFO": 30,
                "SIGNP": 15,
                "NOSVC": 18,
                "DECL": 10,
                "SELFF": 8,
                "CHC": 3,
                "NFAOTH": 6,
                "HOSPADM": 3,
                "ASSESS": 0,
            },
            len(ix),
        )
        self.psr[ix] = np.where(rng.random(len(ix)) < 0.97, self.psr[ix], None)
        self.requests(ix, t0[ix], outcome, route)
        # some come back with another request during the window
        again = np.repeat(ix, rng.poisson(0.7, len(ix)))
        t1 = _uniform_days(rng, w.span_start - 30, w.ref_end - 3, len(again))
        self.requests(
            again,
            t1,
            _pick(rng, {"INFO": 4, "SIGNP": 2, "NOSVC": 2, "DECL": 1}, len(again)),
            self._codes("ROUTE", len(again)),
        )

        # transition: a share of new long-term clients turn 18 during the window
        new = np.flatnonzero(pt == NEW_LTS)
        trans = new[rng.random(len(new)) < 0.05]
        self.transition[trans] = True
        self.psr[trans] = "LD"

        # short-term: request -> reablement assessment -> ST-Max (a share go on to long-term)
        st = np.flatnonzero(pt == SHORT_TERM)
        hosp = rng.random(len(st)) < 0.45
        route = np.where(hosp, "HOSPDIS", self._codes("ROUTE", len(st))).astype(OBJ)
        route = np.where(route == "TRANS", "SELF", route).astype(OBJ)
        self.intake_role[st] = np.where(hosp, "HOSPITAL", "FRONT_DOOR")
        req, req_end, req_status = self.requests(st, t0[st], _obj("STMAX", len(st)), route)
        ok = req_status == "COMP"
        st, req, req_end = st[ok], req[ok], req_end[ok]
        a_start = req_end + rng.integers(0, 4, len(st))
        a_end = a_start + _dur(rng, 3, 0, 14, len(st))
        a_status, a_end = self._close(a_start, a_end)
        arows = self._step(
            st,
            "ASSESS_REAB",
            a_status,
            a_start,
            a_end,
            np.where(a_status == "OPEN", None, "STMAX").astype(OBJ),
            req,
            kind="A",
            eligible=None,
            amethod=self._codes("METHOD", len(st)),
        )
        ok = a_status == "COMP"
        st, arows, a_end = st[ok], arows[ok], a_end[ok]
        self.intake_end[st] = a_end
        self.lts_team_role[st] = "REABLEMENT"
        fin_end = a_end  # reablement is free: no financial assessment (funding 'Unknown')
        s_start = np.maximum(a_end, fin_end) + rng.integers(1, 5, len(st))
        s_end = s_start + rng.integers(10, 43, len(st))
        onward = rng.random(len(st)) < 0.3
        reason = np.where(
            onward,
            "SUPPLAN",
            _pick(rng, {"ENDPLAN": 80, "HOSPADM": 10, "DECL": 5, "ENDOTH": 5}, len(st)),
        ).astype(OBJ)
        bed = rng.random(len(st)) < 0.15
        self._service(
            st,
            np.where(bed, "REABBED", "REAB").astype(OBJ),
            s_start,
            s_end,
            reason,
            arows,
            delivery="COMM",
        )
        # those progressing to long-term support get a Care Act assessment after reablement
        onward_ix = st[onward & (s_end < w.ref_end - 10)]
        self._long_term(onward_ix, s_end[onward & (s_end < w.ref_end - 10)] + 1, prev=None)

        # new long-term: request -> Care Act assessment -> financial -> services -> reviews
        new = np.flatnonzero(pt == NEW_LTS)
        route = self._codes("ROUTE", len(new))
        route = np.where(self.transition[new], "TRANS", route).astype(OBJ)
        self.intake_role[new] = np.where(route == "HOSPDIS", "HOSPITAL", "FRONT_DOOR")
        req, req_end, req_status = self.requests(new, t0[new], _obj("ASSESS", len(new)), route)
        ok = req_status == "COMP"
        self._long_term(new[ok], req_end[ok] + 1, prev=req[ok])

        # OT / equipment: request -> OT assessment -> telecare or equipment (the feed)
        ot = np.flatnonzero(pt == OT_EQUIP)
        req, req_end, req_status = self.requests(
            ot, t0[ot], _obj("ASSESS", len(ot)), self._codes("ROUTE", len(ot))
        )
        ok = req_status == "COMP"
        ot, req, req_end = ot[ok], req[ok], req_end[ok]
        self.intake_end[ot] = req_end
        self.lts_team_role[ot] = "REABLEMENT"
        a_start = req_end + rng.integers(1, 21, len(ot))
        a_end = a_start + _dur(rng, 5, 0, 30, len(ot))
        a_status, a_end = self._close(a_start, a_end)
        arows = self._step(
            ot,
            "ASSESS_OT",
            a_status,
            a_start,
            a_end,
            np.where(a_status == "OPEN", None, "SUPPLAN").astype(OBJ),
            req,
            kind="A",
            eligible=None,
            amethod=self._codes("METHOD", len(ot)),
        )
        ok = a_status == "COMP"
        ot, arows, a_end = ot[ok], arows[ok], a_end[ok]
        fin_end = a_end  # minor equipment is free: no financial assessment
        tele = rng.random(len(ot)) < 0.5
        day = np.maximum(a_end, fin_end) + rng.integers(1, 15, len(ot))
        keep = tele & (day <= w.ref_end)
        self._service(
            ot[keep],
            "TELECARE",
            day[keep],
            day[keep],
            _obj("ENDPLAN", keep.sum()),
            arows[keep],
            delivery="COMM",
        )
        self.equipment_people = ot[~tele]
        self.equipment_from = np.maximum(a_end, fin_end)[~tele] + 1

        # existing long-term clients: support began before the window
        ex = np.flatnonzero(pt == EXISTING_LTS)
        self._existing(ex)

        # carers (own steps) and carers' centre carers (feed only)
        self._carers()
        # out of scope work (never in the CLD file), on its own and alongside other journeys
        self._out_of_scope()
        measure_journeys.add(self)  # the SALT/ASCOF cases (pipelines/sample/measure_journeys.py)
        self._noise()
        self._stops()
        self._distinct_requests()
        self._adult_dates()

    def _financial(
        self, ix: np.ndarray, after: np.ndarray, prev: np.ndarray, funding
    ) -> np.ndarray:
        """A completed financial assessment before support starts; returns its end dates."""
        rng, k = self.rng, len(ix)
        start = after + rng.integers(0, 8, k)
        end = start + _dur(rng, 6, 1, 28, k)
        fund = self._codes("FUNDING", k) if funding is None else _obj(funding, k)
        status, end2 = self._close(start, end)
        # a financial assessment still open at the reference date: services wait for it
        done = status == "COMP"
        self._step(
            ix[done],
            "ASSESS_FIN",
            "COMP",
            start[done],
            end2[done],
            None,
            prev[done],
            kind="A",
            eligible=None,
            amethod=None,
            funding=fund[done],
        )
        return np.where(done, end, self.w.ref_end + 1000)

    def _lts_codes(self, ix: np.ndarray, lines: np.ndarray) -> np.ndarray:
        rng = self.rng
        codes = self._codes("SERVICE", len(lines))
        age_wa = self.lts_team_role[ix[lines]] == "WA"
        # working-age adults rarely live in nursing homes; more supported living
        swap = age_wa & np.isin(codes, ["NURSING"]) & (rng.random(len(lines)) < 0.8)
        codes = np.where(swap, "SUPPLIV", codes).astype(OBJ)
        return codes

    def _service(
        self,
        ix,
        code,
        start,
        end,
        end_reason,
        source,
        delivery=None,
        for_carer=False,
        cared_for=None,
        status=None,
    ):
        """Service agreements with provider, delivery, cost and planned units by service code."""
        rng, k = self.rng, len(ix)
        code = code if isinstance(code, np.ndarray) else _obj(code, k)
        end = np.asarray(end, dtype=np.int64)
        if delivery is None:
            delivery = np.where(
                rng.random(k) < 0.75, "COMM", np.where(rng.random(k) < 0.7, "MPB", "ISF")
            ).astype(OBJ)
            delivery = np.where(np.isin(code, ["DPCASH", "CARERDP"]), "DP", delivery).astype(OBJ)
            delivery = np.where(code == "PRISCARE", "COMM", delivery).astype(OBJ)
        elif not isinstance(delivery, np.ndarray):
            delivery = _obj(delivery, k)
        freq, cost, units = self._costs(code, k)
        provider = self.w.provider_ids[rng.integers(0, len(self.w.provider_ids), k)]
        provider = np.where(delivery == "DP", -1, provider)
        if status is None:
            status = np.where(end == NULL, "ACT", "END").astype(OBJ)
        rows = self.services.add(
            k,
            pidx=ix,
            code=code,
            start=np.asarray(start, dtype=np.int64),
            end=end,
            status=status,
            end_reason=np.where(end == NULL, None, end_reason).astype(OBJ),
            delivery=delivery,
            freq=freq,
            cost=cost,
            units=units,
            provider=provider,
            for_carer=np.full(k, bool(for_carer)),
            cared_for=(cared_for if cared_for is not None else np.full(k, -1, dtype=np.int64)),
            source=np.asarray(source, dtype=np.int64),
            suspended=np.full(k, NULL, dtype=np.int64),
        )
        return rows

    def _costs(self, code: np.ndarray, k: int):
        """Cost frequency, unit cost and planned units per week, by the kind of service."""
        rng = self.rng
        freq = _obj("WK", k)
        cost = np.round(rng.uniform(150, 600, k), 2)
        units = np.ones(k)
        hourly = np.isin(code, ["HOMECARE", "REAB", "SUPPLIV", "PRISCARE"])
        freq[hourly] = "HR"
        cost = np.where(hourly, np.round(rng.uniform(17.5, 29.5, k), 2), cost)
        units = np.where(hourly, np.round(rng.uniform(3, 35, k) * 2) / 2, units)
        units = np.where(code == "SUPPLIV", np.round(rng.uniform(20, 80, k)), units)
        res = np.isin(code, ["RESI", "REABBED", "STRES"])
        cost = np.where(res, np.round(rng.uniform(750, 1250, k), 2), cost)
        nurs = np.isin(code, ["NURSING", "STNURS"])
        cost = np.where(nurs, np.round(rng.uniform(950, 1600, k), 2), cost)
        daily = code == "CARERRESP"
        freq[daily] = "DAY"
        cost = np.where(daily, np.round(rng.uniform(120, 220, k), 2), cost)
        units = np.where(daily, rng.integers(1, 4, k).astype(float), units)
        carer_dp = code == "CARERDP"
        freq[carer_dp] = "4WK"
        cost = np.where(carer_dp, np.round(rng.uniform(80, 300, k), 2), cost)
        units = np.where(carer_dp, 0.25, units)
        one = code == "TELECARE"
        freq[one] = "ONE"
        cost = np.where(one, np.round(rng.uniform(25, 400, k), 2), cost)
        units = np.where(one, np.nan, units)
        return freq, cost, units

    def _long_term(self, ix: np.ndarray, after: np.ndarray, prev) -> None:
        """Care Act assessment -> (eligible) financial assessment -> 1-3 services -> reviews."""
        rng, w, k = self.rng, self.w, len(ix)
        if k == 0:
            return
        age_wa = self._age_at(ix, after) < 65
        self.lts_team_role[ix] = np.where(age_wa, "WA", "OP")
        prev = prev if prev is not None else np.full(k, -1, dtype=np.int64)
        a_start = after + rng.integers(0, 21, k)
        a_end = a_start + _dur(rng, 18, 1, 90, k)
        a_status, a_end = self._close(a_start, a_end)
        eligible = np.where(rng.random(k) < 0.85, "Y", "N").astype(OBJ)
        outcome = np.where(
            eligible == "Y",
            np.where(rng.random(k) < 0.5, "FINASS", "SUPPLAN"),
            _pick(rng, {"NOSVC": 4, "INFO": 3, "DECL": 2, "CHC": 1}, k),
        ).astype(OBJ)
        outcome = np.where(a_status == "OPEN", None, outcome).astype(OBJ)
        rows = self._step(
            ix,
            "ASSESS_CA",
            a_status,
            a_start,
            a_end,
            outcome,
            prev,
            kind="A",
            eligible=np.where(a_status == "OPEN", None, eligible).astype(OBJ),
            amethod=self._codes("METHOD", k),
        )
        self.intake_end[ix] = np.where(self.intake_end[ix] == NULL, a_start, self.intake_end[ix])
        go = (a_status == "COMP") & (eligible == "Y")
        ix, rows, a_end = ix[go], rows[go], a_end[go]
        fin_end = self._financial(ix, a_end, rows, funding=None)
        s_start = np.maximum(a_end, fin_end) + rng.integers(1, 22, len(ix))
        keep = s_start <= w.ref_end
        ix, rows, s_start = ix[keep], rows[keep], s_start[keep]
        self._packages(ix, s_start, rows, a_end[keep])

    def _packages(self, ix, s_start, arows, a_end) -> None:
        """1-3 service lines per person from ``s_start``, then planned and unplanned reviews."""
        rng, w = self.rng, self.w
        nlines = rng.choice([1, 2, 3], len(ix), p=[0.25, 0.4, 0.35])
        lines = np.repeat(np.arange(len(ix)), nlines)
        li = ix[lines]
        code = self._lts_codes(ix, lines)
        rank = group_rank(nlines)
        start = s_start[lines] + np.where(rank == 0, 0, rng.integers(0, 60, len(lines)))
        # residential / nursing care is the first line when present
        care = np.isin(code, ["RESI", "NURSING"])
        has_care = np.zeros(self.n, dtype=bool)
        has_care[li[care]] = True
        cs = np.full(self.n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(cs, li[care], start[care])
        self.care_start[has_care] = cs[has_care]
        self.accommodation_override[li[care & (code == "RESI")]] = "RES"
        self.accommodation_override[li[care & (code == "NURSING")]] = "NURS"
        ends = rng.random(len(lines)) < 0.25
        end = np.where(ends, start + rng.integers(30, 500, len(lines)), NULL)
        end = np.where(end > w.ref_end, NULL, end)
        reason = _pick(rng, {"ENDPLAN": 4, "ENDOTH": 2, "CHC": 1, "SELFF": 1}, len(lines))
        start = np.minimum(start, w.ref_end)
        srows = self.services.n
        self._service(li, code, start, end, reason, arows[lines])
        # a few services are suspended (stay in the file as open)
        susp = (end == NULL) & (rng.random(len(lines)) < 0.03)
        sus_rows = srows + np.flatnonzero(susp)
        self._set_services(sus_rows, status="SUSP")
        self._set_services_int(
            sus_rows,
            "suspended",
            np.minimum(start[susp] + rng.integers(30, 300, susp.sum()), w.ref_end),
        )
        self._reviews(ix, s_start, arows)

    def _set_services(self, rows: np.ndarray, **values) -> None:
        for name, v in values.items():
            col = np.concatenate(self.services.cols[name]).astype(OBJ)
            col[rows] = v
            self.services.cols[name] = [col]

    def _set_services_int(self, rows: np.ndarray, name: str, v: np.ndarray) -> None:
        col = np.concatenate(self.services.cols[name])
        col[rows] = v
        self.services.cols[name] = [col]

    def _reviews(self, ix, s_start, arows) -> None:
        """Planned reviews (6-10 weeks after support starts, then yearly) and unplanned ones."""
        rng, w = self.rng, self.w
        first = s_start + rng.integers(42, 71, len(ix))
        lo = w.span_start - 200
        # skip review dates long before the window (they would never reach a file)
        skip = np.maximum(0, np.ceil((lo - first) / YEAR)).astype(np.int64)
        base = np.where(skip > 0, s_start + np.round(skip * YEAR).astype(np.int64), first)
        count = np.where(
            base <= w.ref_end, np.floor((w.ref_end - base) / YEAR).astype(np.int64) + 1, 0
        )
        rep = np.repeat(np.arange(len(ix)), count)
        k = group_rank(count)
        start = base[rep] + np.round(k * YEAR).astype(np.int64) + rng.integers(-20, 21, len(rep))
        start = np.maximum(start, s_start[rep] + 28)
        keep = (start <= w.ref_end - 1) & (rng.random(len(rep)) < w.review_share)
        rep, k, start = rep[keep], k[keep], start[keep]
        first_of_person = np.ones(len(rep), dtype=bool)
        first_of_person[1:] = rep[1:] != rep[:-1]
        end = start + _dur(rng, 10, 0, 60, len(rep))
        status, end = self._close(start, end)
        outcome = _pick(
            rng, {"NOCHG": 70, "SUPPLAN": 22, "REASS": 5, "EOL": 2, "ENDOTH": 1}, len(rep)
        )
        outcome = np.where(status == "OPEN", None, outcome).astype(OBJ)
        reason = np.where(rng.random(len(rep)) < 0.85, "ANNUAL", "SCHED").astype(OBJ)
        base_rows = self.steps.n
        prev = np.where(first_of_person, arows[rep], base_rows + np.arange(len(rep)) - 1)
        prows = self._step(
            ix[rep],
            "REVIEW_PLAN",
            status,
            start,
            end,
            outcome,
            prev,
            kind="R",
            rreason=reason,
            rmethod=self._codes("METHOD", len(rep)),
            routcomes=np.where(
                status == "OPEN", None, self._codes("OUTCOMES_MET", len(rep))
            ).astype(OBJ),
        )
        change = (outcome == "SUPPLAN") & (status == "COMP")
        self._package_change(ix[rep][change], end[change], prows[change])
        # unplanned reviews: about one every three years of support
        lo2 = np.maximum(s_start + 14, w.span_start - 200)
        years = np.maximum(w.ref_end - lo2, 0) / YEAR
        cnt = rng.poisson(0.15 * years)
        rep = np.repeat(np.arange(len(ix)), cnt)
        start = _uniform_days(rng, lo2[rep], w.ref_end, len(rep))
        end = start + _dur(rng, 7, 0, 45, len(rep))
        status, end = self._close(start, end)
        outcome = _pick(
            rng,
            {"SUPPLAN": 45, "NOCHG": 30, "REASS": 12, "HOSPADM": 6, "EOL": 4, "ENDOTH": 3},
            len(rep),
        )
        outcome = np.where(status == "OPEN", None, outcome).astype(OBJ)
        met = np.where(rng.random(len(rep)) < 0.5, self._codes("OUTCOMES_MET", len(rep)), None)
        urows = self._step(
            ix[rep],
            "REVIEW_UNPL",
            status,
            start,
            end,
            outcome,
            arows[rep],
            kind="R",
            rreason=self._codes("REVIEW_REASON", len(rep)),
            rmethod=self._codes("METHOD", len(rep)),
            routcomes=np.where(status == "OPEN", None, met).astype(OBJ),
        )
        # a review that changes the package adds a service line (new support, new provider)
        change = (outcome == "SUPPLAN") & (status == "COMP")
        self._package_change(ix[rep][change], end[change], urows[change])
        # existing clients also get in touch again (requests from existing clients are in scope)
        cnt = rng.poisson(0.6 * years)
        rep = np.repeat(np.arange(len(ix)), cnt)
        t = _uniform_days(rng, lo2[rep], w.ref_end - 2, len(rep))
        why = _pick(rng, {"REASS": 5, "INFO": 3, "SUPPLAN": 1, "NFAOTH": 1}, len(rep))
        req, req_end, status = self.requests(
            ix[rep], t, why, _pick(rng, {"SELF": 4, "FAMILY": 4, "GP": 2, "HOSPDIS": 2}, len(rep))
        )
        # a changed need leads to a Care Act re-assessment
        go = (why == "REASS") & (status == "COMP") & (req_end < w.ref_end - 5)
        who, req, req_end = ix[rep][go], req[go], req_end[go]
        a_start = req_end + rng.integers(1, 15, len(who))
        a_end = a_start + _dur(rng, 12, 1, 60, len(who))
        a_status, a_end = self._close(a_start, a_end)
        outcome = _pick(rng, {"SUPPLAN": 5, "NOCHG": 4, "EOL": 1}, len(who))
        self._step(
            who,
            "ASSESS_CA",
            a_status,
            a_start,
            a_end,
            np.where(a_status == "OPEN", None, outcome).astype(OBJ),
            req,
            kind="A",
            eligible=np.where(a_status == "OPEN", None, "Y").astype(OBJ),
            amethod=self._codes("METHOD", len(who)),
        )

    def _package_change(self, who: np.ndarray, after: np.ndarray, src: np.ndarray) -> None:
        """A review that changes the package adds a service line (new support or provider)."""
        rng, w = self.rng, self.w
        day = after + rng.integers(1, 15, len(who))
        keep = day <= w.ref_end
        who, day, src = who[keep], day[keep], src[keep]
        code = self._lts_codes(who, np.arange(len(who)))
        code = np.where(np.isin(code, ["RESI", "NURSING"]), "HOMECARE", code).astype(OBJ)
        end = np.where(rng.random(len(who)) < 0.3, day + rng.integers(20, 200, len(who)), NULL)
        end = np.where(end > w.ref_end, NULL, end)
        self._service(who, code, day, end, _obj("ENDPLAN", len(who)), src)

    def _existing(self, ex: np.ndarray) -> None:
        """People whose long-term support began before the window (up to 8 years earlier)."""
        rng, w, k = self.rng, self.w, len(ex)
        s_start = _uniform_days(rng, w.span_start - int(8 * YEAR), w.span_start - 1, k)
        # skew towards recent starts (long stays are rarer)
        s_start = np.maximum(
            s_start, _uniform_days(rng, w.span_start - int(8 * YEAR), w.span_start - 1, k)
        )
        age_wa = rng.random(k) < 0.3
        self.lts_team_role[ex] = np.where(age_wa, "WA", "OP")
        self.intake_end[ex] = s_start - 60
        self.intake_role[ex] = self.lts_team_role[ex]
        a_end = s_start - rng.integers(10, 40, k)
        a_start = a_end - _dur(rng, 18, 1, 90, k)
        req_start = a_start - rng.integers(3, 30, k)
        req, _, _ = self.requests(
            ex, req_start, _obj("ASSESS", k), self._codes("ROUTE", k).astype(OBJ)
        )
        arows = self._step(
            ex,
            "ASSESS_CA",
            "COMP",
            a_start,
            a_end,
            np.where(rng.random(k) < 0.5, "FINASS", "SUPPLAN").astype(OBJ),
            req,
            kind="A",
            eligible="Y",
            amethod=self._codes("METHOD", k),
        )
        fs = a_end + rng.integers(0, 5, k)
        self._step(
            ex,
            "ASSESS_FIN",
            "COMP",
            fs,
            np.minimum(fs + _dur(rng, 5, 1, 9, k), s_start - 1),
            None,
            arows,
            kind="A",
            eligible=None,
            amethod=None,
            funding=self._codes("FUNDING", k),
        )
        self._packages(ex, s_start, arows, a_end)

    def _age_at(self, ix: np.ndarray, day: np.ndarray) -> np.ndarray:
        return np.floor((day - self.dob_guess(ix)) / YEAR)

    def dob_guess(self, ix: np.ndarray) -> np.ndarray:
        """Provisional dates of birth (fixed once, before any journey needs an age)."""
        if not hasattr(self, "_dob"):
            rng, n = self.rng, self.n
            older = rng.random(n) < 0.68
            age = np.where(older, 65 + 37 * rng.beta(2.0, 2.6, n), rng.uniform(19, 65, n))
            self._dob = (self.w.ref_end - np.round(age * YEAR)).astype(np.int64)
            self._dob[self.ptype == CARER] = (
                self.w.ref_end - np.round(rng.uniform(24, 86, (self.ptype == CARER).sum()) * YEAR)
            ).astype(np.int64)
        return self._dob[ix]

    def _carers(self) -> None:
        """Carers of long-term clients who stay in the file throughout (cared-for pool)."""
        rng, w = self.rng, self.w
        carers = np.flatnonzero(np.isin(self.ptype, [CARER, CENTRE]))
        pool = self._cared_for_pool()
        if len(pool) == 0 or len(carers) == 0:
            self.ptype[carers] = CONTACT_ONLY if len(pool) == 0 else self.ptype[carers]
            self.centre_people = np.zeros(0, dtype=np.int64)
            return
        self.cared_for[carers] = pool[rng.integers(0, len(pool), len(carers))]
        self.psr[carers] = "CARER"
        self.hours_caring[carers] = self._codes("CARING_HOURS", len(carers))
        self.lts_team_role[carers] = "CARERS"
        self.intake_role[carers] = "CARERS"
        own = carers[self.ptype[carers] == CARER]
        t0 = _uniform_days(rng, w.span_start - 60, w.ref_end - 20, len(own))
        req, req_end, st = self.requests(
            own,
            t0,
            _obj("ASSESS", len(own)),
            _pick(rng, {"SELF": 5, "FAMILY": 2, "GP": 2}, len(own)),
            carer=True,
        )
        ok = st == "COMP"
        own, req, req_end = own[ok], req[ok], req_end[ok]
        a_start = req_end + rng.integers(1, 28, len(own))
        a_end = a_start + _dur(rng, 10, 1, 60, len(own))
        a_status, a_end = self._close(a_start, a_end)
        arows = self._step(
            own,
            "ASSESS_CARER",
            a_status,
            a_start,
            a_end,
            np.where(a_status == "OPEN", None, "SUPPLAN").astype(OBJ),
            req,
            carer=True,
            kind="A",
            eligible=np.where(a_status == "OPEN", None, "Y").astype(OBJ),
            amethod="CAR",
        )
        ok = a_status == "COMP"
        own, arows, a_end = own[ok], arows[ok], a_end[ok]
        s_start = a_end + rng.integers(1, 30, len(own))
        keep = s_start <= w.ref_end
        own, arows, s_start = own[keep], arows[keep], s_start[keep]
        resp = rng.random(len(own)) < 0.4
        code = np.where(resp, "CARERRESP", "CARERDP").astype(OBJ)
        end = np.where(rng.random(len(own)) < 0.4, s_start + rng.integers(28, 300, len(own)), NULL)
        end = np.where(end > w.ref_end, NULL, end)
        self._service(
            own,
            code,
            s_start,
            end,
            _obj("ENDPLAN", len(own)),
            arows,
            delivery=np.where(resp, "COMM", "DP").astype(OBJ),
            for_carer=True,
            cared_for=np.where(resp, self.pid[self.cared_for[own]], -1),
        )
        # carers' reviews: yearly after support starts
        first = s_start + rng.integers(300, 400, len(own))
        has = first <= w.ref_end - 1
        ix, first, prev = own[has], first[has], arows[has]
        end2 = first + _dur(rng, 7, 0, 30, len(ix))
        status, end2 = self._close(first, end2)
        self._step(
            ix,
            "REVIEW_CARER",
            status,
            first,
            end2,
            np.where(status == "OPEN", None, "NOCHG").astype(OBJ),
            prev,
            carer=True,
            kind="R",
            rreason="ANNUAL",
            rmethod="CAR",
            routcomes=np.where(status == "OPEN", None, self._codes("OUTCOMES_MET", len(ix))).astype(
                OBJ
            ),
        )
        self.carer_start = np.full(self.n, NULL, dtype=np.int64)
        self.carer_start[carers] = w.span_start - rng.integers(0, 400, len(carers))
        self.centre_people = carers[self.ptype[carers] == CENTRE]

    def _cared_for_pool(self) -> np.ndarray:
        """Existing long-term clients whose support is open at the reference date, who do not
        die or move: they are service users in every rolling 12-month file of the window."""
        svc = self.services.frame()
        if not len(svc.get("pidx", [])):
            return np.zeros(0, dtype=np.int64)
        open_ = (svc["end"] == NULL) & (svc["start"] < self.w.span_start) & ~svc["for_carer"]
        cand = np.zeros(self.n, dtype=bool)
        cand[svc["pidx"][open_]] = True
        cand &= self.ptype == EXISTING_LTS
        self.stop_exempt = cand.copy()
        return np.flatnonzero(cand)

    def _out_of_scope(self) -> None:
        rng, w = self.rng, self.w
        alone = np.flatnonzero(self.ptype == OUT_OF_SCOPE)
        extra = np.flatnonzero(
            np.isin(self.ptype, [NEW_LTS, EXISTING_LTS, SHORT_TERM]) & (rng.random(self.n) < 0.08)
        )
        ix = np.concatenate([alone, extra])
        kind = _pick(rng, {"SAFEGUARD": 6, "DOLS": 3, "MCA": 3, "MHA": 1}, len(ix))
        start = _uniform_days(rng, w.span_start - 60, w.ref_end - 5, len(ix))
        end = start + _dur(rng, 20, 1, 120, len(ix))
        status, end = self._close(start, end)
        self._step(ix, kind, status, start, end, None, None, kind="X")
        self._touch(alone, start[: len(alone)])

    def _noise(self) -> None:
        """Cancelled and recorded-in-error steps and agreements (the transform leaves them out)."""
        rng, w = self.rng, self.w
        ix = np.flatnonzero(
            np.isin(self.ptype, [CONTACT_ONLY, NEW_LTS, SHORT_TERM]) & (rng.random(self.n) < 0.05)
        )
        start = _uniform_days(rng, w.span_start, w.ref_end - 5, len(ix))
        status = np.where(rng.random(len(ix)) < 0.6, "CANC", "ERR").astype(OBJ)
        self._step(
            ix,
            "CONTACT",
            status,
            start,
            np.where(status == "CANC", start + 1, NULL),
            None,
            None,
            kind="C",
            route=self._codes("ROUTE", len(ix)),
            csource="Telephone",
            cdesc=None,
        )
        ix2 = ix[rng.random(len(ix)) < 0.4]
        start2 = _uniform_days(rng, w.span_start, w.ref_end - 5, len(ix2))
        self._step(
            ix2,
            "ASSESS_CA",
            "CANC",
            start2,
            start2 + 3,
            None,
            None,
            kind="A",
            eligible=None,
            amethod=None,
        )
        # agreements: cancelled before delivery, or a duplicate line keyed in error
        svc = self.services.frame()
        pick = np.flatnonzero(~svc["for_carer"] & (rng.random(len(svc["pidx"])) < 0.02))
        status = np.where(rng.random(len(pick)) < 0.5, "CANC", "ERR").astype(OBJ)
        self.services.add(
            len(pick),
            **{k: v[pick] for k, v in svc.items() if k not in ("status", "end", "end_reason")},
            status=status,
            end=np.where(status == "CANC", svc["start"][pick], svc["end"][pick]),
            end_reason=None,
        )

    def _stops(self) -> None:
        """Deaths and moves away: nothing after them; open support ends on that day."""
        rng, w = self.rng, self.w
        exempt = getattr(self, "stop_exempt", np.zeros(self.n, dtype=bool))
        elig = np.isin(self.ptype, [EXISTING_LTS, NEW_LTS, SHORT_TERM]) & ~exempt
        elig &= ~self.transition
        u = rng.random(self.n)
        die = elig & (u < 0.12)
        move = elig & (u >= 0.12) & (u < 0.16)
        fe = np.where(self.first_event == NULL, w.span_start, self.first_event)
        lo = np.maximum(fe + 30, w.span_start)
        day = _uniform_days(rng, lo, w.ref_end, self.n)
        ok = lo < w.ref_end
        die &= ok
        move &= ok
        self.stop[die | move] = day[die | move]
        self.died = die
        self._apply_stops(np.where(die, "DIED", np.where(move, "MOVED", None)).astype(OBJ))

    def _apply_stops(self, why: np.ndarray) -> None:
        st = self.steps.frame()
        stop = self.stop[st["pidx"]]
        has = stop != NULL
        drop = has & (st["start"] > stop)
        clip = (
            has
            & ~drop
            & ((st["end"] == NULL) | (st["end"] > stop))
            & np.isin(st["status"], ["COMP", "OPEN"])
        )
        st["end"] = np.where(clip, stop, st["end"])
        st["status"] = np.where(clip, "COMP", st["status"]).astype(OBJ)
        is_fin = st["step_type"] == "ASSESS_FIN"
        st["outcome"] = np.where(clip & ~is_fin, why[st["pidx"]], st["outcome"]).astype(OBJ)
        keep = ~drop
        newpos = np.cumsum(keep) - 1
        prev = st["prev"].astype(np.int64)
        prev_ok = (prev >= 0) & keep[np.maximum(prev, 0)]
        st["prev"] = np.where(prev_ok, newpos[np.maximum(prev, 0)], -1)
        self.steps = _Table({k: [v[keep]] for k, v in st.items()}, int(keep.sum()))
        sv = self.services.frame()
        stop = self.stop[sv["pidx"]]
        has = stop != NULL
        drop = has & (sv["start"] > stop)
        clip = has & ~drop & ((sv["end"] == NULL) | (sv["end"] > stop))
        sv["end"] = np.where(clip, stop, sv["end"])
        live = np.isin(sv["status"], ["ACT", "SUSP"])
        sv["status"] = np.where(clip & live, "END", sv["status"]).astype(OBJ)
        sv["end_reason"] = np.where(clip, why[sv["pidx"]], sv["end_reason"]).astype(OBJ)
        src = sv["source"].astype(np.int64)
        src_ok = (src >= 0) & keep[np.maximum(src, 0)]
        sv["source"] = np.where(src_ok, newpos[np.maximum(src, 0)], -1)
        keep_s = ~drop
        self.services = _Table({k: [v[keep_s]] for k, v in sv.items()}, int(keep_s.sum()))

    def _distinct_requests(self) -> None:
        """Two requests of one person with the same dates and route are one event nationally
        (rules.md 5.12): move any later twin on by a day or more, so the clean council has none."""
        st = self.steps.frame()
        req = np.flatnonzero(st["kind"] == "C")
        if len(req) < 2:
            return
        route = st["route"][req].astype(str)
        _, route_id = np.unique(route, return_inverse=True)
        keys = np.stack([st["pidx"][req], st["start"][req], st["end"][req], route_id])
        order = np.lexsort(keys[::-1])
        k = keys[:, order]
        same = np.zeros(len(order), dtype=bool)
        same[1:] = (k[:, 1:] == k[:, :-1]).all(axis=0)
        if not same.any():
            return
        # shift the n-th twin by n days (start and end alike)
        run_start = np.maximum.accumulate(np.where(~same, np.arange(len(order)), 0))
        shift = np.arange(len(order)) - run_start
        rows = req[order]
        st["start"][rows] = st["start"][rows] + shift
        done = st["end"][rows] != NULL
        st["end"][rows[done]] = st["end"][rows[done]] + shift[done]
        self.steps = _Table({k2: [v] for k2, v in st.items()}, len(st["pidx"]))

    def _adult_dates(self) -> None:
        """Dates of birth: every event is on or after the 18th birthday (transition clients turn
        18 just before their first request)."""
        rng = self.rng
        all_ix = np.arange(self.n)
        dob = self.dob_guess(all_ix).copy()
        st = self.steps.frame()
        sv = self.services.frame()
        first = np.full(self.n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, st["pidx"], st["start"])
        np.minimum.at(first, sv["pidx"], sv["start"])
        has = first != np.iinfo(np.int64).max
        limit = first - ADULT_DAYS
        dob = np.where(has & (dob > limit), limit - rng.integers(0, 3000, self.n), dob)
        t = self.transition & has
        dob[t] = first[t] - ADULT_DAYS - rng.integers(0, 90, t.sum())
        # a death is never before birth, nor the birth after a known care start
        self.dob = dob
        self.first_any = np.where(has, first, NULL)


def _date_series(name: str, days: np.ndarray) -> pl.Series:
    s = pl.Series(name, np.asarray(days, dtype=np.int64))
    return (
        pl.select(pl.when(s != NULL).then(s).otherwise(None).cast(pl.Int32).cast(pl.Date))
        .to_series()
        .alias(name)
    )


def _str(name: str, values) -> pl.Series:
    """Text column from an object array (None = null); all-None arrays stay String."""
    return pl.Series(name, np.asarray(values, dtype=OBJ).tolist(), dtype=pl.String)


def _ids(name: str, values: np.ndarray) -> pl.Series:
    """Ids with -1 meaning none."""
    s = pl.Series(name, np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(s >= 0).then(s).otherwise(None)).to_series().alias(name)


def _postcodes(rng: np.random.Generator, areas: tuple[str, ...], n: int) -> np.ndarray:
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=OBJ)
    area = np.asarray(areas, dtype=OBJ)[rng.integers(0, len(areas), n)]
    district = rng.integers(1, 30, n).astype(str).astype(OBJ)
    sector = rng.integers(0, 10, n).astype(str).astype(OBJ)
    unit = letters[rng.integers(0, len(letters), n)] + letters[rng.integers(0, len(letters), n)]
    return area + district + " " + sector + unit


def tables_for_chunk(b: ChunkBuilder) -> dict[str, pl.DataFrame]:
    """Turn a built chunk into the case-management tables (polars, schema column names)."""
    rng, w, ids, n = b.rng, b.w, b.ids, b.n
    d = b.d
    pid = b.pid
    st = b.steps.frame()
    sv = b.services.frame()
    step_ids = ids.step + np.arange(len(st["pidx"]), dtype=np.int64)
    ids.step += len(step_ids)
    agr_ids = ids.agreement + np.arange(len(sv["pidx"]), dtype=np.int64)
    ids.agreement += len(agr_ids)

    # persons ---------------------------------------------------------------------------
    gender = d.codes("GENDER").draw(rng, n)
    female = gender == "F"
    fnames = np.where(
        female,
        np.asarray(d.first_female, dtype=OBJ)[rng.integers(0, len(d.first_female), n)],
        np.asarray(d.first_male, dtype=OBJ)[rng.integers(0, len(d.first_male), n)],
    )
    lnames = np.asarray(d.last, dtype=OBJ)[rng.integers(0, len(d.last), n)]
    first_any = np.where(b.first_any == NULL, w.ref_end - rng.integers(0, 700, n), b.first_any)
    carer_start = getattr(b, "carer_start", np.full(n, NULL, dtype=np.int64))
    first_any = np.where(carer_start != NULL, np.minimum(first_any, carer_start), first_any)
    created = first_any - rng.integers(0, 30, n)
    death = np.where(b.died, b.stop, NULL)
    persons = pl.DataFrame(
        {
            "person_id": pid,
            "nhs_number": valid_numbers(pid),
            "first_name": fnames,
            "last_name": lnames,
        },
        schema_overrides={"nhs_number": pl.String, "first_name": pl.String, "last_name": pl.String},
    ).with_columns(
        _date_series("date_of_birth", b.dob),
        _date_series("date_of_death", death),
        _str("gender_code", gender),
        _str("ethnicity_code", d.codes("ETHNICITY").draw(rng, n)),
        _date_series("created_on", created),
    )

    # addresses: one current address; some moved within the area; care home moves
    acc = d.codes("ACCOMMODATION").draw(rng, n)
    moved = (rng.random(n) < 0.12) | (b.care_start != NULL)
    move_day = np.where(
        b.care_start != NULL, b.care_start, _uniform_days(rng, created + 1, w.ref_end, n)
    )
    move_day = np.maximum(move_day, created + 1)
    new_acc = np.where(
        b.accommodation_override != None,  # noqa: E711
        b.accommodation_override,
        d.codes("ACCOMMODATION").draw(rng, n),
    ).astype(OBJ)
    acc = np.where(b.ptype == CARER, np.where(np.isin(acc, ["HOSP"]), "OWN", acc), acc)
    a_person = np.concatenate([pid, pid[moved]])
    a_post = np.concatenate(
        [_postcodes(rng, w.postcode_areas, n), _postcodes(rng, w.postcode_areas, int(moved.sum()))]
    )
    a_acc = np.concatenate(
        [
            np.where(
                moved,
                acc,
                np.where(
                    b.accommodation_override != None,  # noqa: E711  # noqa: E711
                    b.accommodation_override,
                    acc,
                ),
            ),
            new_acc[moved],
        ]
    ).astype(OBJ)
    a_start = np.concatenate([created, move_day[moved]])
    a_end = np.concatenate([np.where(moved, move_day - 1, NULL), np.full(moved.sum(), NULL)])
    na = len(a_person)
    addresses = pl.DataFrame(
        {"address_id": ids.address + np.arange(na), "person_id": a_person},
    ).with_columns(
        _str("postcode", a_post),
        _str("accommodation_code", a_acc),
        _date_series("start_date", a_start),
        _date_series("end_date", a_end),
    )
    ids.address += na

    # GP registrations (most people), conditions, PSR, employment ------------------------
    has_gp = rng.random(n) < 0.95
    gp = pl.DataFrame(
        {
            "registration_id": ids.registration + np.arange(int(has_gp.sum())),
            "person_id": pid[has_gp],
            "practice_code": w.gp_codes[rng.integers(0, len(w.gp_codes), int(has_gp.sum()))],
        },
    ).with_columns(
        _date_series("start_date", created[has_gp] - rng.integers(0, 3000, int(has_gp.sum()))),
        _date_series("end_date", np.full(int(has_gp.sum()), NULL)),
    )
    ids.registration += gp.height
    cond_n = rng.choice([0, 1, 2], n, p=[0.8, 0.16, 0.04])
    cond_n[np.isin(b.ptype, [CARER, CENTRE])] = 0
    c_rep = np.repeat(np.arange(n), cond_n)
    c_codes = d.codes("CONDITION").draw(rng, len(c_rep))
    conditions = pl.DataFrame(
        {"condition_id": ids.condition + np.arange(len(c_rep)), "person_id": pid[c_rep]}
    ).with_columns(
        _str("condition_code", c_codes),
        _date_series("recorded_on", created[c_rep] + rng.integers(0, 200, len(c_rep))),
    )
    conditions = conditions.unique(
        ["person_id", "condition_code"], keep="first", maintain_order=True
    )
    ids.condition += len(c_rep)
    has_psr = b.psr != None  # noqa: E711
    psr = pl.DataFrame(
        {"psr_id": ids.psr + np.arange(int(has_psr.sum())), "person_id": pid[has_psr]}
    ).with_columns(_str("psr_code", b.psr[has_psr]), _date_series("start_date", created[has_psr]))
    ids.psr += psr.height
    age_now = (w.ref_end - b.dob) / YEAR
    emp = d.codes("EMPLOYMENT").draw(rng, n)
    emp = np.where(age_now >= 66, np.where(rng.random(n) < 0.9, "RET", "UNK"), emp).astype(OBJ)
    employment = pl.DataFrame(
        {"employment_id": ids.employment + np.arange(n), "person_id": pid}
    ).with_columns(_str("employment_code", emp), _date_series("start_date", created))
    ids.employment += n

    # allocations: intake team, then the long-term team ----------------------------------
    team1 = _team_for_role(rng, w, b.intake_role)
    team2 = _team_for_role(rng, w, b.lts_team_role)
    two = (b.intake_end != NULL) & (team1 != team2)
    al_start1 = created
    al_end1 = np.where(two, np.maximum(b.intake_end, created), NULL)
    al_start2 = np.where(two, al_end1 + 1, NULL)
    workers1 = _worker_for_team(rng, w, team1)
    workers2 = _worker_for_team(rng, w, team2)
    al_person = np.concatenate([pid, pid[two]])
    allocations = pl.DataFrame(
        {
            "allocation_id": ids.allocation + np.arange(len(al_person)),
            "person_id": al_person,
            "team_id": np.concatenate([team1, team2[two]]),
            "worker_id": np.concatenate([workers1, workers2[two]]),
        }
    ).with_columns(
        _date_series("start_date", np.concatenate([al_start1, al_start2[two]])),
        _date_series("end_date", np.concatenate([al_end1, np.full(two.sum(), NULL)])),
    )
    ids.allocation += len(al_person)

    # workflow steps ------------------------------------------------------------------------
    sp = st["pidx"]
    use2 = two[sp] & (st["start"] >= al_start2[sp])
    s_team = np.where(use2, team2[sp], team1[sp])
    s_worker = np.where(use2, workers2[sp], workers1[sp])
    prev = st["prev"].astype(np.int64)
    steps = pl.DataFrame({"step_id": step_ids, "person_id": pid[sp]}).with_columns(
        _str("step_type_code", st["step_type"]),
        _str("status_code", st["status"]),
        _date_series("started_on", st["start"]),
        _date_series("completed_on", st["end"]),
        _str("outcome_code", st["outcome"]),
        pl.Series("worker_id", s_worker),
        pl.Series("team_id", s_team),
        _ids("previous_step_id", np.where(prev >= 0, step_ids[np.maximum(prev, 0)], -1)),
        pl.Series("is_carer_step", st["carer"].astype(bool)),
    )
    kind = st["kind"]
    c = kind == "C"
    contact = pl.DataFrame({"step_id": step_ids[c]}).with_columns(
        _str("route_code", st["route"][c]),
        _str("contact_source", st["csource"][c]),
        _str("description", st["cdesc"][c]),
    )
    a = kind == "A"
    assess = pl.DataFrame({"step_id": step_ids[a]}).with_columns(
        _str("eligible_code", st["eligible"][a]),
        _str("method_code", st["amethod"][a]),
        _str("funding_status_code", st["funding"][a]),
    )
    r = kind == "R"
    review = pl.DataFrame({"step_id": step_ids[r]}).with_columns(
        _str("review_reason_code", st["rreason"][r]),
        _str("method_code", st["rmethod"][r]),
        _str("outcomes_code", st["routcomes"][r]),
    )

    # service agreements ---------------------------------------------------------------------
    vp = sv["pidx"]
    src = sv["source"].astype(np.int64)
    units = sv["units"].astype(float)
    cared = sv["cared_for"].astype(np.int64)
    services = pl.DataFrame({"agreement_id": agr_ids, "person_id": pid[vp]}).with_columns(
        _str("service_code", sv["code"]),
        _ids("provider_id", sv["provider"].astype(np.int64)),
        _str("delivery_code", sv["delivery"]),
        _str("status_code", sv["status"]),
        _date_series("start_date", sv["start"]),
        _date_series("end_date", sv["end"]),
        _date_series("suspended_on", sv["suspended"]),
        _str("end_reason_code", sv["end_reason"]),
        pl.Series("unit_cost", sv["cost"].astype(float)).round(2),
        _str("cost_frequency_code", sv["freq"]),
        pl.Series("planned_units_per_week", units).fill_nan(None).round(2),
        pl.Series("for_carer", sv["for_carer"].astype(bool)),
        _ids("cared_for_person_id", cared),
        _ids("source_step_id", np.where(src >= 0, step_ids[np.maximum(src, 0)], -1)),
    )

    # carer relationships ---------------------------------------------------------------------
    cix = np.flatnonzero(b.cared_for >= 0)
    rel = pl.DataFrame(
        {
            "relationship_id": ids.relationship + np.arange(len(cix)),
            "carer_person_id": pid[cix],
            "cared_for_person_id": pid[b.cared_for[cix]],
        }
    ).with_columns(
        _date_series("start_date", np.maximum(carer_start[cix], created[cix])),
        _date_series("end_date", np.full(len(cix), NULL)),
        _str("hours_caring_code", b.hours_caring[cix]),
    )
    ids.relationship += len(cix)

    return {
        "persons": persons,
        "person_addresses": addresses,
        "person_gp_registrations": gp,
        "person_conditions": conditions,
        "person_support_reasons": psr,
        "person_employment": employment,
        "allocations": allocations,
        "workflow_steps": steps,
        "step_contact_details": contact,
        "step_assessment_details": assess,
        "step_review_details": review,
        "service_agreements": services,
        "carer_relationships": rel,
    }


def _team_for_role(rng: np.random.Generator, w: World, roles: np.ndarray) -> np.ndarray:
    out = np.zeros(len(roles), dtype=np.int64)
    for role in np.unique(w.team_roles):  # a handful of roles, not a loop over rows
        teams = w.team_ids[w.team_roles == role]
        m = roles == role
        out[m] = teams[rng.integers(0, len(teams), int(m.sum()))]
    missing = out == 0
    out[missing] = w.team_ids[rng.integers(0, len(w.team_ids), int(missing.sum()))]
    return out


def _worker_for_team(rng: np.random.Generator, w: World, team: np.ndarray) -> np.ndarray:
    """A worker of each given team (workers are numbered team by team)."""
    per_team = np.bincount(w.worker_team, minlength=int(w.team_ids.max()) + 1)
    first = np.concatenate([[0], np.cumsum(per_team)])[:-1]
    k = per_team[team]
    return first[team] + np.floor(rng.random(len(team)) * k).astype(np.int64) + 1
