"""Root URLconf: browser UI, admin, API v1 and its schema/docs (served locally)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include("vector_crm.api.urls")),
    path("", include("vector_crm.ui_urls")),
    path("customers/", include("customers.urls")),
    path("imports/", include("vector_crm.imports.urls")),
    path("cases/", include("cases.urls")),
    path("valor/", include("segmentation.urls")),
]

handler404 = "vector_crm.api.exceptions.not_found_handler"
