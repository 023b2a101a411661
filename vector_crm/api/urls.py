"""API v1: one router for every app's viewsets."""

from rest_framework.routers import DefaultRouter

from customers.api.urls import register as register_customers
from segmentation.api.views import register as register_segmentation
from vector_crm.api.views import JobViewSet

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
register_customers(router)
register_segmentation(router)

urlpatterns = router.urls
