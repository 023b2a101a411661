"""Collections and normalisation (cobranza)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsMgmtConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "collections_mgmt"
    verbose_name = _("Cobranza")
