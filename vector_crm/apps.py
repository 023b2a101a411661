"""Platform app config: wires the PostgreSQL RLS session sync, grants and audit registry."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_after_migrate(sender, using="default", **kwargs):
    if sender.name != "vector_crm":  # post_migrate fires once per app; grant once
        return
    from vector_crm.db import grant_app_role

    grant_app_role(using)


class VectorCrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "vector_crm"
    verbose_name = _("Plataforma")

    def ready(self) -> None:
        from vector_crm import audit
        from vector_crm.db import install_rls_session_sync

        connection_created.connect(install_rls_session_sync, dispatch_uid="vector_rls_sync")
        post_migrate.connect(_grant_after_migrate, dispatch_uid="vector_grant_app_role")
        audit.register_models()
