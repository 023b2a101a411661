"""What of the customer model can be imported from files (``vector_crm.imports``).

Registered from ``CustomersConfig.ready``: customers, accounts (holdings), payments and
monthly summaries, each one sink of ``customers.bulk`` (the same validation and upsert as
the bulk API), and "portfolio": one row per customer with its account and up to
``PAYMENT_GROUPS`` instalments. The real-data presets live in ``customers.import_presets``.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
from django.utils.translation import gettext_lazy as _

from customers import bulk, import_fast
from vector_crm.imports.registry import (
    Batch,
    Importable,
    ImportContext,
    Sink,
    Target,
    records_from_frame,
    register_importable,
)

PAYMENT_GROUPS = 6


def _validate(resource: str, raw, *, region=None):
    return bulk.validate_records(resource, raw, region=region)


def _upsert(resource: str, **kwargs):
    return bulk.upsert_records(resource, **kwargs)


def bulk_sink(resource: str, *capabilities: str) -> Sink:
    """A sink writing through ``customers.bulk`` (any resource registered there, other apps' too)."""
    return Sink(resource, partial(_validate, resource), partial(_upsert, resource), capabilities)


CUSTOMER_SINK = bulk_sink("customers", "customers.create", "customers.change")
HOLDING_SINK = bulk_sink("holdings", "holdings.change")
PAYMENT_SINK = bulk_sink("payments", "payments.change")
SUMMARY_SINK = bulk_sink("monthly_summaries", "holdings.change")

CUSTOMER_TARGETS = (
    Target("external_id", _("Id del cliente en el core"), required=True, aliases=("id_cliente", "codigo_cliente")),
    Target("kind", _("Tipo de cliente (person/company)"), aliases=("tipo_cliente",)),
    Target(
        "identification_type",
        _("Tipo de documento"),
        required=True,
        aliases=("tipo_documento", "tipo_identificacion", "tipo_id"),
    ),
    Target(
        "identification_number",
        _("Número de documento"),
        required=True,
        aliases=("documento", "numero_documento", "identificacion", "cedula", "nit"),
    ),
    Target("first_name", _("Nombres"), aliases=("nombre", "nombres")),
    Target("last_name", _("Apellidos"), aliases=("apellido", "apellidos")),
    Target("legal_name", _("Razón social"), aliases=("razon_social",)),
    Target("mobile", _("Celular"), aliases=("celular", "movil", "telefono")),
    Target("email", _("Correo electrónico"), aliases=("correo", "e_mail")),
    Target("address", _("Dirección"), aliases=("direccion",)),
    Target("city", _("Ciudad"), aliases=("ciudad",)),
    Target("birth_date", _("Fecha de nacimiento"), kind="date", aliases=("fecha_nacimiento",)),
    Target("lifecycle_status", _("Estado del cliente"), aliases=("estado_cliente",)),
    Target("civil_status", _("Estado civil"), aliases=("estado_civil",)),
    Target("children", _("Hijos"), kind="integer", aliases=("hijos", "numero_hijos")),
    Target("education", _("Nivel educativo"), aliases=("educacion", "nivel_educativo")),
    Target("occupation", _("Ocupación"), aliases=("ocupacion", "profesion")),
    Target("income_band", _("Rango de ingresos"), aliases=("rango_ingresos",)),
    Target("stratum", _("Estrato"), kind="integer", aliases=("estrato",)),
    Target("economic_sector", _("Sector económico"), aliases=("sector_economico",)),
    Target("equity", _("Patrimonio"), kind="decimal", aliases=("patrimonio",)),
    Target("employees", _("Empleados"), kind="integer", aliases=("empleados", "numero_empleados")),
)


def _account_targets(customer_key_required: bool) -> tuple[Target, ...]:
    return (
        Target(
            "account_number", _("Número de cuenta"), required=True, aliases=("cuenta", "numero_cuenta", "no_cuenta")
        ),
        *(
            (Target("customer_external_id", _("Id del cliente en el core"), required=True, aliases=("id_cliente",)),)
            if customer_key_required
            else ()
        ),
        Target("product_code", _("Código de producto"), required=True, aliases=("producto", "codigo_producto")),
        Target("currency", _("Moneda"), required=True, aliases=("moneda",)),
        Target("opened_on", _("Fecha de apertura"), kind="date", required=True, aliases=("fecha_apertura",)),
        Target("maturity_date", _("Fecha de vencimiento"), kind="date", aliases=("fecha_vencimiento",)),
        Target("balance", _("Saldo"), kind="decimal", aliases=("saldo",)),
        Target("credit_limit", _("Cupo"), kind="decimal", aliases=("cupo", "limite")),
        Target("interest_rate", _("Tasa de interés"), kind="decimal", aliases=("tasa",)),
        Target("status", _("Estado de la cuenta"), aliases=("estado_cuenta",)),
        Target("days_past_due", _("Días de mora"), kind="integer", aliases=("dias_mora",)),
        Target("next_due_date", _("Próximo vencimiento"), kind="date", aliases=("proximo_vencimiento",)),
        Target("next_due_amount", _("Valor próxima cuota"), kind="decimal", aliases=("valor_cuota",)),
    )


HOLDING_TARGETS = _account_targets(customer_key_required=True)
PAYMENT_TARGETS = (
    Target("account_number", _("Número de cuenta"), required=True, aliases=("cuenta", "numero_cuenta")),
    Target("due_date", _("Fecha de vencimiento"), kind="date", required=True, aliases=("fecha_vencimiento",)),
    Target("amount_due", _("Valor de la cuota"), kind="decimal", required=True, aliases=("valor_cuota",)),
    Target("paid_on", _("Fecha de pago"), kind="date", aliases=("fecha_pago",)),
    Target("amount_paid", _("Valor pagado"), kind="decimal", aliases=("valor_pagado",)),
)
SUMMARY_TARGETS = (
    Target("account_number", _("Número de cuenta"), required=True, aliases=("cuenta", "numero_cuenta")),
    Target("month", _("Mes (primer día)"), kind="date", required=True, aliases=("mes",)),
    Target("average_balance", _("Saldo promedio"), kind="decimal", aliases=("saldo_promedio",)),
    Target("transactions", _("Transacciones"), kind="integer", aliases=("transacciones",)),
    Target("fees", _("Comisiones"), kind="decimal", aliases=("comisiones",)),
    Target("revenue", _("Ingresos"), kind="decimal", aliases=("ingresos",)),
)

# "portfolio": the account's status target is renamed so it cannot clash with the customer's.
_PORTFOLIO_ACCOUNT_TARGETS = tuple(
    Target("account_status", t.label, t.kind, t.required, t.aliases) if t.name == "status" else t
    for t in _account_targets(customer_key_required=False)
)


def _payment_group_targets(k: int) -> tuple[Target, ...]:
    return (
        Target(f"due_date_{k}", _("Cuota %(k)d: vencimiento") % {"k": k}, kind="date"),
        Target(f"amount_due_{k}", _("Cuota %(k)d: valor") % {"k": k}, kind="decimal"),
        Target(f"paid_on_{k}", _("Cuota %(k)d: fecha de pago") % {"k": k}, kind="date"),
        Target(f"amount_paid_{k}", _("Cuota %(k)d: valor pagado") % {"k": k}, kind="decimal"),
    )


PORTFOLIO_TARGETS = (
    *CUSTOMER_TARGETS,
    *_PORTFOLIO_ACCOUNT_TARGETS,
    *(target for k in range(1, PAYMENT_GROUPS + 1) for target in _payment_group_targets(k)),
)


def present(frame: pd.DataFrame, targets) -> list[str]:
    return [t.name for t in targets if t.name in frame.columns]


def single_batch_builder(sink: str, targets):
    """The ``build`` of a one-resource importable: each row is one record of ``sink``."""

    def build(frame: pd.DataFrame, ctx: ImportContext) -> list[Batch]:
        return [Batch(sink, frame.index.tolist(), records_from_frame(frame, present(frame, targets)))]

    return build


def _payment_batches(frame: pd.DataFrame) -> list[Batch]:
    batches = []
    for k in range(1, PAYMENT_GROUPS + 1):
        due = f"due_date_{k}"
        if due not in frame.columns or "account_number" not in frame.columns:
            continue
        rows = frame[frame[due] != ""]
        rename = {due: "due_date", f"amount_due_{k}": "amount_due", f"paid_on_{k}": "paid_on"}
        rename[f"amount_paid_{k}"] = "amount_paid"
        columns = ["account_number", *(c for c in rename if c in rows.columns)]
        fields = {new: old for old, new in rename.items()}
        batches.append(Batch("payments", rows.index.tolist(), records_from_frame(rows, columns, rename), fields))
    return batches


def build_portfolio(frame: pd.DataFrame, ctx: ImportContext) -> list[Batch]:
    """Per row: the customer, its account (keyed by the customer's external id) and the
    instalments whose due date is filled."""
    rows = frame.index.tolist()
    customers = Batch("customers", rows, records_from_frame(frame, present(frame, CUSTOMER_TARGETS)))
    account_columns = [*present(frame, _PORTFOLIO_ACCOUNT_TARGETS), *present(frame, CUSTOMER_TARGETS[:1])]
    rename = {"external_id": "customer_external_id", "account_status": "status"}
    holdings = Batch(
        "holdings",
        rows,
        records_from_frame(frame, account_columns, rename),
        {"customer_external_id": "external_id", "status": "account_status"},
    )
    return [customers, holdings, *_payment_batches(frame)]


def register() -> None:
    register_importable(
        Importable(
            "customers",
            _("Clientes"),
            CUSTOMER_TARGETS,
            (CUSTOMER_SINK,),
            single_batch_builder("customers", CUSTOMER_TARGETS),
            description=_("Un cliente por fila, identificado por su id del core bancario."),
            unique_keys=(("external_id",),),
            chunk_writer=import_fast.CHUNK_WRITER,
        )
    )
    register_importable(
        Importable(
            "holdings",
            _("Cuentas"),
            HOLDING_TARGETS,
            (HOLDING_SINK,),
            single_batch_builder("holdings", HOLDING_TARGETS),
            description=_("Una cuenta por fila; el cliente y el producto deben existir."),
            unique_keys=(("account_number",),),
        )
    )
    register_importable(
        Importable(
            "payments",
            _("Pagos"),
            PAYMENT_TARGETS,
            (PAYMENT_SINK,),
            single_batch_builder("payments", PAYMENT_TARGETS),
            description=_("Una cuota por fila: cuenta, vencimiento, valor y pago."),
            unique_keys=(("account_number", "due_date"),),
        )
    )
    register_importable(
        Importable(
            "monthly_summaries",
            _("Resúmenes mensuales"),
            SUMMARY_TARGETS,
            (SUMMARY_SINK,),
            single_batch_builder("monthly_summaries", SUMMARY_TARGETS),
            description=_("Saldo promedio, transacciones, comisiones e ingresos por cuenta y mes."),
            unique_keys=(("account_number", "month"),),
        )
    )
    register_importable(
        Importable(
            "portfolio",
            _("Clientes con cuenta y pagos"),
            PORTFOLIO_TARGETS,
            (CUSTOMER_SINK, HOLDING_SINK, PAYMENT_SINK),
            build_portfolio,
            description=_("Una fila por cliente con su cuenta y hasta %(n)d cuotas.") % {"n": PAYMENT_GROUPS},
            # One row per account: a customer may own several rows' accounts, an account may not repeat.
            unique_keys=(("account_number",),),
        )
    )
    from customers import import_presets

    import_presets.register()
