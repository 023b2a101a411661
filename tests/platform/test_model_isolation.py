"""Every tenant-owned model: tenant B's context neither reads nor writes tenant A's rows.

A model added later without a factory here fails ``test_every_tenant_model_is_covered``.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from tests import factories as f
from tests.cases import factories as cf
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import TenantModel, TenantNotSet, tenant_context

pytestmark = pytest.mark.django_db

FACTORIES = {
    "vector_crm.Team": f.TeamFactory,
    "vector_crm.Membership": f.MembershipFactory,
    "vector_crm.ApiCredential": f.ApiCredentialFactory,
    "vector_crm.Job": f.JobFactory,
    "vector_crm.IdempotencyRecord": f.IdempotencyRecordFactory,
    "vector_crm.WebhookEndpoint": f.WebhookEndpointFactory,
    "vector_crm.OutboxEvent": f.OutboxEventFactory,
    "vector_crm.WebhookDelivery": f.WebhookDeliveryFactory,
    "vector_crm.FileImport": f.FileImportFactory,
    "vector_crm.FileImportIssue": f.FileImportIssueFactory,
    "customers.Branch": f.BranchFactory,
    "customers.Product": f.ProductFactory,
    "customers.Customer": f.CustomerFactory,
    "customers.ChannelConsent": f.ChannelConsentFactory,
    "customers.Holding": f.HoldingFactory,
    "customers.MonthlyAccountSummary": f.MonthlyAccountSummaryFactory,
    "customers.Payment": f.PaymentFactory,
    "customers.Interaction": f.InteractionFactory,
    "vector_crm.Notification": f.NotificationFactory,
    "cases.CaseType": cf.CaseTypeFactory,
    "cases.SlaPolicy": cf.SlaPolicyFactory,
    "cases.BusinessCalendar": cf.BusinessCalendarFactory,
    "cases.Case": cf.CaseFactory,
    "cases.CaseEvent": cf.CaseEventFactory,
    "cases.Escalation": cf.EscalationFactory,
    "cases.CaseMilestone": cf.CaseMilestoneFactory,
    "cases.CaseAttachment": cf.CaseAttachmentFactory,
    "cases.TriageModel": cf.TriageModelFactory,
    "segmentation.ValueConfig": f.ValueConfigFactory,
    "segmentation.SurveyResponse": f.SurveyResponseFactory,
    "segmentation.ScoringRun": f.ScoringRunFactory,
    "segmentation.Segment": f.SegmentFactory,
    "segmentation.CustomerScore": f.CustomerScoreFactory,
    "segmentation.SegmentMembership": f.SegmentMembershipFactory,
}


def test_every_tenant_model_is_covered():
    tenant_models = {m._meta.label for m in apps.get_models() if issubclass(m, TenantModel)}
    assert tenant_models - set(FACTORIES) == set(), "add a factory for each new tenant model here"


@pytest.mark.parametrize("label", sorted(FACTORIES))
def test_other_tenant_cannot_read_or_write(label, tenant_a, tenant_b):
    model = apps.get_model(label)
    # given a row of tenant A
    with tenant_context(tenant_a.pk):
        obj = FACTORIES[label](tenant=tenant_a)
    # when tenant B looks for it, then it is absent from every scoped query
    with tenant_context(tenant_b.pk):
        assert not model.objects.filter(pk=obj.pk).exists()
        assert obj.pk not in set(model.objects.values_list("pk", flat=True))
        assert model.objects.filter(pk=obj.pk).update(tenant_id=tenant_b.pk) == 0
        assert model.objects.filter(pk=obj.pk).delete()[0] == 0
        # and saving the instance from B's context is refused
        with pytest.raises(TenantNotSet):
            obj.save()
    # and A's row is intact
    with tenant_context(tenant_a.pk):
        assert model.objects.filter(pk=obj.pk, tenant_id=tenant_a.pk).exists()


@pytest.mark.parametrize("label", sorted(FACTORIES))
def test_rls_hides_other_tenant_rows_from_raw_sql(label, pg_only, tenant_a, tenant_b):
    model = apps.get_model(label)
    with tenant_context(tenant_a.pk):
        FACTORIES[label](tenant=tenant_a)
    table = connection.ops.quote_name(model._meta.db_table)
    with tenant_context(tenant_b.pk), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [tenant_a.pk])  # noqa: S608
        assert cursor.fetchone()[0] == 0
    with tenant_context(tenant_a.pk), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [tenant_a.pk])  # noqa: S608
        assert cursor.fetchone()[0] >= 1


def test_audit_entries_are_per_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a.pk):
        f.CustomerFactory()
        assert AuditLogEntry.objects.count() >= 1
    with tenant_context(tenant_b.pk):
        assert not AuditLogEntry.objects.filter(tenant_id=tenant_a.pk).exists()
