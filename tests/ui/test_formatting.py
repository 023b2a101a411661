"""Template filters: money in the tenant's currency and locale, dates in its time zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from vector_crm.models import Tenant
from vector_crm.templatetags.vector_ui import dpd_level, local_date, local_datetime, money

COLOMBIA = Tenant(name="Banco Andino", currency="COP", locale="es-CO", timezone="America/Bogota")
ECUADOR = Tenant(name="Cooperativa del Pacífico", currency="USD", locale="es-EC", timezone="America/Guayaquil")


@pytest.mark.parametrize(
    ("amount", "tenant", "expected"),
    [
        (Decimal("1500000.5"), COLOMBIA, "$1.500.000,50"),
        (Decimal("-2500"), COLOMBIA, "-$2.500,00"),
        (Decimal("1234.5"), ECUADOR, "$1.234,50"),
        (0, ECUADOR, "$0,00"),
        (None, COLOMBIA, "—"),
        ("", COLOMBIA, "—"),
    ],
)
def test_money_uses_the_tenant_currency_and_locale(amount, tenant, expected):
    assert money(amount, tenant) == expected


def test_money_in_another_currency_keeps_the_tenant_locale():
    rendered = Template("{% load vector_ui %}{% money_in amount 'USD' %}").render(
        Context({"amount": Decimal("10000"), "current_tenant": COLOMBIA})
    )
    assert rendered == "US$10.000,00"


def test_unknown_tenant_locale_falls_back_to_colombian_format():
    assert money(Decimal("1000"), Tenant(currency="COP", locale="xx-ZZ")) == "$1.000,00"


def test_datetimes_render_in_the_active_tenant_time_zone():
    # given 15:30 UTC, which is 10:30 in Bogotá (UTC-5)
    moment = dt.datetime(2026, 4, 2, 15, 30, tzinfo=dt.UTC)
    with translation.override("es"), timezone.override("America/Bogota"):
        assert local_datetime(moment) == "02/04/2026 10:30"
        assert local_date(dt.datetime(2026, 4, 3, 2, 0, tzinfo=dt.UTC)) == "02/04/2026"
    with translation.override("en"), timezone.override("America/Bogota"):
        assert local_datetime(moment) == "04/02/2026 10:30 a.m."


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (0, "current"),
        (None, "current"),
        (1, "early"),
        (30, "early"),
        (31, "late"),
        (90, "late"),
        (91, "severe"),
        (400, "severe"),
    ],
)
def test_days_past_due_levels(days, level):
    assert dpd_level(days) == level
