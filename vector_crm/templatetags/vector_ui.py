"""Template helpers for the browser UI: money, dates in the tenant's time zone, delinquency
levels and the VECTOR navigation.

Money is formatted with babel in the tenant's locale (``es-CO`` -> ``es_CO``) and the
tenant's currency, or an explicit currency for accounts held in another one. Dates use
Django's localisation for the active language; the middleware has already activated the
tenant's time zone, and ``local_datetime`` converts explicitly so the output never
depends on where the template is rendered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

register = template.Library()

DEFAULT_LOCALE = "es_CO"


def babel_locale(locale_code: str | None) -> str:
    """``es-CO`` -> ``es_CO``; unknown or empty codes fall back to ``es_CO``."""
    code = (locale_code or DEFAULT_LOCALE).replace("-", "_")
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return DEFAULT_LOCALE
    return code


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_money(value, currency: str, locale_code: str | None) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    return format_currency(amount, currency, locale=babel_locale(locale_code))


@register.filter
def money(value, tenant) -> str:
    """``{{ amount|money:tenant }}``: the amount in the tenant's currency and locale."""
    if tenant is None:
        amount = _decimal(value)
        return "—" if amount is None else format_decimal(amount, locale=DEFAULT_LOCALE)
    return format_money(value, tenant.currency, tenant.locale)


@register.simple_tag(takes_context=True)
def money_in(context, value, currency: str) -> str:
    """``{% money_in holding.balance holding.currency %}``: another currency, the tenant's locale."""
    tenant = context.get("current_tenant")
    return format_money(value, currency or getattr(tenant, "currency", "COP"), getattr(tenant, "locale", None))


@register.filter
def number(value, tenant=None) -> str:
    """An integer or decimal with the tenant's grouping (``1.234``)."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    return format_decimal(amount, locale=babel_locale(getattr(tenant, "locale", None)))


@register.filter
def local_datetime(value) -> str:
    """An aware datetime in the active (tenant) time zone, short localised format."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


@register.filter
def local_date(value) -> str:
    """A date (or the date part of an aware datetime in the tenant time zone)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "SHORT_DATE_FORMAT")


@register.filter
def dpd_level(days_past_due) -> str:
    """CSS modifier for days past due: current, early (1-30), late (31-90), severe (>90)."""
    try:
        days = int(days_past_due or 0)
    except (TypeError, ValueError):
        return "current"
    if days <= 0:
        return "current"
    if days <= 30:
        return "early"
    if days <= 90:
        return "late"
    return "severe"


@register.filter
def first_line(text) -> str:
    """The first line of a message (a job's error without its traceback)."""
    return str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""


@register.filter
def percent_of(part, whole) -> int:
    try:
        part, whole = float(part or 0), float(whole or 0)
    except (TypeError, ValueError):
        return 0
    if whole <= 0:
        return 0
    return max(0, min(100, round(part * 100 / whole)))


# --- Navigation -----------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    letter: str
    url_name: str  # the stage app's index, once that app ships its UI
    description: str


STAGES: tuple[NavItem, ...] = (
    NavItem("valor", _("Valor"), "V", "segmentation:index", _("Segmentación, valor actual y potencial, prioridades")),
    NavItem(
        "eventos", _("Eventos"), "E", "campaigns:index", _("Campañas por etapa del cliente y política de contacto")
    ),
    NavItem("casos", _("Casos"), "C", "cases:index", _("Solicitudes, PQRS, excepciones y ANS")),
    NavItem("tareas", _("Tareas"), "T", "tasks:index", _("Protocolos de servicio y trabajo asignado")),
    NavItem("oportunidades", _("Oportunidades"), "O", "opportunities:index", _("Embudo comercial y acuerdos")),
    NavItem("resultados", _("Resultados"), "R", "results:index", _("Indicadores, metas y tableros")),
    NavItem("cobranza", _("Cobranza"), "$", "collections_mgmt:index", _("Mora, estrategias y normalización")),
)
STAGES_BY_KEY = {item.key: item for item in STAGES}


def stage_url(item: NavItem) -> tuple[str, bool]:
    """The stage's own page when its app is installed with URLs, else the "coming soon" page."""
    try:
        return reverse(item.url_name), True
    except NoReverseMatch:
        return reverse("coming_soon", args=[item.key]), False


@register.inclusion_tag("partials/nav.html", takes_context=True)
def vector_nav(context):
    request = context.get("request")
    path = getattr(request, "path", "")
    membership = getattr(request, "membership", None)
    stages = []
    for item in STAGES:
        url, available = stage_url(item)
        stages.append({"item": item, "url": url, "available": available, "active": path.startswith(url) and url != "/"})
    customers_url = reverse("customers:list")
    jobs_url = reverse("job_list")
    user = getattr(request, "user", None)
    show_admin = bool(
        user is not None
        and user.is_authenticated
        and user.is_staff
        and (user.is_superuser or (membership is not None and membership.has("admin.access")))
    )
    credentials_url = reverse("api_credential_list")
    webhooks_url = reverse("webhook_list")
    imports_url = reverse("imports:index")
    return {
        "show_imports": membership is not None and membership.has("imports.run"),
        "imports_url": imports_url,
        "imports_active": path.startswith(imports_url),
        "request": request,
        "stages": stages,
        "show_credentials": membership is not None and membership.has("credentials.manage"),
        "credentials_url": credentials_url,
        "credentials_active": path.startswith(credentials_url),
        "show_webhooks": membership is not None and membership.has("webhooks.manage"),
        "webhooks_url": webhooks_url,
        "webhooks_active": path.startswith(webhooks_url),
        "home_active": path == reverse("home"),
        "customers_url": customers_url,
        "customers_active": path.startswith(customers_url),
        "jobs_url": jobs_url,
        "jobs_active": path.startswith(jobs_url),
        "show_admin": show_admin,
    }
