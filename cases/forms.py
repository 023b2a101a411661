"""Browser forms of CASOS (labels are Spanish msgids; English in cases/locale/en)."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from cases.choices import ALLOWED_TRANSITIONS, CaseChannel, ExceptionType, PqrsType, Priority, Status
from cases.models import CaseType
from customers.models import Customer
from vector_crm.models import Team


class CaseIntakeForm(forms.Form):
    """The intake form, standalone or from the customer 360 (``customer`` preset)."""

    case_type = forms.ModelChoiceField(label=_("Tipo de caso"), queryset=None)
    subject = forms.CharField(label=_("Asunto"), max_length=200)
    description = forms.CharField(label=_("Descripción"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    customer = forms.IntegerField(label=_("Cliente (id)"), required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Canal de entrada"), choices=CaseChannel.choices)
    category = forms.CharField(label=_("Categoría"), max_length=200, required=False)
    pqrs_type = forms.ChoiceField(label=_("Tipo de PQRS"), choices=[("", "—"), *PqrsType.choices], required=False)
    priority = forms.ChoiceField(label=_("Prioridad"), choices=Priority.choices, initial=Priority.MEDIUM)
    product_label = forms.CharField(label=_("Producto o cuenta"), max_length=200, required=False)
    team = forms.ModelChoiceField(label=_("Cola"), queryset=None, required=False)
    exception_type = forms.ChoiceField(
        label=_("Excepción"), choices=[("", "—"), *ExceptionType.choices], required=False
    )
    amount = forms.DecimalField(label=_("Monto solicitado"), required=False, max_digits=18, decimal_places=2)
    policy_limit = forms.DecimalField(label=_("Límite de la política"), required=False, max_digits=18, decimal_places=2)

    def __init__(self, *args, **kwargs):
        case_types = kwargs.pop("case_types")
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types
        self.fields["team"].queryset = Team.objects.order_by("name")
        # As the description is typed, the institution's triage model suggests category and queue.
        self.fields["description"].widget.attrs.update(
            {
                "hx-post": reverse_lazy("cases:triage_suggest"),
                "hx-trigger": "keyup changed delay:500ms, change",
                "hx-target": "#triage-suggestion",
                "hx-swap": "outerHTML",
            }
        )

    def service_data(self, customer: Customer | None) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "") and k != "customer"}
        if customer is not None:
            data["customer"] = customer
        return data


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("Nuevo estado"), choices=Status.choices)
    note = forms.CharField(label=_("Nota o resolución"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    satisfaction = forms.IntegerField(label=_("Satisfacción (1-5)"), min_value=1, max_value=5, required=False)
    customer_confirmed = forms.BooleanField(label=_("El cliente confirmó el cierre"), required=False)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ALLOWED_TRANSITIONS.get(current, frozenset())
        self.fields["to_status"].choices = [(v, label) for v, label in Status.choices if v in allowed]


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comentario"), widget=forms.Textarea(attrs={"rows": 2}))
    is_internal = forms.BooleanField(label=_("Nota interna"), required=False)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Responsable"), queryset=None, required=False)
    team = forms.ModelChoiceField(label=_("Cola"), queryset=None, required=False)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = members
        self.fields["team"].queryset = Team.objects.order_by("name")


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decisión"), choices=[("1", _("Aprobar")), ("0", _("Rechazar"))], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(label=_("Razones"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Archivo"))


class SlaPolicyForm(forms.Form):
    """A new SLA policy (tenant admins); validated again by the service."""

    case_type = forms.ModelChoiceField(label=_("Tipo de caso"), queryset=None)
    priority = forms.ChoiceField(
        label=_("Prioridad"), choices=[("", _("Cualquiera")), *Priority.choices], required=False
    )
    tier = forms.CharField(label=_("Nivel del cliente"), max_length=40, required=False)
    first_response_minutes = forms.IntegerField(label=_("Primera respuesta (minutos hábiles)"), min_value=1)
    resolution_minutes = forms.IntegerField(label=_("Resolución (minutos hábiles)"), min_value=1)
    warning_percent = forms.IntegerField(label=_("Alerta al % del objetivo"), min_value=1, max_value=99, initial=75)
    escalation_minutes = forms.JSONField(
        label=_("Niveles de escalamiento (minutos tras el vencimiento)"), initial=[0, 240]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = CaseType.objects.order_by("name")


WEEKDAY_LABELS = [
    _("Lunes"),
    _("Martes"),
    _("Miércoles"),
    _("Jueves"),
    _("Viernes"),
    _("Sábado"),
    _("Domingo"),
]


def _interval_text(intervals) -> str:
    return ", ".join(f"{a}-{b}" for a, b in intervals or [])


class BusinessCalendarForm(forms.Form):
    """The tenant's business calendar: per weekday its working intervals ("08:00-12:00,
    14:00-18:00"; empty: closed), the time zone and holiday country (blank: the
    institution's), and the institution's own non-working days (one date a line)."""

    timezone = forms.ChoiceField(label=_("Zona horaria"), required=False)
    holiday_country = forms.ChoiceField(label=_("País de los festivos"), required=False)
    extra_holidays = forms.CharField(
        label=_("Días no hábiles propios (AAAA-MM-DD, uno por línea)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def __init__(self, *args, tenant, **kwargs):
        import zoneinfo

        import holidays as holidays_lib

        super().__init__(*args, **kwargs)
        for weekday, label in enumerate(WEEKDAY_LABELS):
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=label,
                required=False,
                help_text=_("Intervalos HH:MM-HH:MM separados por comas; vacío: cerrado."),
            )
        zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV")))
        self.fields["timezone"].choices = [("", _("La de la entidad (%(v)s)") % {"v": tenant.timezone})] + [
            (z, z) for z in zones
        ]
        countries = sorted(c for c in holidays_lib.list_supported_countries() if len(c) == 2)
        self.fields["holiday_country"].choices = [
            ("", _("El de la entidad (%(v)s)") % {"v": tenant.holiday_country or "—"})
        ] + [(c, c) for c in countries]

    @classmethod
    def initial_from(cls, stored) -> dict:
        from cases import sla

        hours = stored.hours if stored and stored.hours else sla.hours_to_raw(sla.DEFAULT_HOURS)
        initial = {f"day_{d}": _interval_text(hours.get(str(d))) for d in range(7)}
        if stored is not None:
            initial.update(
                timezone=stored.timezone,
                holiday_country=stored.holiday_country,
                extra_holidays="\n".join(stored.extra_holidays or []),
            )
        return initial

    def _clean_day(self, weekday: int) -> list[list[str]]:
        import datetime as dt

        raw = (self.cleaned_data.get(f"day_{weekday}") or "").strip()
        intervals = []
        for part in filter(None, (p.strip() for p in raw.replace(";", ",").split(","))):
            pieces = [p.strip() for p in part.split("-")]
            try:
                start, end = (dt.time.fromisoformat(p) for p in pieces)
            except ValueError:
                raise forms.ValidationError(
                    _("«%(v)s» no es un intervalo HH:MM-HH:MM.") % {"v": part}, code="interval"
                ) from None
            if not start < end:
                raise forms.ValidationError(
                    _("El intervalo %(v)s termina antes de empezar.") % {"v": part}, code="interval"
                )
            intervals.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
        return intervals

    def clean(self):
        cleaned = super().clean()
        hours = {}
        for weekday in range(7):
            try:
                hours[str(weekday)] = self._clean_day(weekday)
            except forms.ValidationError as exc:
                self.add_error(f"day_{weekday}", exc)
        cleaned["hours"] = hours
        cleaned["extra_holidays_list"] = [
            line.strip() for line in (cleaned.get("extra_holidays") or "").splitlines() if line.strip()
        ]
        return cleaned

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "hours": data["hours"],
            "extra_holidays": data["extra_holidays_list"],
            "timezone": data.get("timezone") or "",
            "holiday_country": data.get("holiday_country") or "",
        }


class DuePreviewForm(forms.Form):
    """ "When would this fall due": a start (local time of the calendar) plus N business hours."""

    start = forms.DateTimeField(
        label=_("Inicio"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    business_hours = forms.DecimalField(
        label=_("Horas hábiles"), min_value=0, max_value=10000, decimal_places=2, initial=8
    )
