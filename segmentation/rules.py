"""Rule-based segments: a saved list of conditions over customer attributes and scores.

A rule is ``{"field": <name>, "op": <op>, "value": <value>}``; a segment's rules are
ANDed. Fields come from ``FIELDS`` (profile attributes of the customer, its open products
and the scores of a run); ops are ``eq``, ``in``, ``gte`` and ``lte`` as each field
allows. ``rule_queryset`` turns them into one customer queryset, so the live count
preview, the materialisation of a run and the tests all use the same query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.choices import (
    CivilStatus,
    CustomerKind,
    EconomicSector,
    Education,
    IncomeBand,
    LifecycleStatus,
    ProductFamily,
)
from customers.models import Customer, Holding
from segmentation.choices import Tier
from vector_crm.errors import DomainError

OPEN_HOLDING_STATUSES = ("active", "dormant", "blocked")


@dataclass(frozen=True)
class RuleField:
    label: Any
    kind: str  # "choice", "number", "money", "bool", "id"
    source: str  # "customer", "age", "score", "product"
    lookup: str
    choices: tuple = ()

    @property
    def ops(self) -> tuple[str, ...]:
        if self.kind in ("number", "money"):
            return ("eq", "gte", "lte")
        if self.kind == "bool":
            return ("eq",)
        return ("eq", "in")


FIELDS: dict[str, RuleField] = {
    "kind": RuleField(gettext_lazy("Tipo de cliente"), "choice", "customer", "kind", tuple(CustomerKind.choices)),
    "lifecycle_status": RuleField(
        gettext_lazy("Estado"), "choice", "customer", "lifecycle_status", tuple(LifecycleStatus.choices)
    ),
    "income_band": RuleField(
        gettext_lazy("Rango de ingresos"), "choice", "customer", "income_band", tuple(IncomeBand.choices)
    ),
    "civil_status": RuleField(
        gettext_lazy("Estado civil"), "choice", "customer", "civil_status", tuple(CivilStatus.choices)
    ),
    "education": RuleField(
        gettext_lazy("Nivel educativo"), "choice", "customer", "education", tuple(Education.choices)
    ),
    "children": RuleField(gettext_lazy("Hijos"), "number", "customer", "children"),
    "economic_sector": RuleField(
        gettext_lazy("Sector económico"), "choice", "customer", "economic_sector", tuple(EconomicSector.choices)
    ),
    "stratum": RuleField(gettext_lazy("Estrato"), "number", "customer", "stratum"),
    "employees": RuleField(gettext_lazy("Empleados"), "number", "customer", "employees"),
    "branch": RuleField(gettext_lazy("Agencia"), "id", "customer", "branch_id"),
    "age": RuleField(gettext_lazy("Edad"), "number", "age", "birth_date"),
    "product_family": RuleField(
        gettext_lazy("Tiene producto"), "choice", "product", "product__family", tuple(ProductFamily.choices)
    ),
    "tier": RuleField(gettext_lazy("Nivel de prioridad"), "choice", "score", "tier", tuple(Tier.choices)),
    "key_account": RuleField(gettext_lazy("Cuenta clave"), "bool", "score", "key_account"),
    "current_value": RuleField(gettext_lazy("Valor actual"), "money", "score", "current_value"),
    "potential_value": RuleField(gettext_lazy("Valor potencial"), "money", "score", "potential_value"),
    "gap": RuleField(gettext_lazy("Brecha"), "money", "score", "gap"),
}
OP_LABELS = {"eq": gettext_lazy("es"), "in": gettext_lazy("es uno de"), "gte": "≥", "lte": "≤"}
MAX_RULES = 20


def _error(index: int, name: str, message: str) -> DomainError:
    return DomainError(message, field=f"rules[{index}].{name}")


def _clean_scalar(index: int, spec: RuleField, value: Any) -> Any:
    if spec.kind == "choice":
        allowed = {c[0] for c in spec.choices}
        if value not in allowed:
            raise _error(index, "value", _("«%(value)s» no es una opción válida.") % {"value": value})
        return value
    if spec.kind == "bool":
        if value in (True, "true", "1", 1):
            return True
        if value in (False, "false", "0", 0):
            return False
        raise _error(index, "value", _("Use verdadero o falso."))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _error(index, "value", _("«%(value)s» no es un número.") % {"value": value}) from None
    if not number.is_finite():
        raise _error(index, "value", _("«%(value)s» no es un número.") % {"value": value})
    if spec.kind in ("number", "id"):
        if number != number.to_integral_value() or number < 0:
            raise _error(index, "value", _("Use un número entero no negativo."))
        return int(number)
    return str(number.quantize(Decimal("0.01")))


def clean_rules(raw: Any) -> list[dict]:
    """Validated, normalised rules; ``DomainError`` names the bad rule and key."""
    if not isinstance(raw, list):
        raise DomainError(_("Las reglas deben ser una lista."), field="rules")
    if len(raw) > MAX_RULES:
        raise DomainError(_("Un segmento admite hasta %(n)d reglas.") % {"n": MAX_RULES}, field="rules")
    cleaned = []
    for index, rule in enumerate(raw):
        if not isinstance(rule, dict):
            raise _error(index, "field", _("Cada regla es un objeto con field, op y value."))
        name, op, value = rule.get("field"), rule.get("op", "eq"), rule.get("value")
        spec = FIELDS.get(name)
        if spec is None:
            raise _error(index, "field", _("Campo desconocido: «%(name)s».") % {"name": name})
        if op not in spec.ops:
            raise _error(index, "op", _("Operador no permitido para este campo: «%(op)s».") % {"op": op})
        if op == "in":
            if not isinstance(value, list) or not value:
                raise _error(index, "value", _("«es uno de» necesita una lista no vacía."))
            value = [_clean_scalar(index, spec, v) for v in value]
        else:
            value = _clean_scalar(index, spec, value)
        cleaned.append({"field": name, "op": op, "value": value})
    return cleaned


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age_q(op: str, age: int, as_of: dt.date) -> Q:
    # age >= n  <=>  born on or before as_of - n years; age <= n  <=>  born after as_of - (n+1) years
    oldest_birth = _years_before(as_of, age + 1)
    youngest_birth = _years_before(as_of, age)
    if op == "gte":
        return Q(birth_date__lte=youngest_birth)
    if op == "lte":
        return Q(birth_date__gt=oldest_birth)
    return Q(birth_date__lte=youngest_birth, birth_date__gt=oldest_birth)


def _lookup_q(lookup: str, op: str, value: Any) -> Q:
    suffix = {"eq": "", "in": "__in", "gte": "__gte", "lte": "__lte"}[op]
    return Q(**{f"{lookup}{suffix}": value})


def rule_queryset(rules: list[dict], *, run_id: int | None, as_of: dt.date) -> QuerySet[Customer]:
    """The current tenant's customers matching every rule (scores of run ``run_id``)."""
    customer_q = Q()
    score_q = Q()
    needs_score = False
    queryset = Customer.objects.all()
    for rule in rules:
        spec = FIELDS[rule["field"]]
        op, value = rule["op"], rule["value"]
        if spec.source == "customer":
            customer_q &= _lookup_q(spec.lookup, op, value)
        elif spec.source == "age":
            customer_q &= _age_q(op, value, as_of)
        elif spec.source == "product":
            holders = Holding.objects.filter(_lookup_q(spec.lookup, op, value), status__in=OPEN_HOLDING_STATUSES)
            customer_q &= Q(pk__in=holders.values("customer_id"))
        else:
            needs_score = True
            score_q &= _lookup_q(spec.lookup, op, value)
    if needs_score:
        from segmentation.models import CustomerScore

        if run_id is None:
            return queryset.none()
        scored = CustomerScore.objects.filter(score_q, run_id=run_id)
        customer_q &= Q(pk__in=scored.values("customer_id"))
    return queryset.filter(customer_q)


def describe_rule(rule: dict) -> str:
    """A human reading of one rule in the active language."""
    spec = FIELDS.get(rule.get("field"))
    if spec is None:
        return str(rule)
    labels = dict(spec.choices)
    values = rule["value"] if isinstance(rule["value"], list) else [rule["value"]]
    shown = ", ".join(str(labels.get(v, v)) for v in values)
    if spec.kind == "bool":
        shown = _("sí") if rule["value"] else _("no")
    return f"{spec.label} {OP_LABELS[rule['op']]} {shown}"
