"""Browser UI of the platform: sign-in, home, institution switch, jobs, API credentials."""

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
]
