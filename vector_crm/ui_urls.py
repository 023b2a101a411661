"""Browser UI of the platform: sign-in, home, institution switch, jobs, API credentials, webhooks."""

from django.contrib.auth import views as auth_views
from django.urls import path

from vector_crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("no-membership/", views.no_membership, name="no_membership"),
    path("tenant/switch/", views.tenant_switch, name="tenant_switch"),
    path("stages/<slug:stage>/", views.coming_soon, name="coming_soon"),
    path("jobs/", views.job_list, name="job_list"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("settings/api-credentials/", views.api_credential_list, name="api_credential_list"),
    path("settings/api-credentials/<int:pk>/revoke/", views.api_credential_revoke, name="api_credential_revoke"),
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("settings/webhooks/<int:pk>/active/", views.webhook_set_active, name="webhook_set_active"),
    path("settings/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<int:pk>/test/", views.webhook_send_test, name="webhook_send_test"),
    path(
        "settings/webhooks/<int:pk>/redeliver-failed/", views.webhook_redeliver_failed, name="webhook_redeliver_failed"
    ),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.webhook_delivery_redeliver,
        name="webhook_delivery_redeliver",
    ),
]
