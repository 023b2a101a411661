"""Demo cases for ``manage.py seed_demo``: every demo institution gets a realistic set of
cases of the four families, so "my cases", the escalation board, the 360 panel and the
triage suggestion show something from the first login.

Per tenant (deterministic, set-based: one read of the staff and customers, clocks computed
with the pure ``cases.sla`` module, then a few ``bulk_create`` statements):

* open cases spread over the advisors (the first advisor of each team gets the most),
  some fresh, some **at risk** (past the warning share of their target) and some
  **breached** (past the resolution deadline: the minute sweep escalates them once it runs);
* closed cases with a resolution, the customer's confirmation and a satisfaction rating,
  among them enough closed complaints (PQRS) in several categories to train the triage
  classifier, which is trained at the end;
* threshold exceptions (pending and approved) and a restricted security case for the
  first team's supervisor.

Idempotent: a tenant that already has cases is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from cases import sla
from cases.choices import ApprovalStatus, Authority, CaseKind, EventKind, Status
from cases.models import Case, CaseEvent, CaseMilestone, CaseType, SlaPolicy
from cases.selectors import tenant_calendar
from cases.services import apply_policy_clocks, case_types_ensure_defaults, plan_next_deadline
from customers.models import Customer
from vector_crm.models import Membership
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

# Closed complaints per category: narrative templates ({product} and {amount} filled in).
COMPLAINTS: dict[str, list[str]] = {
    "Tarjeta de crédito": [
        "Me cobraron dos veces la misma compra con la tarjeta de crédito por {amount} y no me han devuelto el dinero.",
        "Aparece en el extracto de mi tarjeta de crédito una compra por {amount} que no reconozco.",
        "Subieron la tasa de interés de mi tarjeta de crédito sin avisarme y la cuota mínima aumentó.",
        "Me cobraron cuota de manejo de la tarjeta de crédito aunque me ofrecieron exonerarla el primer año.",
        "Pagué el total de la tarjeta de crédito antes de la fecha límite y aun así me cobraron intereses de mora.",
        "Bloquearon mi tarjeta de crédito en un viaje sin avisar y no pude pagar el hotel.",
    ],
    "Crédito de vivienda": [
        "El banco no aplicó el abono extraordinario de {amount} a capital de mi crédito hipotecario.",
        "El seguro de la hipoteca subió sin explicación y la cuota de vivienda aumentó.",
        "Solicité el paz y salvo del crédito de vivienda hace un mes y no me lo entregan.",
        "Me reportaron en mora la cuota del crédito hipotecario que pagué a tiempo en la agencia.",
        "No me han devuelto el saldo a favor tras cancelar la hipoteca de mi casa.",
    ],
    "Cuenta de ahorros": [
        "Me descontaron {amount} de la cuenta de ahorros por una comisión que nadie me explicó.",
        "El cajero no entregó el dinero pero el retiro de {amount} sí se debitó de mi cuenta de ahorros.",
        "Embargaron mi cuenta de ahorros por una deuda que no es mía.",
        "No puedo retirar de mi cuenta de ahorros: aparece bloqueada sin motivo.",
        "Cerraron mi cuenta de ahorros por inactividad y no me devuelven el saldo.",
    ],
    "Transferencias y pagos": [
        "Hice una transferencia de {amount} que no llegó al destinatario y tampoco regresó a mi cuenta.",
        "El pago de servicios por la banca en línea se debitó dos veces.",
        "La transferencia internacional lleva diez días retenida sin explicación.",
        "El pago programado de mi préstamo no se ejecutó y ahora me cobran mora.",
        "Me cobraron comisión por una transferencia que según la tarifa es gratuita.",
    ],
    "Atención y servicio": [
        "Esperé dos horas en la agencia y no me atendieron para actualizar mis datos.",
        "La línea telefónica me transfiere de un área a otra sin resolver mi solicitud.",
        "El asesor me ofreció un seguro que no pedí y lo cargaron a mi cuenta.",
        "La aplicación móvil falla cada vez que intento consultar mis movimientos.",
    ],
}
REQUESTS = [
    ("Cambio de dirección", "Actualizar la dirección de correspondencia del cliente."),
    ("Certificado", "Certificado bancario para trámite de visa."),
    ("Carta de crédito", "Carta de crédito de importación por {amount}."),
    ("Reexpedición de tarjeta", "Reexpedir la tarjeta débito por deterioro."),
]
EXCEPTIONS = [
    ("overdraft", "Sobregiro", "Sobregiro temporal para pago de nómina", Decimal("1.2")),
    ("preferential_rate", "Tasa preferencial", "Tasa preferencial en CDT por volumen", Decimal("0.9")),
    ("limit_increase", "Aumento de cupo", "Aumento de cupo de tarjeta de crédito", Decimal("1.8")),
]
SECURITY = [
    ("Fraude transaccional", "Compras no reconocidas en comercio en línea", "Cliente reporta compras no reconocidas."),
    ("Privacidad de datos", "Solicitud de supresión de datos personales", "El cliente pide suprimir sus datos."),
]
RESOLUTIONS = [
    "Se reversó el cobro y se informó al cliente.",
    "Se explicó la condición del producto y el cliente quedó conforme.",
    "Se corrigió el registro y se envió la constancia al cliente.",
    "Se escaló al área responsable, que aplicó el ajuste.",
]
CHANNELS = ["branch", "phone", "web", "app", "email", "whatsapp"]

OPEN_PER_ADVISOR = 3  # fresh open cases per advisor (the first advisor of a team: twice)
AT_RISK_PER_TEAM = 2
BREACHED_PER_TEAM = 2
CLOSED_COMPLAINTS_PER_CATEGORY = 6
CLOSED_REQUESTS = 6


def _amount(rng: random.Random) -> str:
    return f"${rng.randrange(50, 5000) * 1000:,}".replace(",", ".")


def _opened_for(
    rng: random.Random, cal: sla.BusinessCalendar, policy: SlaPolicy, now: dt.datetime, state: str
) -> dt.datetime:
    """An opening time that puts the resolution clock in ``state``: "fresh" (before the
    warning), "at_risk" (warned, not yet due) or "breached" (past due). Searched hour by hour
    backwards on the real calendar, so holidays and weekends are respected."""
    target = policy.resolution_minutes * 60
    warning = target * policy.warning_percent / 100
    wanted = {
        "fresh": (0.05 * target, 0.5 * warning),
        "at_risk": (warning + 0.1 * (target - warning), target - 0.2 * (target - warning)),
        "breached": (target * 1.05, target * 1.6),
    }[state]
    goal = rng.uniform(*wanted)
    opened = now
    step = dt.timedelta(hours=1)
    for _ in range(24 * 200):
        opened -= step
        if sla.business_seconds_between(cal, opened, now) >= goal:
            return opened
    return opened


def seed_demo_tenant(*, tenant_id: int, now: dt.datetime, seed: int = 42) -> dict[str, int]:
    """Seed the demo cases of one tenant (see the module docstring); rows written by model."""
    with tenant_context(tenant_id):
        if Case.objects.exists():
            return {}
        return _seed(tenant_id=tenant_id, now=now, rng=random.Random(f"{seed}-{tenant_id}"))  # noqa: S311 - demo data


def _seed(*, tenant_id: int, now: dt.datetime, rng: random.Random) -> dict[str, int]:
    case_types_ensure_defaults()
    types = {t.kind: t for t in CaseType.objects.all()}
    policies = {p.case_type_id: p for p in SlaPolicy.objects.filter(is_active=True, priority="", tier="")}
    cal = tenant_calendar(tenant_id)
    members = list(
        Membership.objects.filter(is_active=True, role__in=[Role.ADVISOR, Role.SUPERVISOR])
        .select_related("team")
        .order_by("team_id", "user_id")
    )
    advisors = [m for m in members if m.role == Role.ADVISOR and m.team_id]
    supervisors = {m.team_id: m for m in members if m.role == Role.SUPERVISOR and m.team_id}
    if not advisors:
        return {}
    owner_ids = [m.user_id for m in advisors]
    customers: dict[int, list[tuple[int, int | None]]] = {uid: [] for uid in owner_ids}
    for pk, owner_id, branch_id in (
        Customer.objects.filter(owner_id__in=owner_ids).order_by("pk").values_list("pk", "owner_id", "branch_id")
    ):
        if len(customers[owner_id]) < 12:
            customers[owner_id].append((pk, branch_id))

    cases: list[Case] = []
    closing: dict[int, tuple[Membership, dt.datetime]] = {}  # index -> (who, when): closed cases

    def add(case_type: CaseType, advisor: Membership, *, opened_at: dt.datetime, **fields) -> Case:
        choices = customers.get(advisor.user_id) or [(None, advisor.branch_id)]
        customer_id, branch_id = rng.choice(choices)
        case = Case(
            tenant_id=tenant_id,
            case_type=case_type,
            kind=case_type.kind,
            restricted=case_type.restricted,
            channel=rng.choice(CHANNELS),
            priority=case_type.default_priority,
            customer_id=customer_id,
            branch_id=branch_id or advisor.branch_id,
            team_id=advisor.team_id,
            assignee_id=advisor.user_id,
            created_by_id=advisor.user_id,
            opened_at=opened_at,
            **fields,
        )
        apply_policy_clocks(case, policies.get(case_type.pk), cal)
        cases.append(case)
        return case

    def open_case(case_type: CaseType, advisor: Membership, state: str, status: str, **fields) -> None:
        policy = policies[case_type.pk]
        case = add(case_type, advisor, opened_at=_opened_for(rng, cal, policy, now, state), status=status, **fields)
        if status != Status.NEW:
            case.responded_at = min(case.opened_at + dt.timedelta(minutes=rng.randrange(20, 180)), now)
        if status == Status.WAITING_CUSTOMER:
            case.paused_at = now - dt.timedelta(hours=rng.randrange(1, 20))
        plan_next_deadline(case, cal)

    def complaint_fields() -> dict:
        category = rng.choice(list(COMPLAINTS))
        text = rng.choice(COMPLAINTS[category]).format(amount=_amount(rng))
        return {
            "subject": text.split(",")[0][:120].rstrip("."),
            "description": text,
            "category": category,
            "pqrs_type": rng.choice(["complaint", "claim", "petition"]),
        }

    def request_fields() -> dict:
        category, text = rng.choice(REQUESTS)
        return {"subject": category, "description": text.format(amount=_amount(rng)), "category": category}

    # Open work: fresh cases for every advisor, at-risk and breached ones per team.
    seen_teams: set[int] = set()
    for advisor in advisors:
        first_of_team = advisor.team_id not in seen_teams
        seen_teams.add(advisor.team_id)
        for _ in range(OPEN_PER_ADVISOR * (2 if first_of_team else 1)):
            kind = rng.choice([CaseKind.REQUEST, CaseKind.COMPLAINT, CaseKind.COMPLAINT])
            fields = request_fields() if kind == CaseKind.REQUEST else complaint_fields()
            status = rng.choice([Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER])
            open_case(types[kind], advisor, "fresh", status, **fields)
        if first_of_team:
            for state, count in (("at_risk", AT_RISK_PER_TEAM), ("breached", BREACHED_PER_TEAM)):
                for _ in range(count):
                    open_case(types[CaseKind.COMPLAINT], advisor, state, Status.IN_PROGRESS, **complaint_fields())

    # Threshold exceptions: pending ones on the first advisors, one approved (on the 360).
    for number, (exception_type, category, subject, ratio) in enumerate(EXCEPTIONS):
        advisor = advisors[number % len(advisors)]
        limit = Decimal(rng.randrange(10, 200) * 100_000)
        amount = (limit * ratio).quantize(Decimal("1"))
        required = (
            Authority.ADVISOR
            if ratio <= 1
            else (Authority.SUPERVISOR if ratio <= Decimal("1.5") else Authority.MANAGER)
        )
        fields = {
            "subject": subject,
            "category": category,
            "exception_type": exception_type,
            "amount": amount,
            "policy_limit": limit,
            "required_authority": required,
            "approval_status": ApprovalStatus.PENDING,
        }
        if number == 1:
            supervisor = supervisors.get(advisor.team_id)
            fields.update(
                approval_status=ApprovalStatus.APPROVED,
                decided_by_id=supervisor.user_id if supervisor else advisor.user_id,
                decided_at=now - dt.timedelta(hours=3),
                decision_reason="Cliente con buen historial y relación de largo plazo.",
            )
        open_case(types[CaseKind.EXCEPTION], advisor, "fresh", Status.IN_PROGRESS, **fields)

    # A restricted security case, worked by the first team's supervisor.
    first_supervisor = supervisors.get(advisors[0].team_id)
    if first_supervisor is not None:
        category, subject, text = SECURITY[0]
        open_case(
            types[CaseKind.SECURITY],
            first_supervisor,
            "at_risk",
            Status.IN_PROGRESS,
            subject=subject,
            description=text,
            category=category,
        )

    # Closed history: complaints in every category (the triage classifier learns from
    # them), and requests; each resolved, confirmed and rated by the customer.
    closed_specs = [
        (CaseKind.COMPLAINT, category) for category in COMPLAINTS for _ in range(CLOSED_COMPLAINTS_PER_CATEGORY)
    ] + [(CaseKind.REQUEST, None)] * CLOSED_REQUESTS
    for number, (kind, category) in enumerate(closed_specs):
        advisor = advisors[number % len(advisors)]
        if kind == CaseKind.COMPLAINT:
            text = COMPLAINTS[category][number % len(COMPLAINTS[category])].format(amount=_amount(rng))
            fields = {"subject": text.split(",")[0][:120].rstrip("."), "description": text, "category": category}
            fields["pqrs_type"] = rng.choice(["complaint", "claim"])
        else:
            fields = request_fields()
        opened_at = now - dt.timedelta(days=rng.randrange(20, 120), hours=rng.randrange(0, 8))
        case = add(types[kind], advisor, opened_at=opened_at, status=Status.CLOSED, **fields)
        case.responded_at = opened_at + dt.timedelta(hours=rng.randrange(1, 6))
        case.resolved_at = opened_at + dt.timedelta(days=rng.randrange(1, 10))
        case.closed_at = case.resolved_at + dt.timedelta(days=rng.randrange(1, 3))
        case.resolution = rng.choice(RESOLUTIONS)
        case.satisfaction = rng.choices([5, 4, 3, 2, 1], weights=[40, 30, 15, 10, 5])[0]
        case.customer_confirmed = True
        case.next_deadline_at = None
        closing[len(cases) - 1] = (advisor, case.closed_at)

    Case.objects.bulk_create(cases, batch_size=500)
    # bulk_create sets primary keys on PostgreSQL and SQLite (RETURNING), so the timeline
    # and milestones can point at them.
    events: list[CaseEvent] = []
    milestones: list[CaseMilestone] = []
    for index, case in enumerate(cases):
        events.append(
            CaseEvent(
                tenant_id=tenant_id,
                case=case,
                kind=EventKind.CREATED,
                to_status=Status.NEW,
                actor_id=case.created_by_id,
                occurred_at=case.opened_at,
            )
        )
        if case.status != Status.NEW:
            events.append(
                CaseEvent(
                    tenant_id=tenant_id,
                    case=case,
                    kind=EventKind.TRANSITION,
                    from_status=Status.NEW,
                    to_status=Status.ACKNOWLEDGED if case.status != Status.CLOSED else Status.RESOLVED,
                    actor_id=case.assignee_id,
                    body=case.resolution if case.status == Status.CLOSED else "",
                    occurred_at=case.responded_at or case.opened_at,
                )
            )
        if index in closing:
            advisor, closed_at = closing[index]
            events.append(
                CaseEvent(
                    tenant_id=tenant_id,
                    case=case,
                    kind=EventKind.TRANSITION,
                    from_status=Status.RESOLVED,
                    to_status=Status.CLOSED,
                    actor_id=advisor.user_id,
                    occurred_at=closed_at,
                )
            )
        elif case.status != Status.CLOSED:
            for spec in case.case_type.milestones or []:
                due = sla.add_business_time(cal, case.opened_at, int(spec["target_minutes"]) * 60)
                reached = case.responded_at if case.responded_at and case.responded_at <= due else None
                milestones.append(
                    CaseMilestone(
                        tenant_id=tenant_id,
                        case=case,
                        code=spec["code"],
                        name=spec["name"],
                        due_at=due,
                        reached_at=reached,
                    )
                )
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    CaseMilestone.objects.bulk_create(milestones, batch_size=1000)
    rows = {"cases.Case": len(cases), "cases.CaseEvent": len(events), "cases.CaseMilestone": len(milestones)}

    # The triage classifier learns from the closed complaints just written.
    from cases.services import triage_model_train

    triage_model_train(folds=3)
    rows["cases.TriageModel"] = 1
    return rows
