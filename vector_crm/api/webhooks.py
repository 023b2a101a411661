"""Webhook endpoints and their delivery log (``/api/v1/webhooks/``).

Every write is one call to ``vector_crm.services`` (audited); the signing secret appears
only in the answers to a creation and a rotation.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from vector_crm import selectors, services
from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.filters import WebhookDeliveryFilterSet
from vector_crm.api.serializers import (
    RedeliveredSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)
from vector_crm.models import WebhookDelivery, WebhookEndpoint

MANAGE = services.WEBHOOKS_CAPABILITY


class WebhookViewSetBase(TenantScopedViewSet):
    lookup_value_regex = r"\d+"
    permission_family = "webhooks"

    def service_kwargs(self) -> dict:
        return {"actor": self.actor, "membership": self.membership}


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    WebhookViewSetBase,
):
    """Receivers of the institution's domain events, signed with HMAC-SHA256."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointSerializer
    action_capabilities = {
        name: MANAGE
        for name in ("create", "update", "partial_update", "destroy", "rotate_secret", "send_test", "redeliver_failed")
    }

    def scoped_queryset(self):
        return selectors.webhook_endpoint_list()

    def _secret_response(self, endpoint, secret: str, status_code: int) -> Response:
        endpoint.secret = secret
        response = Response(WebhookEndpointSecretSerializer(endpoint).data, status=status_code)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(responses={201: WebhookEndpointSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(**self.service_kwargs(), **serializer.validated_data)
        return self._secret_response(endpoint, secret, status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.webhook_endpoint_update(
            **self.service_kwargs(), endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.webhook_endpoint_delete(**self.service_kwargs(), endpoint=instance)

    @extend_schema(request=None, responses={200: WebhookEndpointSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret", filter_backends=[])
    def rotate_secret(self, request, pk=None):
        """A new signing secret, shown in this answer only."""
        endpoint, secret = services.webhook_endpoint_rotate_secret(**self.service_kwargs(), endpoint=self.get_object())
        return self._secret_response(endpoint, secret, status.HTTP_200_OK)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path="test", filter_backends=[])
    def send_test(self, request, pk=None):
        """Queue a ``webhook.test`` event to this endpoint; its delivery is in the log."""
        delivery = services.webhook_send_test(**self.service_kwargs(), endpoint=self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RedeliveredSerializer})
    @action(detail=True, methods=["post"], url_path="redeliver-failed", filter_backends=[])
    def redeliver_failed(self, request, pk=None):
        """Send every failed or dead delivery of the endpoint again, with the same event ids."""
        queued = services.webhook_redeliver_failed(**self.service_kwargs(), endpoint=self.get_object())
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WebhookViewSetBase):
    """The delivery log, newest first; filter by ``endpoint``, ``status``, ``event_type``."""

    model = WebhookDelivery
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    action_capabilities = {"redeliver": MANAGE}

    def scoped_queryset(self):
        return selectors.webhook_delivery_list()

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def redeliver(self, request, pk=None):
        """Send this delivery again with the same event id."""
        delivery = services.webhook_redeliver(**self.service_kwargs(), delivery=self.get_object())
        delivery = selectors.access_webhook_delivery(delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
