"""Django admin of the shared customer model, tenant-aware (``TenantAdminMixin``).

Saves and deletes go through ``customers.services`` like every other entry point, so
the admin gets the same validation, permission checks and audit entries as the UI and
the API. Large tables use raw-id widgets instead of selects of every customer.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from customers import services
from customers.models import (
    Branch,
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
)
from vector_crm.admin import (
    TenantAdminMixin,
    TenantInlineMixin,
    TenantMemberListFilter,
    call_service,
    service_membership,
)


def _form_data(form, fields=None, *, changed_only: bool) -> dict:
    """The cleaned values to hand to a service (only what changed, on updates)."""
    names = form.changed_data if changed_only else list(form.cleaned_data)
    return {
        name: form.cleaned_data[name]
        for name in names
        if name in form.cleaned_data and (fields is None or name in fields)
    }


class ServiceAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Saves through ``create_service(data=...)`` and ``update_service(<entity_kwarg>=obj,
    data=<changed fields>)``; without a service for the case, the plain (audited) save."""

    create_service = None
    update_service = None
    entity_kwarg = ""
    service_fields: frozenset[str] | None = None  # form fields the service accepts (None: all)

    def save_model(self, request, obj, form, change):
        self.assign_tenant(request, obj)
        membership = service_membership(request)
        if change and self.update_service is not None:
            data = _form_data(form, self.service_fields, changed_only=True)
            call_service(self.update_service, request, membership=membership, data=data, **{self.entity_kwarg: obj})
        elif not change and self.create_service is not None:
            data = _form_data(form, self.service_fields, changed_only=False)
            created = self.call_create(request, membership, data)
            obj.pk = created.pk
            obj._state.adding = False
        else:
            super().save_model(request, obj, form, change)

    def call_create(self, request, membership, data):
        return call_service(self.create_service, request, membership=membership, data=data)


@admin.register(Branch)
class BranchAdmin(ServiceAdmin):
    list_display = ["code", "name", "city", "region", "is_active"]
    list_filter = ["is_active", "region"]
    search_fields = ["code", "name", "city"]
    create_service = staticmethod(services.branch_create)
    update_service = staticmethod(services.branch_update)
    entity_kwarg = "branch"


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    list_display = ["code", "name", "family", "category", "currency", "is_active"]
    list_filter = ["category", "family", "currency", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["category"]
    create_service = staticmethod(services.product_create)
    update_service = staticmethod(services.product_update)
    entity_kwarg = "product"


class ChannelConsentInline(TenantInlineMixin, admin.TabularInline):
    model = ChannelConsent
    fields = ["channel", "opted_in", "source", "recorded_at"]
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    list_display = [
        "display_name",
        "identification_type",
        "identification_number",
        "branch",
        "owner",
        "lifecycle_status",
    ]
    list_filter = ["lifecycle_status", "kind", "branch", ("owner", TenantMemberListFilter)]
    search_fields = ["^search_name", "=identification_number", "=external_id"]
    list_select_related = ["branch", "owner"]
    inlines = [ChannelConsentInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "kind",
                    "identification_type",
                    "identification_number",
                    "external_id",
                    "lifecycle_status",
                    "churn_reason",
                    "churned_at",
                ]
            },
        ),
        (_("Nombre"), {"fields": ["first_name", "last_name", "legal_name"]}),
        (_("Contacto"), {"fields": ["mobile", "email", "address", "city", "preferred_channel"]}),
        (
            _("Perfil"),
            {
                "fields": [
                    "birth_date",
                    "civil_status",
                    "stratum",
                    "children",
                    "education",
                    "occupation",
                    "income_band",
                    "economic_sector",
                    "equity",
                    "employees",
                ]
            },
        ),
        (_("Cartera"), {"fields": ["branch", "owner", "created_at", "updated_at"]}),
    ]
    create_service = staticmethod(services.customer_create)
    update_service = staticmethod(services.customer_update)
    entity_kwarg = "customer"
    service_fields = services.CUSTOMER_EDITABLE_FIELDS

    def delete_model(self, request, obj):
        call_service(services.customer_delete, request, membership=service_membership(request), customer=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for customer in queryset.order_by("pk"):
                self.delete_model(request, customer)


@admin.register(ChannelConsent)
class ChannelConsentAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["customer", "channel", "opted_in", "source", "recorded_at"]
    list_filter = ["channel", "opted_in", "source"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]

    def save_model(self, request, obj, form, change):
        self.assign_tenant(request, obj)
        data = form.cleaned_data
        saved = call_service(
            services.channel_consent_set,
            request,
            customer=data["customer"],
            channel=data["channel"],
            opted_in=data["opted_in"],
            source=data["source"],
            recorded_at=data.get("recorded_at"),
        )
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(Holding)
class HoldingAdmin(ServiceAdmin):
    list_display = ["account_number", "customer", "product", "currency", "balance", "days_past_due", "status"]
    list_filter = ["status", "product__category", "currency"]
    search_fields = ["=account_number"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "product"]
    create_service = staticmethod(services.holding_create)
    update_service = staticmethod(services.holding_update)
    entity_kwarg = "holding"


@admin.register(MonthlyAccountSummary)
class MonthlyAccountSummaryAdmin(ServiceAdmin):
    list_display = ["holding", "month", "average_balance", "transactions", "fees", "revenue"]
    list_filter = ["month"]
    raw_id_fields = ["holding"]
    exclude = ("tenant", "customer")  # the customer is the holding's
    list_select_related = ["holding"]

    create_service = staticmethod(services.monthly_summary_record)


@admin.register(Payment)
class PaymentAdmin(ServiceAdmin):
    list_display = ["holding", "due_date", "amount_due", "paid_on", "amount_paid"]
    list_filter = ["due_date", "paid_on"]
    raw_id_fields = ["holding"]
    exclude = ("tenant", "customer")  # the customer is the holding's
    list_select_related = ["holding"]
    create_service = staticmethod(services.payment_record)
    update_service = staticmethod(services.payment_update)
    entity_kwarg = "payment"


@admin.register(Interaction)
class InteractionAdmin(ServiceAdmin):
    list_display = ["occurred_at", "customer", "interaction_type", "channel", "direction", "outcome", "user"]
    list_filter = ["interaction_type", "channel", "direction", "outcome", ("user", TenantMemberListFilter)]
    raw_id_fields = ["customer"]
    list_select_related = ["customer", "user"]
    date_hierarchy = "occurred_at"
    update_service = staticmethod(services.interaction_update)
    entity_kwarg = "interaction"

    create_service = staticmethod(services.interaction_log)

    def call_create(self, request, membership, data):
        customer = data.pop("customer")
        return call_service(self.create_service, request, membership=membership, customer=customer, data=data)

    def delete_model(self, request, obj):
        call_service(services.interaction_delete, request, membership=service_membership(request), interaction=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for interaction in queryset.order_by("pk"):
                self.delete_model(request, interaction)
