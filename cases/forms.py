"""Browser forms of CASOS (labels are Spanish msgids; English in cases/locale/en)."""

from __future__ import annotations

from django import forms
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
