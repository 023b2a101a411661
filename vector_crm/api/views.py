"""Platform API endpoints: background jobs and their progress."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.filters import JobFilterSet
from vector_crm.api.serializers import JobSerializer
from vector_crm.models import Job
from vector_crm.selectors import job_list


@extend_schema(tags=["jobs"])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Background jobs of the current tenant (imports, scoring runs, sweeps)."""

    model = Job
    serializer_class = JobSerializer
    permission_family = "jobs"
    filterset_class = JobFilterSet

    def scoped_queryset(self):
        return job_list()
