"""Browser URLs of the file import (namespace ``imports``)."""

from django.urls import path

from vector_crm.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("<int:pk>/run/", views.run, name="run"),
    path("<int:pk>/report.csv", views.report, name="report"),
]
