"""API v1: one router for every app's viewsets."""

from rest_framework.routers import DefaultRouter

from cases.api.urls import register as register_cases
from customers.api.urls import register as register_customers
from vector_crm.api.views import JobViewSet

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
register_customers(router)
register_cases(router)

urlpatterns = router.urls
