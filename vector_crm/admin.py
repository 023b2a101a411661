"""Django admin, tenant-aware.

``TenantAdminMixin`` is the base of every admin of a tenant-owned model (here and in the
apps): the changelist and every lookup run in the request's tenant (the scoped default
manager does it, and the queryset is filtered explicitly too), foreign-key choices and
list filters offer only the tenant's rows and members, new rows get the tenant, and only
staff whose membership has ``admin.access`` (or superusers acting in a tenant) get in.

Platform models: a superuser manages every institution and user; a tenant admin sees
their own institution, and the users that belong only to it.
"""

from __future__ import annotations

import auditlog.admin as auditlog_admin  # registers the log entry admin that we replace below
from auditlog.filters import ResourceTypeFilter
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from vector_crm import services
from vector_crm.errors import NotFound, PermissionDeniedError
from vector_crm.models import ApiCredential, AuditLogEntry, FileImport, Job, Membership, Team, Tenant, User
from vector_crm.roles import ALL_SCOPES, Role
from vector_crm.tenancy import TenantModel, platform_context

admin.site.site_header = _("VECTOR CRM · Administración")
admin.site.site_title = _("VECTOR CRM")
admin.site.index_title = _("Administración de la entidad")


def has_tenant_admin_access(request) -> bool:
    """Staff acting in a tenant whose role grants ``admin.access``, or a superuser in a tenant."""
    user = request.user
    if not (user.is_active and user.is_staff) or getattr(request, "tenant", None) is None:
        return False
    if user.is_superuser:
        return True
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has("admin.access")


def service_membership(request):
    """The membership services check permissions against; superusers act unrestricted."""
    return None if request.user.is_superuser else request.membership


