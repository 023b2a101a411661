"""File import over the API (``/api/v1/imports/``).

``POST`` a multipart ``file`` with ``importable`` (and optionally ``preset``); then
``POST {id}/mapping/`` (target -> column, constants), ``POST {id}/dry-run/`` (202: a Job
validates every row, writing nothing), ``GET {id}/issues/`` (the row-level report,
paginated), ``POST {id}/run/`` with ``only_valid`` (202: the import Job), and ``GET {id}/``
for status, counts and progress.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.serializers import JobSerializer
from vector_crm.imports import selectors, services
from vector_crm.models import ApiCredential, FileImport, FileImportIssue


class FileImportSerializer(serializers.ModelSerializer):
    job = JobSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FileImport
        fields = [
            "id",
            "importable",
            "preset",
            "original_name",
            "size",
            "file_format",
            "encoding",
            "delimiter",
            "headers",
            "sample",
            "mapping",
            "constants",
            "status",
            "total_rows",
            "valid_rows",
            "invalid_rows",
            "issue_count",
            "counts",
            "error",
            "job",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FileImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    importable = serializers.CharField(max_length=64, help_text="One of the registered importables, e.g. `customers`.")
    preset = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class FileImportMappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text="target -> column header")
    constants = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    preset = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True, default=None)


class FileImportRunSerializer(serializers.Serializer):
    only_valid = serializers.BooleanField(default=False, help_text="Import the valid rows even if others failed.")


class FileImportIssueSerializer(serializers.ModelSerializer):
    class Meta:
        model = FileImportIssue
        fields = ["row", "column", "value", "reason"]
        read_only_fields = fields


class IssuePagination(CursorPagination):
    ordering = ("row", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


@extend_schema(tags=["imports"])
class FileImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet):
    """CSV/XLSX imports of the current tenant: upload, mapping, dry run, run, status."""

    model = FileImport
    serializer_class = FileImportSerializer
    permission_family = "imports"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    action_capabilities = {
        "create": "imports.run",
        "mapping": "imports.run",
        "dry_run": "imports.run",
        "run": "imports.run",
        "issues": "imports.view",
    }

    def scoped_queryset(self):
        return selectors.import_list()

    @property
    def principal(self):
        credential = getattr(self.request, "auth", None)
        return credential if isinstance(credential, ApiCredential) else self.membership

    def _fetch(self) -> FileImport:
        return selectors.access_import(self.kwargs["pk"])

    def _answer(self, file_import: FileImport, code=status.HTTP_200_OK) -> Response:
        file_import = selectors.access_import(file_import.pk)
        return Response(FileImportSerializer(file_import).data, status=code)

    @extend_schema(request={"multipart/form-data": FileImportUploadSerializer}, responses={201: FileImportSerializer})
    def create(self, request, *args, **kwargs):
        """Upload a file; answers with the detected format, header, sample and a suggested mapping."""
        body = FileImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        credential = getattr(request, "auth", None)
        file_import = services.import_upload(
            actor=self.actor,
            principal=self.principal,
            upload=body.validated_data["file"],
            importable=body.validated_data["importable"],
            preset=body.validated_data["preset"],
            credential=credential if isinstance(credential, ApiCredential) else None,
        )
        return self._answer(file_import, status.HTTP_201_CREATED)

    @extend_schema(request=FileImportMappingSerializer, responses={200: FileImportSerializer})
    @action(detail=True, methods=["post"])
    def mapping(self, request, pk=None):
        """Confirm the column of each target (required targets must be covered)."""
        body = FileImportMappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file_import = services.import_set_mapping(
            actor=self.actor, principal=self.principal, file_import=self._fetch(), **body.validated_data
        )
        return self._answer(file_import)

    @extend_schema(request=None, responses={202: FileImportSerializer})
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """Queue the dry run: every row validated, nothing written; poll the import."""
        file_import = services.import_start_dry_run(
            actor=self.actor, principal=self.principal, file_import=self._fetch()
        )
        return self._answer(file_import, status.HTTP_202_ACCEPTED)

    @extend_schema(request=FileImportRunSerializer, responses={202: FileImportSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Queue the import. With errors found, only ``only_valid=true`` imports anything."""
        body = FileImportRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file_import = services.import_start(
            actor=self.actor,
            principal=self.principal,
            file_import=self._fetch(),
            only_valid=body.validated_data["only_valid"],
        )
        return self._answer(file_import, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: FileImportIssueSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=IssuePagination, filter_backends=[])
    def issues(self, request, pk=None):
        """The row-level report (row, column, value, reason) of the last dry run or import."""
        queryset = selectors.import_issues(self._fetch())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(FileImportIssueSerializer(page, many=True).data)
