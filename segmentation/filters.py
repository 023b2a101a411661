"""FilterSets of VALOR, shared by the API and the HTML lists."""

from __future__ import annotations

import django_filters as filters

from segmentation.choices import SegmentKind, Tier
from segmentation.models import CustomerScore, Segment


class SegmentFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SegmentKind.choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = Segment
        fields = ["kind", "is_active"]


class CustomerScoreFilterSet(filters.FilterSet):
    tier = filters.MultipleChoiceFilter(choices=Tier.choices)
    key_account = filters.BooleanFilter()
    customer = filters.NumberFilter(field_name="customer_id")
    cluster = filters.NumberFilter(field_name="cluster_id")
    min_gap = filters.NumberFilter(field_name="gap", lookup_expr="gte")

    class Meta:
        model = CustomerScore
        fields = ["tier", "key_account", "customer", "cluster", "min_gap"]
