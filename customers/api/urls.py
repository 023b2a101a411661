"""Routes of the customers app on the shared v1 router."""

from customers.api.bulk import (
    CustomerBulkViewSet,
    HoldingBulkViewSet,
    MonthlySummaryBulkViewSet,
    PaymentBulkViewSet,
)
from customers.api.views import (
    BranchViewSet,
    CustomerViewSet,
    HoldingViewSet,
    InteractionViewSet,
    MonthlyAccountSummaryViewSet,
    PaymentViewSet,
    ProductViewSet,
)


def register(router) -> None:
    """Register the customers app's viewsets on the v1 router."""
    router.register("customers", CustomerViewSet, basename="customer")
    router.register("branches", BranchViewSet, basename="branch")
    router.register("products", ProductViewSet, basename="product")
    router.register("holdings", HoldingViewSet, basename="holding")
    router.register("monthly-summaries", MonthlyAccountSummaryViewSet, basename="monthly-summary")
    router.register("payments", PaymentViewSet, basename="payment")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("bulk/customers", CustomerBulkViewSet, basename="bulk-customer")
    router.register("bulk/holdings", HoldingBulkViewSet, basename="bulk-holding")
    router.register("bulk/monthly-summaries", MonthlySummaryBulkViewSet, basename="bulk-monthly-summary")
    router.register("bulk/payments", PaymentBulkViewSet, basename="bulk-payment")
