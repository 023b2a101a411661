from django.urls import path

from segmentation import views

app_name = "segmentation"
urlpatterns = [
    path("", views.index, name="index"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("migration/", views.migration, name="migration"),
]
