"""API v1: one router for every app's viewsets."""

from rest_framework.routers import DefaultRouter

from cases.api.urls import register as register_cases
from customers.api.urls import register as register_customers
from segmentation.api.views import register as register_segmentation
from vector_crm.api.views import JobViewSet
from vector_crm.api.webhooks import WebhookDeliveryViewSet, WebhookEndpointViewSet
from vector_crm.imports.api import FileImportViewSet

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("imports", FileImportViewSet, basename="file-import")
register_customers(router)
# Deliveries first: "webhooks/deliveries/" is not an endpoint id (ids are digits anyway).
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook-endpoint")
register_cases(router)
register_segmentation(router)

urlpatterns = router.urls
