"""VALOR: segmentation, value and potential scoring."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "segmentation"
    verbose_name = _("Valor")

    def ready(self) -> None:
        from customers.panels import register_panel
        from segmentation import bulk, panels
        from vector_crm.outbox import register_event_type

        register_event_type("segment.created", "A rule-based segment was saved.")
        register_event_type("segment.updated", "A rule-based segment changed.")
        register_event_type("segment.deleted", "A rule-based segment was deleted.")
        register_event_type("scoring_run.succeeded", "A scoring run published a new value snapshot.")
        register_panel(
            "segmentation.value",
            template="segmentation/partials/customer_value_panel.html",
            context=panels.value_panel_context,
            column="aside",
            order=10,
        )
        bulk.register()
