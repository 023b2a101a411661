"""factory_boy factories of CASOS (rows in the current tenant, like tests/factories.py)."""

from __future__ import annotations

import datetime as dt

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from cases.choices import CaseChannel, CaseKind, Clock, EventKind, Priority
from cases.models import (
    BusinessCalendar,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseMilestone,
    CaseType,
    Escalation,
    SlaPolicy,
    TriageModel,
)
from tests.factories import TenantOwnedFactory


class CaseTypeFactory(TenantOwnedFactory):
    class Meta:
        model = CaseType

    code = factory.Sequence(lambda n: f"tipo-{n}")
    name = factory.Sequence(lambda n: f"Tipo {n}")
    kind = CaseKind.REQUEST


class SlaPolicyFactory(TenantOwnedFactory):
    class Meta:
        model = SlaPolicy

    case_type = factory.SubFactory(CaseTypeFactory)
    first_response_minutes = 60
    resolution_minutes = 480


class BusinessCalendarFactory(TenantOwnedFactory):
    class Meta:
        model = BusinessCalendar

    hours = factory.LazyFunction(lambda: {str(d): [["08:00", "17:00"]] for d in range(5)})


class CaseFactory(TenantOwnedFactory):
    class Meta:
        model = Case

    case_type = factory.SubFactory(CaseTypeFactory)
    kind = factory.LazyAttribute(lambda o: o.case_type.kind)
    restricted = factory.LazyAttribute(lambda o: o.case_type.restricted)
    subject = factory.Sequence(lambda n: f"Solicitud {n}")
    channel = CaseChannel.BRANCH
    priority = Priority.MEDIUM
    opened_at = factory.LazyFunction(timezone.now)


class CaseEventFactory(TenantOwnedFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    kind = EventKind.COMMENT
    body = "Cliente llamó"
    occurred_at = factory.LazyFunction(timezone.now)


class EscalationFactory(TenantOwnedFactory):
    class Meta:
        model = Escalation

    case = factory.SubFactory(CaseFactory)
    clock = Clock.RESOLUTION
    level = 1
    target_role = "supervisor"
    reason = "ANS vencido"
    escalated_at = factory.LazyFunction(timezone.now)


class CaseMilestoneFactory(TenantOwnedFactory):
    class Meta:
        model = CaseMilestone

    case = factory.SubFactory(CaseFactory)
    code = "acuse"
    name = "Acuse de recibo"
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=1))


class CaseAttachmentFactory(TenantOwnedFactory):
    class Meta:
        model = CaseAttachment

    case = factory.SubFactory(CaseFactory)
    name = "carta.txt"
    file = factory.LazyFunction(lambda: ContentFile(b"hola", name="carta.txt"))
    size = 4


class TriageModelFactory(TenantOwnedFactory):
    class Meta:
        model = TriageModel

    trained_at = factory.LazyFunction(timezone.now)
    n_samples = 30
    accuracy = 0.8
    classes = factory.LazyFunction(lambda: ["Mortgage", "Credit card"])
    pipeline = b"not a real model"
