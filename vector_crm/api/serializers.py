from rest_framework import serializers

from vector_crm.models import Job, WebhookDelivery, WebhookEndpoint


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    is_finished = serializers.BooleanField(read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "total",
            "done",
            "percent",
            "is_finished",
            "counts",
            "params",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]
        read_only_fields = fields


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as the API shows it: never the signing secret."""

    event_types = serializers.ListField(child=serializers.ChoiceField(choices=[]), min_length=1)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def __init__(self, *args, **kwargs):
        from vector_crm.outbox import EVENT_TYPES

        super().__init__(*args, **kwargs)
        # Apps register their event types in AppConfig.ready: read the registry now.
        self.fields["event_types"].child.choices = list(EVENT_TYPES)


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    """The answer to a creation or a secret rotation: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="HMAC-SHA256 signing secret, shown only this once.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One line of an endpoint's delivery log."""

    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "occurred_at",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "response_excerpt",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class RedeliveredSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Deliveries queued again (same event ids).")
