"""Identification document rules per type: pure functions, no Django imports.

``normalize(kind, number)`` strips separators; ``problem(kind, number)`` returns a reason
the number is invalid, or None. Check digits follow the issuing authority:
NIT (DIAN, Colombia) modulo 11 with the DIAN weights; Ecuador's cédula (Registro Civil)
modulo 10 with province code; Ecuador's RUC is a cédula or company number + 3 digits.
"""

from __future__ import annotations

import re

_NIT_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def normalize(kind: str, number: str) -> str:
    number = (number or "").strip().upper()
    if kind == "passport":
        return re.sub(r"[\s-]", "", number)
    return re.sub(r"[\s.\-]", "", number)


def nit_check_digit(body: str) -> int:
    total = sum(int(d) * w for d, w in zip(reversed(body), _NIT_WEIGHTS, strict=False))
    remainder = total % 11
    return remainder if remainder in (0, 1) else 11 - remainder


def ec_cedula_valid(number: str) -> bool:
    if not re.fullmatch(r"\d{10}", number):
        return False
    province = int(number[:2])
    if not (1 <= province <= 24 or province == 30) or int(number[2]) >= 6:
        return False
    total = 0
    for index, char in enumerate(number[:9]):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(number[9])


def problem(kind: str, number: str) -> str | None:
    """Why ``number`` is not a valid ``kind`` document (already normalized), or None."""
    if not number:
        return "The identification number is required."
    if kind == "cc":
        if not re.fullmatch(r"\d{6,10}", number):
            return "A cédula de ciudadanía has 6 to 10 digits."
    elif kind == "ce":
        if not re.fullmatch(r"\d{6,12}", number):
            return "A cédula de extranjería has 6 to 12 digits."
    elif kind == "nit":
        if not re.fullmatch(r"\d{9,10}", number):
            return "A NIT has 9 digits plus its check digit."
        if len(number) == 10 and nit_check_digit(number[:9]) != int(number[9]):
            return "The NIT check digit does not match."
    elif kind == "ci_ec":
        if not ec_cedula_valid(number):
            return "Not a valid Ecuadorian cédula (10 digits, province code and check digit)."
    elif kind == "ruc":
        if not re.fullmatch(r"\d{11}|\d{13}", number):
            return "A RUC has 13 digits (Ecuador) or 11 digits (Peru)."
        if len(number) == 13 and not number.endswith("001") and not number.endswith("002"):
            return "An Ecuadorian RUC ends in its establishment number (001)."
    elif kind == "dni":
        if not re.fullmatch(r"\d{7,10}", number):
            return "A DNI has 7 to 10 digits."
    elif kind == "passport":
        if not re.fullmatch(r"[A-Z0-9]{5,15}", number):
            return "A passport number has 5 to 15 letters and digits."
    else:
        return f"Unknown identification type {kind!r}."
    return None
