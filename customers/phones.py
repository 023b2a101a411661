"""A fast, exact validity check for phone numbers already written in E.164 (``+573001112233``).

``phonenumbers`` parses and validates one number in about 50 µs, which is most of the cost
of a bulk customer record. Core-banking feeds send E.164, so for the common case this module
answers the same question with precompiled patterns: ``e164_valid(text)`` returns True or
False when it is sure, and None when the library must decide (national formats, spaces,
country codes shared by several regions, non-geographic codes, a national prefix that
parsing would strip). The patterns are phonenumbers' own metadata, and the rules mirror
``phonenumberutil._number_type_helper`` (valid = matches the general description and at
least one number type); tests/customers/test_bulk_records.py compares the two on a corpus.
No Django imports.
"""

from __future__ import annotations

import re
from functools import cache
from operator import itemgetter

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from vector_crm.imports.pieces import SIZE

_E164 = re.compile(r"\+([1-9][0-9]{2,16})")
_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
# phonenumbers refuses national significant numbers outside these lengths.
_MIN_NSN, _MAX_NSN = 2, 17

Desc = tuple[frozenset[int], re.Pattern]


def _desc(number_desc) -> Desc | None:
    if number_desc is None or not number_desc.national_number_pattern:
        return None
    return frozenset(number_desc.possible_length or ()), re.compile(number_desc.national_number_pattern)


