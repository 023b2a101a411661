"""The business calendar admin of tenant admins: service validation and audit, the page
(hours per weekday, closed days, split hours, zone, holiday country, own non-working days,
the next 12 months of holidays, the due-time preview), permissions and tenant isolation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases import selectors, services
from cases.models import BusinessCalendar
from tests.ui.helpers import page_text
from vector_crm.errors import DomainError, PermissionDeniedError
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

URL = "/cases/policies/calendar/"
SPLIT_WEEK = {
    "0": [["14:00", "18:00"], ["08:00", "12:00"]],
    "1": [["08:00", "12:00"], ["14:00", "18:00"]],
    "2": [["08:00", "17:00"]],
    "3": [["08:00", "17:00"]],
    "4": [["08:00", "17:00"]],
    "5": [["09:00", "12:00"]],
    "6": [],
}


def _set(membership, **overrides):
    kwargs = {"hours": SPLIT_WEEK, "extra_holidays": ["2027-02-03"], **overrides}
    return services.business_calendar_set(actor=membership.user, membership=membership, **kwargs)


def test_calendar_set_stores_split_hours_closed_days_zone_country_and_own_days(org_a):
    admin = org_a["tenant_admin"]
    with tenant_context(org_a.tenant.pk):
        stored = _set(
            admin, timezone="America/Guayaquil", holiday_country="ec", extra_holidays=["2027-02-03", "2026-12-24"]
        )
        cal = selectors.tenant_calendar()
        entries = list(AuditLogEntry.objects.filter(object_pk=str(stored.pk), content_type__model="businesscalendar"))
    # split hours sorted, the closed Sunday left out, dates sorted, country upper-cased
    assert stored.hours["0"] == [["08:00", "12:00"], ["14:00", "18:00"]]
    assert "6" not in stored.hours and stored.hours["5"] == [["09:00", "12:00"]]
    assert stored.extra_holidays == ["2026-12-24", "2027-02-03"]
    assert (stored.timezone, stored.holiday_country) == ("America/Guayaquil", "EC")
    # the calendar the SLA clocks use follows it
    assert (cal.timezone, cal.country) == ("America/Guayaquil", "EC")
    assert cal.hours[0] == ((dt.time(8), dt.time(12)), (dt.time(14), dt.time(18)))
    assert 6 not in cal.hours and cal.is_holiday(dt.date(2027, 2, 3))
    assert [(e.action, e.actor_id) for e in entries] == [(AuditLogEntry.Action.CREATE, admin.user_id)]


def test_blank_zone_and_country_fall_back_to_the_institutions(org_a):
    with tenant_context(org_a.tenant.pk):
        _set(org_a["tenant_admin"], timezone="", holiday_country="")
        cal = selectors.tenant_calendar()
    assert (cal.timezone, cal.country) == (org_a.tenant.timezone, org_a.tenant.holiday_country)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours": {"0": [["17:00", "08:00"]]}}, "hours", "lunes: el intervalo 17:00-08:00 termina antes de empezar."),
        (
            {"hours": {"2": [["08:00", "13:00"], ["12:00", "17:00"]]}},
            "hours",
            "miércoles: los intervalos se superponen.",
        ),
        ({"hours": {"4": [["8am", "5pm"]]}}, "hours", "viernes: «['8am', '5pm']» no es un intervalo HH:MM-HH:MM."),
        ({"hours": {"0": [], "6": []}}, "hours", "El calendario necesita al menos un día con horario hábil."),
        ({"hours": {"9": [["08:00", "17:00"]]}}, "hours", "Día de la semana inválido: 9."),
        ({"timezone": "America/Medellin"}, "timezone", "Zona horaria desconocida: America/Medellin."),
        ({"holiday_country": "XX"}, "holiday_country", "País sin calendario de festivos: XX."),
        ({"extra_holidays": ["2027-02-30"]}, "extra_holidays", "«2027-02-30» no es una fecha AAAA-MM-DD."),
    ],
)
def test_bad_calendar_is_refused_naming_the_field_and_nothing_is_written(org_a, overrides, field, message):
    admin = org_a["tenant_admin"]
    with tenant_context(org_a.tenant.pk):
        _set(admin)
        with pytest.raises(DomainError) as refused:
            _set(admin, **{"extra_holidays": [], **overrides})
        stored = BusinessCalendar.objects.get()
    assert (refused.value.field, refused.value.message) == (field, message)
    assert stored.hours["5"] == [["09:00", "12:00"]] and stored.extra_holidays == ["2027-02-03"]


def test_only_members_who_configure_cases_may_set_the_calendar(org_a):
    with tenant_context(org_a.tenant.pk), pytest.raises(PermissionDeniedError):
        _set(org_a["supervisor"])
    with tenant_context(org_a.tenant.pk):
        assert not BusinessCalendar.objects.exists()


def test_page_shows_the_week_the_next_holidays_and_a_due_preview(org_a, client_for):
    # given the default week (Monday to Friday 08:00-17:00) and Colombia's holidays
    client = client_for(org_a["tenant_admin"])
    # when a case starts Friday 9 January 2026 17:30 with 8 business hours (Monday 12 is a holiday)
    response = client.get(URL, {"start": "2026-01-09T17:30", "business_hours": "8"})
    text = page_text(response)
    assert response.status_code == 200
    # then it falls due Tuesday 13 January at 16:00 Bogotá time
    assert "con 8 horas hábiles vence el mar 13 Ene 2026 16:00 (America/Bogota)" in text
    assert 'value="08:00-17:00"' in response.content.decode()
    # the holidays of the next 12 months from today, Colombian names, working days skipped
    holidays = response.context["holidays"]
    today = timezone.localdate(timezone=ZoneInfo("America/Bogota"))
    assert holidays and holidays[0]["date"] >= today and holidays[-1]["date"] < today + dt.timedelta(days=365)
    assert any(h["name"] == "Navidad" for h in holidays)
    assert "Festivos de los próximos 12 meses" in text and "Navidad" in text


def test_page_saves_split_hours_and_closed_days_and_own_days(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    data = {f"day_{d}": "08:00-12:00, 14:00-18:00" for d in range(5)}
    data.update(day_5="09:00-12:00", day_6="", timezone="", holiday_country="CO", extra_holidays="2027-02-03\n")
    response = client.post(URL, data)
    assert response.status_code == 302 and response["Location"] == URL
    with tenant_context(org_a.tenant.pk):
        stored = BusinessCalendar.objects.get()
    assert stored.hours["1"] == [["08:00", "12:00"], ["14:00", "18:00"]] and "6" not in stored.hours
    assert stored.extra_holidays == ["2027-02-03"] and stored.holiday_country == "CO"
    page = client.get(URL)
    assert 'value="08:00-12:00, 14:00-18:00"' in page.content.decode()
    assert "Día no hábil de la entidad" in page_text(page)
    # a preview now respects the lunch break: Monday 2027-02-01 11:00 + 2 h -> 15:00
    preview = page_text(client.get(URL, {"start": "2027-02-01T11:00", "business_hours": "2"}))
    assert "vence el lun 1 Feb 2027 15:00" in preview


def test_page_errors_name_the_field_and_write_nothing(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    data = {f"day_{d}": "08:00-17:00" for d in range(7)}
    data.update(day_0="17:00-08:00", day_3="mañana", extra_holidays="2027-13-01")
    response = client.post(URL, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["day_0"] == ["El intervalo 17:00-08:00 termina antes de empezar."]
    assert form.errors["day_3"] == ["«mañana» no es un intervalo HH:MM-HH:MM."]
    # the service's own check (bad date) names its field once the days are fixed
    data.update(day_0="08:00-17:00", day_3="08:00-17:00")
    response = client.post(URL, data)
    assert response.status_code == 400
    assert response.context["form"].errors["extra_holidays"] == ["«2027-13-01» no es una fecha AAAA-MM-DD."]
    assert "no es una fecha AAAA-MM-DD" in page_text(response)
    bad_preview = client.get(URL, {"start": "ayer", "business_hours": "-1"})
    assert bad_preview.status_code == 400
    assert set(bad_preview.context["preview_form"].errors) == {"start", "business_hours"}
    with tenant_context(org_a.tenant.pk):
        assert not BusinessCalendar.objects.exists()


@pytest.mark.parametrize("role", ["advisor", "supervisor", "analyst"])
def test_page_is_for_tenant_admins_only(org_a, client_for, role):
    client = client_for(org_a[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"day_0": "08:00-17:00"}).status_code == 403
    with tenant_context(org_a.tenant.pk):
        assert not BusinessCalendar.objects.exists()


def test_calendars_are_per_tenant(org_a, org_b, client_for):
    with tenant_context(org_a.tenant.pk):
        _set(org_a["tenant_admin"], extra_holidays=["2027-02-03"])
    page_b = client_for(org_b["tenant_admin"]).get(URL)
    assert 'value="09:00-12:00"' not in page_b.content.decode()  # A's Saturday
    assert all(h["date"] != dt.date(2027, 2, 3) for h in page_b.context["holidays"])
    assert page_b.context["calendar"].timezone == org_b.tenant.timezone
    with tenant_context(org_b.tenant.pk):
        assert not BusinessCalendar.objects.exists()
        assert selectors.tenant_calendar().extra_holidays == frozenset()


@pytest.fixture
def _restore_language():
    # The locale middleware leaves the last request's language active in this thread.
    with translation.override(translation.get_language()):
        yield


@pytest.mark.usefixtures("_restore_language")
def test_page_in_english(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    client.post(reverse("set_language"), {"language": "en", "next": URL})
    response = client.get(URL, {"start": "2026-01-09T17:30", "business_hours": "8"})
    text = page_text(response)
    assert response["Content-Language"] == "en"
    assert "Business calendar" in text and "Holidays in the next 12 months" in text and "Monday" in text
    assert "Christmas" in text  # the library's English names
    assert "with 8 business hours it falls due on" in text
    bad = client.post(URL, {"day_0": "17:00-08:00"})
    assert bad.context["form"].errors["day_0"] == ["The interval 17:00-08:00 ends before it starts."]
