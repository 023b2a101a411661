"""Django admin of VALOR, tenant-aware (``TenantAdminMixin``).

The value formula is edited here and saved through ``services.value_config_update``
(validation, audit). Runs, scores and survey answers are read-only: runs are started
from the Valor page or the API, answers arrive through the bulk import.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from segmentation import services
from segmentation.models import ScoringRun, Segment, SurveyResponse, ValueConfig
from vector_crm.admin import TenantAdminMixin, call_service, service_membership


class ReadOnlyAdmin(TenantAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ValueConfigForm(forms.ModelForm):
    class Meta:
        model = ValueConfig
        fields = list(services.CONFIG_FIELDS)

    def clean(self):
        data = super().clean()
        if data.get("tier_a_share") is not None and data.get("tier_b_share") is not None:
            if data["tier_b_share"] < data["tier_a_share"]:
                self.add_error("tier_b_share", _("La proporción A+B no puede ser menor que la de A."))
        return data


@admin.register(ValueConfig)
class ValueConfigAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = ValueConfigForm
    list_display = ["revenue_weight", "fee_weight", "balance_weight", "window_months", "potential_percentile"]

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request) and not ValueConfig.objects.exists()

    def save_model(self, request, obj, form, change):
        self.assign_tenant(request, obj)
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CONFIG_FIELDS}
        saved = call_service(services.value_config_update, request, membership=service_membership(request), data=data)
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "size", "is_active", "run"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "as_of", "status", "customers", "created_at", "finished_at"]
    list_filter = ["status"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["customer", "responded_on", "attribute", "satisfaction", "importance"]
    list_filter = ["attribute"]
    raw_id_fields = ["customer"]
