"""Browser forms of the customer model: the list's search and filters, and logging an
interaction on the customer 360. Labels are Spanish msgids (English in locale/en)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.choices import Channel, CustomerKind, Direction, InteractionOutcome, InteractionType, LifecycleStatus
from customers.selectors import branch_list


def _with_blank(choices, blank_label) -> list[tuple[str, str]]:
    return [("", blank_label), *choices]


class CustomerSearchForm(forms.Form):
    """GET parameters of /customers/: free text, three filters and a keyset cursor."""

    q = forms.CharField(
        label=_("Buscar"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Nombre, identificación o celular"), "autocomplete": "off"}
        ),
    )
    branch = forms.ModelChoiceField(label=_("Agencia"), queryset=None, required=False, empty_label=_("Todas"))
    status = forms.ChoiceField(label=_("Estado"), required=False)
    kind = forms.ChoiceField(label=_("Tipo"), required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated per request, inside the current tenant.
        self.fields["branch"].queryset = branch_list()
        self.fields["status"].choices = _with_blank(LifecycleStatus.choices, _("Todos"))
        self.fields["kind"].choices = _with_blank(CustomerKind.choices, _("Todos"))

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.customer_list`` (invalid input filters nothing)."""
        data = self.cleaned_data if self.is_valid() else {}
        branch = data.get("branch")
        return {
            "search": data.get("q") or "",
            "branch_id": branch.pk if branch else None,
            "lifecycle_status": data.get("status") or "",
            "kind": data.get("kind") or "",
        }

    def is_filtered(self) -> bool:
        return any(self.filters().values())


class InteractionLogForm(forms.Form):
    """One touchpoint for the timeline; ``occurred_at`` is read in the tenant's time zone."""

    interaction_type = forms.ChoiceField(label=_("Tipo de interacción"), choices=InteractionType.choices)
    channel = forms.ChoiceField(label=_("Canal"), choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(label=_("Sentido"), choices=Direction.choices, initial=Direction.OUTBOUND)
    outcome = forms.ChoiceField(
        label=_("Resultado"), choices=_with_blank(InteractionOutcome.choices, _("Sin resultado")), required=False
    )
    occurred_at = forms.DateTimeField(
        label=_("Fecha y hora"),
        required=False,
        help_text=_("Vacío: ahora."),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    notes = forms.CharField(label=_("Notas"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_occurred_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("occurred_at")
        if value is None:
            return None
        # A touchpoint is logged after it happens; a small allowance covers clock skew.
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("La fecha no puede estar en el futuro."))
        return value

    def service_data(self) -> dict:
        """The ``data`` argument of ``services.interaction_log``."""
        data = dict(self.cleaned_data)
        if data.get("occurred_at") is None:
            data.pop("occurred_at", None)
        return data
