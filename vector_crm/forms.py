"""Browser forms of the platform. Labels are Spanish msgids (English in locale/en)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vector_crm.roles import ALL_SCOPES


class ApiCredentialCreateForm(forms.Form):
    """Name and scopes of a new API key; ``services.api_credential_create`` validates the
    scopes again and its errors land on the field they name."""

    name = forms.CharField(
        label=_("Nombre"),
        max_length=120,
        help_text=_("Para reconocerla después, por ejemplo «Core bancario nocturno»."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Alcances"),
        choices=[(scope, scope) for scope in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("«read» consulta; «write» consulta y modifica la familia."),
    )


def event_type_choices() -> list[tuple[str, str]]:
    """The registry's event types (apps add theirs in AppConfig.ready) with descriptions."""
    from vector_crm.outbox import EVENT_DESCRIPTIONS, EVENT_TYPES

    return [(name, f"{name} — {EVENT_DESCRIPTIONS.get(name, '')}".rstrip(" —")) for name in EVENT_TYPES]


class WebhookEndpointForm(forms.Form):
    """URL, description, event types and active flag of an endpoint; the services check the
    URL (https) and the event types again, and their errors land on the field they name."""

    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Dirección https del sistema que recibe los eventos, por ejemplo https://erp.banco.com/webhooks."),
    )
    description = forms.CharField(label=_("Descripción"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Tipos de evento"), widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=_("Activo"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = event_type_choices()
