"""Journeys the SALT and ASCOF previews need (docs/measures.md), added to each chunk's people.

Without them the sample's ASCOF 2A is 100% in every period (no long-term support ever starts
within 7 days of reablement ending), no existing client ever has reablement (SALT STS002b is 0)
and every carer's own support is a direct payment (ASCOF 3D 1b equals 2b). Here, for a share of
the people the main journeys made:

* reablement (ST-Max) followed within a week by long-term support, or by a new request;
  reablement followed by nothing is already common;
* reablement for people already in long-term support;
* a repeat admission: a first residential stay that ended, then the lasting one within the
  year (the first is a new admission, the second not);
* carers' own support as a council-managed personal budget or commissioned support
  (service code ``CARERSUP``) besides direct payments.

Changing accommodation is already in the main journeys (moves, and care-home admissions
change the address's accommodation).

Deterministic per seed: it draws from its own random stream, derived from the chunk's seed
sequence, and runs before the main journeys' deaths, moves and adult-date rules, which then
apply to these events too.
"""

from __future__ import annotations

import numpy as np

SHARE_STMAX_THEN_LTS = 0.25
SHARE_STMAX_THEN_REQUEST = 0.12
SHARE_EXISTING_STMAX = 0.05
SHARE_REPEAT_ADMISSION = 0.2
SHARE_CARER_BUDGET = 0.35


def _rng(b) -> np.random.Generator:
    """A stream of its own: the chunk's seed sequence with one more word (no draw taken from
    the builder's stream, so the main journeys stay as they were)."""
    seq = b.rng.bit_generator.seed_seq
    entropy = np.atleast_1d(seq.entropy).tolist()
    return np.random.default_rng(np.random.SeedSequence([*entropy, *seq.spawn_key, 13]))


def add(b) -> None:
    """Add the journeys to builder ``b`` (a ``journeys.ChunkBuilder``) in place."""
    if b.services.n == 0:
        return
    saved, b.rng = b.rng, _rng(b)
    try:
        _stmax_sequels(b)
        _existing_stmax(b)
        _repeat_admissions(b)
        _carer_budgets(b)
    finally:
        b.rng = saved


def _services(b) -> dict[str, np.ndarray]:
    return b.services.frame()


def _stmax_sequels(b) -> None:
    from pipelines.sample.data import NULL, SHORT_TERM, _obj, _pick

    rng, w = b.rng, b.w
    s = _services(b)
    code, end, pidx = s["code"], s["end"].astype(np.int64), s["pidx"].astype(np.int64)
    rows = np.flatnonzero(
        np.isin(code, ["REAB", "REABBED"])
        & (end != NULL)
        & (end < w.ref_end - 10)
        & (b.ptype[pidx] == SHORT_TERM)
    )
    if not len(rows):
        return
    draw = rng.random(len(rows))
    lts = rows[draw < SHARE_STMAX_THEN_LTS]
    req = rows[
        (draw >= SHARE_STMAX_THEN_LTS) & (draw < SHARE_STMAX_THEN_LTS + SHARE_STMAX_THEN_REQUEST)
    ]
    # long-term support starting 1-7 days after reablement ends (its outcome: support planning)
    ix = pidx[lts]
    start = end[lts] + rng.integers(1, 8, len(lts))
    lts_code = np.where(rng.random(len(lts)) < 0.3, "DPCASH", "HOMECARE").astype(object)
    b._service(
        ix,
        lts_code,
        start,
        np.full(len(lts), NULL),
        _obj("ENDPLAN", len(lts)),
        s["source"][lts].astype(np.int64),
    )
    b._set_services(lts, end_reason="SUPPLAN")
    # a new request 1-5 days after reablement ends
    ix = pidx[req]
    t0 = end[req] + rng.integers(1, 6, len(req))
    b.requests(
        ix,
        t0,
        _pick(rng, {"INFO": 3, "SIGNP": 2, "NOSVC": 1, "ASSESS": 2}, len(req)),
        _obj("REABDIS", len(req)),
    )


def _existing_stmax(b) -> None:
    from pipelines.sample.data import EXISTING_LTS, NULL, _obj

    rng, w = b.rng, b.w
    s = _services(b)
    pidx, end = s["pidx"].astype(np.int64), s["end"].astype(np.int64)
    open_lts = np.isin(s["code"], ["HOMECARE", "DPCASH", "SUPPLIV", "XCARE", "SHLIVES"]) & (
        end == NULL
    )
    people = np.unique(pidx[open_lts & (b.ptype[pidx] == EXISTING_LTS)])
    people = people[rng.random(len(people)) < SHARE_EXISTING_STMAX]
    k = len(people)
    if not k:
        return
    a_start = rng.integers(w.span_start, w.ref_end - 60, k)
    a_end = a_start + rng.integers(1, 6, k)
    arows = b._step(
        people,
        "ASSESS_REAB",
        "COMP",
        a_start,
        a_end,
        _obj("STMAX", k),
        np.full(k, -1, dtype=np.int64),
        kind="A",
        eligible=None,
        amethod=b._codes("METHOD", k),
    )
    s_start = a_end + rng.integers(1, 4, k)
    b._service(
        people,
        "REAB",
        s_start,
        s_start + rng.integers(14, 43, k),
        _obj("ENDPLAN", k),
        arows,
        delivery="COMM",
    )


def _repeat_admissions(b) -> None:
    from pipelines.sample.data import NEW_LTS, _obj

    rng, w = b.rng, b.w
    s = _services(b)
    pidx, start = s["pidx"].astype(np.int64), s["start"].astype(np.int64)
    rows = np.flatnonzero(
        np.isin(s["code"], ["RESI", "NURSING"])
        & (b.ptype[pidx] == NEW_LTS)
        & (start >= w.span_start + 150)
    )
    rows = rows[rng.random(len(rows)) < SHARE_REPEAT_ADMISSION]
    first_end = start[rows] - rng.integers(20, 61, len(rows))
    first_start = first_end - rng.integers(30, 90, len(rows))
    # never before the assessment that set the care up (its completion date)
    src = s["source"][rows].astype(np.int64)
    done = b.steps.frame()["end"].astype(np.int64)
    assessed = np.where(src >= 0, done[np.maximum(src, 0)], first_start)
    first_start = np.maximum(first_start, assessed + 1)
    ok = first_end - first_start >= 14
    rows, first_start, first_end = rows[ok], first_start[ok], first_end[ok]
    k = len(rows)
    if not k:
        return
    b._service(
        pidx[rows],
        s["code"][rows],
        first_start,
        first_end,
        _obj("ENDOTH", k),
        s["source"][rows].astype(np.int64),
    )


def _carer_budgets(b) -> None:
    rng = b.rng
    s = _services(b)
    rows = np.flatnonzero((s["code"] == "CARERDP") & s["for_carer"].astype(bool))
    rows = rows[rng.random(len(rows)) < SHARE_CARER_BUDGET]
    if not len(rows):
        return
    b._set_services(rows, code="CARERSUP")
    b._set_services(rows, delivery=np.where(rng.random(len(rows)) < 0.65, "MPB", "COMM"))
    providers = b.w.provider_ids[rng.integers(0, len(b.w.provider_ids), len(rows))]
    b._set_services_int(rows, "provider", providers)