@cache
def _region_rules(country_code: int) -> tuple[Desc, tuple[Desc, ...], re.Pattern | None] | None:
    """(general description, number-type descriptions, national prefix for parsing) of the
    only region of ``country_code``; None when the code is shared or non-geographic."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) != 1 or regions[0] == "001":
        return None
    metadata = PhoneMetadata.metadata_for_region(regions[0])
    general = _desc(metadata.general_desc) if metadata is not None else None
    if general is None:
        return None
    types = tuple(d for d in (_desc(getattr(metadata, name)) for name in _TYPE_DESCS) if d is not None)
    prefix = metadata.national_prefix_for_parsing
    return general, types, re.compile(prefix) if prefix else None


def _matches(national: str, desc: Desc) -> bool:
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def e164_valid(text: str) -> bool | None:
    """True/False when ``text`` is plain E.164 of a single-region country; None otherwise."""
    match = _E164.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    for size in (1, 2, 3):  # phonenumbers takes the shortest prefix that is a country code
        country_code = int(digits[:size])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    rules = _region_rules(country_code)
    national = digits[size:]
    if rules is None or not _MIN_NSN <= len(national) <= _MAX_NSN:
        return None
    general, types, national_prefix = rules
    if national_prefix is not None and national_prefix.match(national):
        return None  # parsing may strip a national prefix: let phonenumbers decide
    return _matches(national, general) and any(_matches(national, desc) for desc in types)


@cache
def _combined(country_code: int, length: int) -> re.Pattern | None:
    """One pattern for "valid national number of ``length`` digits" of a single-region
    country: the general description as a lookahead, then any number type allowing that
    length (what ``e164_valid`` checks one pattern at a time)."""
    rules = _region_rules(country_code)
    if rules is None:
        return None
    (general_lengths, general), types, _prefix = rules
    if general_lengths and length not in general_lengths:
        return re.compile(r"(?!)")
    alternatives = [pattern.pattern for lengths, pattern in types if not lengths or length in lengths]
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(f"(?=(?:{general.pattern})$)(?:{'|'.join(f'(?:{a})' for a in alternatives)})")


def e164_valid_many(values: list[str]) -> list[bool]:
    """``[e164_valid(v) is True for v in values]``, much faster on a long column: numbers of
    one country code and length are checked together, by one match of a pattern over the
    joined numbers (when it fails, the halves are matched again down to a few numbers, so a
    rare bad number costs a few matches, not one per number)."""
    out = [False] * len(values)
    for (country_code, size, length), positions in _groups(values).items():
        national_length = length - 1 - size
        rules = _region_rules(country_code)
        if rules is None or not _MIN_NSN <= national_length <= _MAX_NSN or length - 1 > 17:
            continue
        pattern = _combined(country_code, national_length)
        if pattern is None:
            continue
        if positions is None:  # the whole column
            nationals = list(map(itemgetter(slice(1 + size, None)), values))
        else:
            nationals = [values[p][1 + size :] for p in positions]
        joined = _joined_pattern(country_code, national_length)
        prefix = rules[2]

        def one(national: str, pattern=pattern, prefix=prefix) -> bool:
            return (
                national.isdigit()
                and national.isascii()
                and not (prefix is not None and prefix.match(national))
                and pattern.fullmatch(national) is not None
            )

        valid = [
            ok
            for start in range(0, len(nationals), SIZE)
            for ok in _check(nationals, start, min(start + SIZE, len(nationals)), joined, one)
        ]
        if positions is None:
            out = valid
        else:
            for p, ok in zip(positions, valid, strict=True):
                out[p] = ok
    return out


_HEAD = itemgetter(slice(0, 4))
_FEW = 16  # below this many numbers, checking one by one beats another joined match


def _groups(values: list[str]) -> dict[tuple[int, int, int], list[int] | None]:
    """The numbers by (country code, its digits, length of the text); ``None`` positions
    stand for the whole column, the usual case of a file of one country, found with a few
    C-level passes (every value a str of one length and one ``+`` head) instead of a Python
    step per number."""
    if values and set(map(type, values)) == {str}:
        lengths = set(map(len, values))
        if len(lengths) == 1:
            heads = set(map(_HEAD, values))
            if len(heads) == 1:
                (length,), (head,) = lengths, heads
                country = _country(head[1:4]) if length >= 4 and head[0] == "+" else None
                return {} if country is None else {(*country, length): None}
    groups: dict[tuple[int, int, int], list[int] | None] = {}
    for position, text in enumerate(values):
        if type(text) is not str or len(text) < 4 or text[0] != "+":
            continue
        head = _country(text[1:4])
        if head is not None:
            groups.setdefault((*head, len(text)), []).append(position)
    return groups


def _check(nationals: list[str], start: int, stop: int, joined: re.Pattern | None, one) -> list[bool]:
    """``one`` of each national number in ``nationals[start:stop]``: a whole run at once
    when ``joined`` (valid numbers joined by NUL) matches it, else its halves."""
    if joined is not None and stop - start > _FEW:
        if joined.fullmatch("\x00".join(nationals[start:stop])):
            return [True] * (stop - start)
        middle = (start + stop) // 2
        return _check(nationals, start, middle, joined, one) + _check(nationals, middle, stop, joined, one)
    if joined is not None and stop - start > 1 and joined.fullmatch("\x00".join(nationals[start:stop])):
        return [True] * (stop - start)
    return [one(national) for national in nationals[start:stop]]


@cache
def _country(head: str) -> tuple[int, int] | None:
    """(country code, its number of digits) of an E.164 number starting with ``head``."""
    if not head.isdigit() or not head.isascii() or head[0] == "0":
        return None
    for size in (1, 2, 3):
        if int(head[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            return (int(head[:size]), size) if len(head) >= size else None
    return None


# Pattern text that can only consume ASCII digits and has no anchor, dot or lookbehind:
# such a pattern matches a national number the same way alone or between NULs.
_JOINABLE = re.compile(r"(?:[0-9\[\](){},|?:*+-]|\\d)*")


@cache
def _joined_pattern(country_code: int, length: int) -> re.Pattern | None:
    """NUL-joined national numbers of ``length`` digits, each valid and not starting with a
    national prefix: a full match means ``one`` holds for each. None when a metadata
    pattern is not ``_JOINABLE`` (an anchor like ``$`` means something else mid-string)."""
    rules = _region_rules(country_code)
    combined = _combined(country_code, length)
    if rules is None or combined is None:
        return None
    (general_lengths, general), types, prefix = rules
    if general_lengths and length not in general_lengths:
        return None
    alternatives = [pattern.pattern for lengths, pattern in types if not lengths or length in lengths]
    texts = [general.pattern, *alternatives, *([prefix.pattern] if prefix is not None else [])]
    if not alternatives or not all(_JOINABLE.fullmatch(text) for text in texts):
        return None
    end = "(?=\x00|\\Z)"
    one = f"(?=(?:{general.pattern}){end})(?:{'|'.join(f'(?:{a})' for a in alternatives)})"
    if prefix is not None:
        one = f"(?!{prefix.pattern}){one}"
    one = f"(?=[0-9]{{{length}}}{end}){one}"
    return re.compile(f"(?:{one}\x00)*{one}")
