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
