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
    """How /customers/ shows its search box and filters, with Spanish labels.

    The filtering itself is ``customers.filters.CustomerFilterSet``, shared with the API;
    the field names here are its parameter names, so any of its other filters (owner,
    city, income band...) also works in the URL. This form only adds the keyset cursor.
    """

    q = forms.CharField(
        label=_("Buscar"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Nombre, identificación o celular"), "autocomplete": "off"}
        ),
    )
    branch = forms.ModelChoiceField(label=_("Agencia"), queryset=None, required=False, empty_label=_("Todas"))
    lifecycle_status = forms.ChoiceField(label=_("Estado"), required=False)
    kind = forms.ChoiceField(label=_("Tipo"), required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Evaluated per request, inside the current tenant.
        self.fields["branch"].queryset = branch_list()
        self.fields["lifecycle_status"].choices = _with_blank(LifecycleStatus.choices, _("Todos"))
        self.fields["kind"].choices = _with_blank(CustomerKind.choices, _("Todos"))

    def cursor(self) -> dict:
        """``after``/``before`` of the keyset pager; a malformed value is ignored. Parsed
        alone, so rendering the filters costs no validation queries."""
        cursor = {}
        for key in ("after", "before"):
            try:
                cursor[key] = self.fields[key].clean(self.data.get(key)) if self.is_bound else None
            except forms.ValidationError:
                cursor[key] = None
        return cursor


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