def call_service(service, request, **kwargs):
    """Run a service as the admin user, mapping domain errors to HTTP answers."""
    try:
        return service(actor=request.user, **kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc


def tenant_users(tenant_id: int):
    """Users with an active membership in the tenant (the only users a tenant may reference)."""
    member_ids = Membership.objects.for_tenant(tenant_id).filter(is_active=True).values("user_id")
    return User.objects.filter(pk__in=member_ids).order_by("username")


class TenantMemberListFilter(RelatedFieldListFilter):
    """A user list filter (owner, author) offering only the tenant's members."""

    def field_choices(self, field, request, model_admin):
        return [(user.pk, str(user)) for user in tenant_users(request.tenant.pk)]


class TenantFieldsMixin:
    """Foreign-key and many-to-many choices limited to the request's tenant."""

    def _limit_queryset(self, db_field, request, kwargs):
        related = db_field.related_model
        tenant = getattr(request, "tenant", None)
        if issubclass(related, TenantModel):
            kwargs["queryset"] = related.unscoped.none() if tenant is None else related.objects.for_tenant(tenant.pk)
        elif related is User and not (tenant is None and request.user.is_superuser):
            kwargs["queryset"] = User.objects.none() if tenant is None else tenant_users(tenant.pk)
        elif related is Tenant and tenant is not None and not request.user.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(pk=tenant.pk)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._limit_queryset(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._limit_queryset(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TenantAdminMixin(TenantFieldsMixin):
    """Base of every ModelAdmin of a tenant-owned model (see the module docstring)."""

    exclude: tuple[str, ...] = ("tenant",)
    show_full_result_count = False  # one COUNT less on large tenant tables

    def has_module_permission(self, request):
        return has_tenant_admin_access(request)

    def has_view_permission(self, request, obj=None):
        return has_tenant_admin_access(request) and self._in_tenant(request, obj)

    def has_add_permission(self, request, *args):
        return has_tenant_admin_access(request)

    def has_change_permission(self, request, obj=None):
        return has_tenant_admin_access(request) and self._in_tenant(request, obj)

    def has_delete_permission(self, request, obj=None):
        return has_tenant_admin_access(request) and self._in_tenant(request, obj)

    @staticmethod
    def _in_tenant(request, obj) -> bool:
        return obj is None or getattr(obj, "tenant_id", None) == request.tenant.pk

    def get_queryset(self, request):
        if getattr(request, "tenant", None) is None:
            raise PermissionDenied
        # The scoped manager already filters; the explicit filter is defence in depth.
        return super().get_queryset(request).filter(tenant_id=request.tenant.pk)

    def save_model(self, request, obj, form, change):
        self.assign_tenant(request, obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            if inline_form.instance is not None and hasattr(inline_form.instance, "tenant_id"):
                self.assign_tenant(request, inline_form.instance)
        super().save_formset(request, form, formset, change)

    @staticmethod
    def assign_tenant(request, obj) -> None:
        if obj.tenant_id is None:
            obj.tenant = request.tenant
        elif obj.tenant_id != request.tenant.pk:
            raise PermissionDenied


class TenantInlineMixin(TenantFieldsMixin):
    """Inline of a tenant-owned model: same rules as ``TenantAdminMixin``."""

    exclude: tuple[str, ...] = ("tenant",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant_id=request.tenant.pk)

    def has_view_permission(self, request, obj=None):
        return has_tenant_admin_access(request)

    def has_add_permission(self, request, obj=None):
        return has_tenant_admin_access(request)

    def has_change_permission(self, request, obj=None):
        return has_tenant_admin_access(request)

    def has_delete_permission(self, request, obj=None):
        return has_tenant_admin_access(request)


# --- Platform models ------------------------------------------------------------------


class ReadOnlyAdminMixin(TenantAdminMixin):
    """A tenant model shown in the admin but written only by its services and jobs."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Superusers manage every institution; a tenant admin edits their own settings."""

    list_display = ["name", "slug", "country", "currency", "timezone", "locale", "is_active"]
    list_filter = ["country", "is_active"]
    search_fields = ["name", "slug"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active"]}),
        (_("Localización"), {"fields": ["country", "currency", "timezone", "locale", "holiday_country"]}),
        (_("Parámetros"), {"fields": ["settings", "import_max_bytes"]}),
    ]

    def _is_tenant_admin(self, request, obj=None) -> bool:
        if not has_tenant_admin_access(request):
            return False
        return obj is None or obj.pk == request.tenant.pk

    def has_module_permission(self, request):
        return request.user.is_superuser or self._is_tenant_admin(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or self._is_tenant_admin(request, obj)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or self._is_tenant_admin(request, obj)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=request.tenant.pk) if getattr(request, "tenant", None) else queryset.none()

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        return ("slug", "is_active", "country", "currency")


class MembershipInline(TenantInlineMixin, admin.TabularInline):
    """The user's role in the current institution (one membership per institution)."""

    model = Membership
    fields = ["role", "branch", "team", "is_active"]
    extra = 1
    max_num = 1
    verbose_name = _("membresía en esta entidad")
    verbose_name_plural = _("membresía en esta entidad")

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and Membership.objects.filter(user=obj).exists() else 1


@admin.register(User)
class TenantUserAdmin(TenantFieldsMixin, UserAdmin):
    """Users of the current institution; superusers see everyone.

    A tenant admin cannot touch superusers or users who also belong to another
    institution (a password or staff change would reach into that institution), cannot
    grant superuser status, and deactivates memberships instead of deleting users. A user
    added here joins the current institution (as advisor unless the inline says otherwise).
    """

    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_active"]
    tenant_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Datos personales"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Acceso"), {"fields": ["is_active", "is_staff", "last_login", "date_joined"]}),
    ]

    def has_module_permission(self, request):
        return request.user.is_superuser or has_tenant_admin_access(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or has_tenant_admin_access(request)

    def has_add_permission(self, request):
        return has_tenant_admin_access(request) or request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not has_tenant_admin_access(request):
            return False
        return obj is None or not (obj.is_superuser or self._belongs_elsewhere(request, obj))

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @staticmethod
    def _belongs_elsewhere(request, user) -> bool:
        with platform_context():  # deciding across tenants is a platform question
            return Membership.unscoped.filter(user=user).exclude(tenant_id=request.tenant.pk).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if getattr(request, "tenant", None) is None:
            return queryset.none()
        member_ids = Membership.objects.for_tenant(request.tenant.pk).values("user_id")
        return queryset.filter(pk__in=member_ids)

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.tenant_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ("last_login", "date_joined") if obj is not None and not request.user.is_superuser else ()

    def get_inline_instances(self, request, obj=None):
        if getattr(request, "tenant", None) is None:
            return []
        return super().get_inline_instances(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not change and not Membership.objects.filter(user=form.instance).exists():
            Membership.objects.create(tenant=tenant, user=form.instance, role=Role.ADVISOR)


@admin.register(Membership)
class MembershipAdmin(TenantAdminMixin, admin.ModelAdmin):
    """Roles in this institution. New members are added from Users (they join the tenant)."""

    list_display = ["user", "role", "branch", "team", "is_active", "created_at"]
    list_filter = ["role", "is_active", "branch", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "branch", "team"]
    fields = ["user", "role", "branch", "team", "is_active"]
    readonly_fields = ["user"]

    def has_add_permission(self, request, *args):
        return False


@admin.register(Team)
class TeamAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "branch"]
    list_filter = ["branch"]
    search_fields = ["name"]
    list_select_related = ["branch"]


class ApiCredentialForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Alcances"), choices=[(scope, scope) for scope in ALL_SCOPES], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiCredential
        fields = ["name", "scopes"]


@admin.register(ApiCredential)
class ApiCredentialAdmin(TenantAdminMixin, admin.ModelAdmin):
    """API keys for core banking. The full key is shown once, on the page after creating
    it, and never stored; afterwards only its prefix is known. Keys are revoked, not
    deleted, so the audit trail keeps pointing at them."""

    form = ApiCredentialForm
    list_display = ["name", "prefix", "scopes_display", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @admin.display(description=_("Alcances"))
    def scopes_display(self, obj):
        return ", ".join(obj.scopes)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return ["name", "scopes"] if obj is None else ["name", "scopes", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The same service as the settings page: scopes checked, audited, key shown once.
        credential, request._new_api_key = call_service(
            services.api_credential_create,
            request,
            membership=service_membership(request),
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
        )
        obj.__dict__.update(credential.__dict__)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_new_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "credential": obj,
            "api_key": key,
            "title": _("Clave de API creada"),
        }
        response = TemplateResponse(request, "admin/vector_crm/apicredential/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revocar las claves seleccionadas"))
    def revoke(self, request, queryset):
        revoked = 0
        for credential in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            call_service(
                services.api_credential_revoke, request, membership=service_membership(request), credential=credential
            )
            revoked += 1
        self.message_user(request, _("%(count)d claves revocadas.") % {"count": revoked}, messages.SUCCESS)


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Background jobs, read-only: they are started by the screens and schedules that own them."""

    list_display = ["pk", "kind", "status", "done", "total", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "kind",
        "status",
        "total",
        "done",
        "counts",
        "params",
        "result",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]


@admin.register(FileImport)
class FileImportAdmin(TenantAdminMixin, admin.ModelAdmin):
    """File imports, read-only: they are driven from the import screens (/imports/) or the API."""

    list_display = ["pk", "original_name", "importable", "preset", "status", "total_rows", "issue_count", "created_at"]
    list_filter = ["status", "importable"]
    readonly_fields = [
        "importable",
        "preset",
        "original_name",
        "size",
        "file_format",
        "encoding",
        "delimiter",
        "mapping",
        "constants",
        "status",
        "total_rows",
        "valid_rows",
        "invalid_rows",
        "issue_count",
        "counts",
        "error",
        "created_by",
        "created_at",
    ]
    exclude = ("tenant", "headers", "sample", "options", "stored_name", "job", "api_credential")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(AuditLogEntry)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, auditlog_admin.LogEntryAdmin):
    """The audit trail of the institution: append-only, so read-only here."""

    list_filter = ["action", ResourceTypeFilter, ("actor", TenantMemberListFilter)]
