"""Valid identification numbers and mobile numbers, generated vectorised (numpy only).

Uniqueness inside a tenant comes from an affine permutation of the row index: distinct
indexes give distinct numbers, so millions of documents need no "seen" set and a chunk
can be generated without knowing the others. Check digits follow the same rules as
``customers.identification`` (which the tests run on the output):

* Colombian cédula: 8 digits (issued before the 2000s) or 10 digits starting ``10``.
* NIT: a 9-digit body in the company range 800.000.000-901.999.999 plus the DIAN
  modulo-11 check digit (stored without separators: 10 digits).
* Ecuadorian cédula: province code, third digit below 6, six digits, modulo-10 check.
* Ecuadorian RUC of a private company: province, ``9``, six digits, modulo-11 check
  digit (weights 4,3,2,7,6,5,4,3,2) and the establishment number ``001``.
"""

from __future__ import annotations

import math

import numpy as np

# Large primes: coprime with every modulus used below, so i -> (a*i + b) mod m is a bijection.
_MULTIPLIERS = (2_654_435_761, 2_246_822_519, 3_266_489_917, 668_265_263, 374_761_393)

CO_CEDULA_OLD_SPACE = 90_000_000  # 10.000.000 - 99.999.999
CO_CEDULA_NEW_SPACE = 100_000_000  # 1.000.000.000 - 1.099.999.999
NIT_FIRST = 800_000_000
NIT_SPACE = 102_000_000
EC_CEDULA_SPACE = 6_000_000  # third digit 0-5 and six more digits, per province
EC_RUC_PREFIXES = 100_000  # five digits; the sixth is chosen to make the check digit valid

_NIT_WEIGHTS = np.array((3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71), dtype=np.int64)
_RUC_WEIGHTS = np.array((4, 3, 2, 7, 6, 5, 4, 3, 2), dtype=np.int64)


def affine_permutation(index: np.ndarray, modulus: int, salt: int) -> np.ndarray:
    """Distinct values in ``[0, modulus)`` for distinct ``index`` values below ``modulus``."""
    index = np.asarray(index, dtype=np.int64)
    if index.size and int(index.max()) >= modulus:
        raise ValueError(f"Only {modulus:,} distinct numbers fit this document type in one tenant.")
    multiplier = _MULTIPLIERS[salt % len(_MULTIPLIERS)]
    if math.gcd(multiplier, modulus) != 1:  # pragma: no cover - the primes above divide no modulus here
        raise ValueError("multiplier must be coprime with the modulus")
    offset = (salt * 7_919 + 104_729) % modulus
    return (index * (multiplier % modulus) + offset) % modulus


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Matrix (rows x width) of the decimal digits of ``values``, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def nit_check_digits(bodies: np.ndarray) -> np.ndarray:
    """DIAN check digit of 9-digit NIT bodies (weights applied from the right)."""
    digits = _digits(np.asarray(bodies, dtype=np.int64), 9)[:, ::-1]
    remainder = (digits * _NIT_WEIGHTS[:9]).sum(axis=1) % 11
    return np.where(remainder <= 1, remainder, 11 - remainder)


def colombian_cedulas(index: np.ndarray, salt: int) -> tuple[np.ndarray, np.ndarray]:
    """(numbers, is_old_series): unique cédulas; old 8-digit ones go to older people."""
    value = affine_permutation(index, CO_CEDULA_OLD_SPACE + CO_CEDULA_NEW_SPACE, salt)
    old = value < CO_CEDULA_OLD_SPACE
    number = np.where(old, 10_000_000 + value, 1_000_000_000 + value - CO_CEDULA_OLD_SPACE)
    return number.astype(str), old


def colombian_nits(index: np.ndarray, salt: int) -> np.ndarray:
    """Unique NITs with their check digit (10 digits, no separators)."""
    body = NIT_FIRST + affine_permutation(index, NIT_SPACE, salt)
    return (body * 10 + nit_check_digits(body)).astype(str)


def ecuadorian_cedulas(index: np.ndarray, provinces: np.ndarray, salt: int) -> np.ndarray:
    """Unique Ecuadorian cédulas for people registered in ``provinces`` (codes 1-24)."""
    sequence = affine_permutation(index, EC_CEDULA_SPACE, salt)
    body = np.asarray(provinces, dtype=np.int64) * 10_000_000 + sequence
    doubled = _digits(body, 9) * np.array((2, 1, 2, 1, 2, 1, 2, 1, 2), dtype=np.int64)
    total = np.where(doubled > 9, doubled - 9, doubled).sum(axis=1)
    number = body * 10 + (10 - total % 10) % 10
    return np.char.zfill(number.astype(str), 10)


def ecuadorian_company_rucs(index: np.ndarray, provinces: np.ndarray, salt: int) -> np.ndarray:
    """Unique RUCs of private companies (third digit 9) registered in ``provinces``.

    The check digit must not come out as 10; the last digit of the sequence moves the
    weighted sum by 2 (invertible mod 11), so exactly one of its ten values is unusable
    and each five-digit prefix still yields nine valid RUCs (``index // 100_000`` picks one).
    """
    index = np.asarray(index, dtype=np.int64)
    slot = index // EC_RUC_PREFIXES
    if slot.size and int(slot.max()) >= 9:
        raise ValueError(f"Only {9 * EC_RUC_PREFIXES:,} company RUCs fit one tenant.")
    prefix = affine_permutation(index % EC_RUC_PREFIXES, EC_RUC_PREFIXES, salt)
    head = np.asarray(provinces, dtype=np.int64) * 10_000_000 + 9_000_000 + prefix * 10  # 9 digits, last 0
    candidates = head[:, None] + np.arange(10, dtype=np.int64)[None, :]
    weighted = (_digits(candidates.ravel(), 9) * _RUC_WEIGHTS).sum(axis=1).reshape(candidates.shape)
    remainder = weighted % 11
    check = np.where(remainder == 0, 0, 11 - remainder)
    usable = check < 10
    rank = np.cumsum(usable, axis=1) - 1
    choice = np.argmax(usable & (rank == slot[:, None]), axis=1)
    rows = np.arange(len(index))
    number = candidates[rows, choice] * 10 + check[rows, choice]
    return np.char.add(np.char.zfill(number.astype(str), 10), "001")


def mobiles(
    rng: np.random.Generator, size: int, dialing_code: str, prefixes: tuple[str, ...], digits: int
) -> np.ndarray:
    """E.164 mobiles: ``+<code><prefix><random digits>`` with ``digits`` random digits."""
    prefix = np.asarray(prefixes, dtype=object)[rng.integers(0, len(prefixes), size)]
    tail = rng.integers(0, 10**digits, size)
    return ("+" + dialing_code) + prefix + np.char.zfill(tail.astype(str), digits).astype(object)
