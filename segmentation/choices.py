"""Enumerations of VALOR (values in English, labels in Spanish)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SegmentKind(models.TextChoices):
    RULE = "rule", _("Por reglas")
    LEARNED = "learned", _("Aprendido (clúster)")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("En cola")
    RUNNING = "running", _("En curso")
    SUCCEEDED = "succeeded", _("Terminado")
    FAILED = "failed", _("Fallido")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class Tier(models.TextChoices):
    A = "A", _("A — prioridad alta")
    B = "B", _("B — prioridad media")
    C = "C", _("C — prioridad baja")


class SurveyAttribute(models.TextChoices):
    """The value-proposition attributes the sources ask customers to rate."""

    PRODUCTS = "products", _("Productos")
    REQUIREMENTS = "requirements", _("Requisitos")
    TERMS = "terms", _("Plazos")
    LIMITS = "limits", _("Cupos")
    ADVICE = "advice", _("Asesoría")
    TRUST = "trust", _("Confianza")
    AGILITY = "agility", _("Agilidad")
