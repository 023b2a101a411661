"""``e164_valid_many`` (the import's column-wise phone check) answers exactly as
``e164_valid`` number by number, on a corpus of valid, invalid and odd numbers."""

from __future__ import annotations

import random

from customers.phones import e164_valid, e164_valid_many


def corpus() -> list[str]:
    rng = random.Random(7)
    values = [f"+57300{n:07d}" for n in range(2000)]
    values += ["+1" + str(rng.randint(2_000_000_000, 9_999_999_999)) for _ in range(500)]
    values += ["+593" + str(rng.randint(10**8, 10**9)) for _ in range(500)]
    values += ["+5930" + str(rng.randint(10**8, 10**9)) for _ in range(100)]  # a national prefix
    values += ["+" + str(rng.randint(10**6, 10**17)) for _ in range(3000)]  # every country code
    values += ["", "+", "+5", "+57", "+573", "+1234", "+44 20", "+0123", "3001234567", "+5730012"]
    values += ["+57300123456\u0663", "+57 3001234567", "+573001234567\n", "+34912345678", "+5210000000000"]
    rng.shuffle(values)
    return values


def test_the_column_check_agrees_with_the_per_number_check():
    values = corpus()
    expected = [e164_valid(v) is True for v in values]
    assert e164_valid_many(values) == expected
    assert 2000 < sum(expected) < len(values)  # both answers occur


def test_a_column_of_one_country_is_checked_whole_and_one_bad_number_is_still_found():
    values = [f"+57300{n:07d}" for n in range(100)] + ["+573991234567"]
    assert e164_valid_many(values) == [True] * 100 + [e164_valid("+573991234567") is True]


def test_a_whole_column_of_one_head_and_length_agrees_even_with_rare_bad_numbers():
    """The one-group fast path (no Python step per number) and the halving of a failed
    joined match give the per-number answers, wherever the bad numbers sit."""
    rng = random.Random(11)
    values = [f"+57300{rng.randrange(10**7):07d}" for _ in range(5000)]
    for position in (0, 17, 2500, 4999):
        values[position] = "+57399" + values[position][6:]  # not a Colombian range
    values[1234] = "+57300123456\u0663"  # a non-ASCII digit, same length
    expected = [e164_valid(v) is True for v in values]
    assert e164_valid_many(values) == expected
    assert 4990 < sum(expected) < 5000


def test_columns_of_mixed_countries_and_lengths_agree_with_the_per_number_check():
    rng = random.Random(5)
    values = [f"+57300{rng.randrange(10**7):07d}" for _ in range(300)]
    values += ["+593" + str(rng.randint(10**8, 10**9 - 1)) for _ in range(300)]
    values += [f"+5730{rng.randrange(10**7):07d}" for _ in range(50)]  # one digit short
    values += ["+81" + str(rng.randint(10**9, 10**10 - 1)) for _ in range(200)]  # Japan: a "$" in its prefix rule
    values += ["+81000" + str(rng.randint(10**5, 10**6 - 1)) for _ in range(50)]
    rng.shuffle(values)
    assert e164_valid_many(values) == [e164_valid(v) is True for v in values]
    japan = [v for v in values if v.startswith("+81") and len(v) == 13]
    assert e164_valid_many(japan) == [e164_valid(v) is True for v in japan]


def test_a_column_of_one_head_that_is_not_a_number_is_all_false():
    assert e164_valid_many(["+0001", "+0002"]) == [False, False]
    assert e164_valid_many(["5730", "5731"]) == [False, False]
    assert e164_valid_many(["+57", "+57"]) == [False, False]
    assert e164_valid_many([]) == []
