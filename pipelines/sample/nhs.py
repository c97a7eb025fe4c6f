"""Synthetic NHS numbers, vectorised.

Every number starts with 9 (9xx xxx xxxx): a range never issued to patients in England, so a
sample number can never be a real person's. The check digit follows the NHS Data Dictionary
Modulus 11 rule (weights 10..2 on digits 1-9; check = 11 - sum % 11; 11 -> 0; 10 -> invalid).
"""

from __future__ import annotations

import numpy as np

_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
_SPACE = 50_000_000  # bodies 900,000,000 + 2*k for k < 50M: unique for 50M persons
_MULT = 7919  # coprime with _SPACE: k -> k*7919 mod 50M is a bijection (scrambles the order)


def _digits(body: np.ndarray) -> np.ndarray:
    """(n, 9) digit matrix of 9-digit bodies."""
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    return (body[:, None] // powers[None, :]) % 10


def check_digit(body: np.ndarray) -> np.ndarray:
    """Modulus 11 check digit of 9-digit bodies (10 means the body can have no valid number)."""
    rem = (_digits(body) * _WEIGHTS).sum(axis=1) % 11
    check = 11 - rem
    return np.where(check == 11, 0, check)


def is_valid(numbers: np.ndarray) -> np.ndarray:
    """Which 10-digit strings are valid by Modulus 11 (vectorised; bad text -> False)."""
    s = np.asarray(numbers, dtype=object)
    ok = np.array([isinstance(x, str) and len(x) == 10 and x.isdigit() for x in s], dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        n = np.array([int(x) for x in s[ok]], dtype=np.int64)
        cd = check_digit(n // 10)
        out[ok] = (cd != 10) & (cd == n % 10)
    return out


def valid_numbers(person_ids: np.ndarray) -> np.ndarray:
    """One valid, unique NHS number (str) per person id (ids below 50 million)."""
    k = (person_ids.astype(np.int64) * _MULT) % _SPACE
    body = 900_000_000 + 2 * k
    cd = check_digit(body)
    # a body whose check would be 10 has no valid number: use body+1 (odd, so never another
    # person's body); its weighted sum grows by 2, so its check digit is valid (8).
    bad = cd == 10
    body = np.where(bad, body + 1, body)
    cd = np.where(bad, check_digit(body), cd)
    return (body * 10 + cd).astype(str).astype(object)


def spare_valid_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid numbers that no sample person holds (odd bodies whose check is valid), e.g. for a
    provider feed that names the wrong NHS number or a trace that finds a new one."""
    out: list[np.ndarray] = []
    need = n
    while need > 0:
        body = 900_000_001 + 2 * rng.integers(0, _SPACE, max(need * 2, 8), dtype=np.int64)
        cd = check_digit(body)
        # odd bodies are only used by persons whose even neighbour had check 10
        neighbour_bad = check_digit(body - 1) == 10
        keep = (cd != 10) & ~neighbour_bad
        out.append((body[keep] * 10 + cd[keep])[:need])
        need -= len(out[-1])
    return np.concatenate(out).astype(str).astype(object)


def invalid_numbers(valid: np.ndarray) -> np.ndarray:
    """The same numbers with a wrong check digit (fails Modulus 11)."""
    n = np.array([int(x) for x in valid], dtype=np.int64)
    wrong = (n % 10 + 1 + (n // 10) % 7) % 10
    wrong = np.where(wrong == n % 10, (wrong + 1) % 10, wrong)
    return (n // 10 * 10 + wrong).astype(str).astype(object)
