"""Readable descriptions of learned clusters from their traits, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FEATURE_LABELS = {
    "age": gettext_lazy("edad"),
    "income": gettext_lazy("rango de ingresos"),
    "stratum": gettext_lazy("estrato"),
    "life_stage": gettext_lazy("etapa del ciclo de vida familiar"),
    "log_equity": gettext_lazy("patrimonio"),
    "families": gettext_lazy("familias de productos"),
    "log_value": gettext_lazy("valor actual"),
    "log_balance": gettext_lazy("saldo promedio"),
    "balance_trend": gettext_lazy("tendencia del saldo"),
    "transactions": gettext_lazy("transacciones al mes"),
    "seasonality": gettext_lazy("estacionalidad de las transacciones"),
    "products": gettext_lazy("productos"),
    "asset_share": gettext_lazy("peso del crédito (activo) en sus saldos"),
    "digital_share": gettext_lazy("uso de canales digitales"),
    "satisfaction": gettext_lazy("satisfacción"),
}


def describe_trait(trait: dict) -> str:
    label = FEATURE_LABELS.get(trait["feature"], trait["feature"])
    if trait["direction"] == "high":
        return _("%(feature)s alto(a)") % {"feature": label}
    return _("%(feature)s bajo(a)") % {"feature": label}


def describe_traits(traits: list[dict]) -> str:
    """``"Edad alto(a); saldo promedio bajo(a)"``: what sets the cluster apart."""
    if not traits:
        return _("Sin rasgos distintivos")
    text = "; ".join(describe_trait(t) for t in traits)
    return text[:1].upper() + text[1:]
