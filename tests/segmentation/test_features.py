"""Profile and pattern features of the scoring read: stratum, family life stage, equity,
product families held; the life-stage rule on a hand-made table."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from customers.choices import CustomerKind, IdentificationType, ProductFamily
from segmentation.features import read_features
from segmentation.scoring import LIFE_STAGES, behaviour_features, family_life_stage
from tests import factories as f
from vector_crm.tenancy import tenant_context

STAGE = {name: float(i) for i, name in enumerate(LIFE_STAGES)}


@pytest.mark.parametrize(
    ("kind", "age", "civil_status", "children", "stage"),
    [
        ("person", 24, "single", 0, "bachelor"),
        ("person", 40, "divorced", None, "bachelor"),  # unknown children count as none
        ("person", 30, "married", 0, "couple"),
        ("person", 33, "cohabiting", None, "couple"),
        ("person", 38, "married", 2, "full_nest"),
        ("person", 29, "single", 1, "full_nest"),
        ("person", 58, "married", 0, "empty_nest"),
        ("person", 61, "widowed", 3, "empty_nest"),
        ("person", 70, "widowed", 0, "solitary_survivor"),
        ("person", 56, "", 0, "solitary_survivor"),  # an unknown civil status counts as no partner
        ("person", 45, "", None, None),  # neither civil status nor children: unknown
        ("person", None, "married", 2, None),  # no age: unknown
        ("company", 12, "", None, None),
    ],
)
def test_family_life_stage(kind, age, civil_status, children, stage):
    frame = pd.DataFrame(
        {"kind": [kind], "age": [age], "civil_status": [civil_status], "children": [children]}, dtype=object
    )
    frame["age"] = pd.to_numeric(frame["age"])
    result = family_life_stage(frame)[0]
    if stage is None:
        assert math.isnan(result)
    else:
        assert result == STAGE[stage]


@pytest.mark.django_db
def test_the_read_carries_profile_and_product_families(tenant_a):
    with tenant_context(tenant_a.pk):
        person = f.CustomerFactory(
            birth_date=dt.date(1985, 3, 1), civil_status="married", children=2, stratum=4, income_band="4to8"
        )
        company = f.CustomerFactory(
            kind=CustomerKind.COMPANY,
            identification_type=IdentificationType.NIT,
            identification_number="9001234567",
            legal_name="Textiles del Norte SAS",
            first_name="",
            last_name="",
            economic_sector="manufacturing",
            employees=40,
            equity=Decimal("2500000000.00"),
        )
        savings = f.ProductFactory(family=ProductFamily.SAVINGS)
        card = f.ProductFactory(family=ProductFamily.CREDIT_CARD)
        for product in (savings, savings, card):
            f.HoldingFactory(customer=person, product=product)
        f.HoldingFactory(customer=company, product=savings)
        frame = read_features(as_of=dt.date(2026, 11, 15), months=12).set_index("customer_id")

    assert frame.loc[person.pk, ["stratum", "children", "products", "families"]].tolist() == [4, 2, 3, 2]
    assert frame.loc[person.pk, "civil_status"] == "married"
    assert frame.loc[company.pk, "equity"] == 2_500_000_000
    assert (frame.loc[company.pk, "products"], frame.loc[company.pk, "families"]) == (1, 1)

    features = behaviour_features(frame.reset_index(), np.zeros(len(frame))).set_index(frame.index)
    assert features.loc[person.pk, "life_stage"] == STAGE["full_nest"]  # 41, married, two children
    assert features.loc[person.pk, "stratum"] == 4
    assert math.isnan(features.loc[company.pk, "life_stage"])
    assert features.loc[company.pk, "log_equity"] == pytest.approx(math.log1p(2_500_000_000))
    assert math.isnan(features.loc[person.pk, "log_equity"])
