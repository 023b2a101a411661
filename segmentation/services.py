"""Every VALOR write: value formula, rule segments, scoring runs and survey responses.

Services are keyword-only, atomic and audited (``vector_crm.audit.audited``), check the
caller's capability (``membership`` None: an API credential whose scopes were checked)
and emit outbox events. The scoring run itself is long: ``scoring_run_start`` queues it
(refused while another run of the tenant is queued or running — the database enforces
it too), and ``scoring_run_execute``, called by the job, writes in committed chunks and
publishes the snapshot by flipping the run to ``succeeded`` at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import zoneinfo
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.bulk import BulkError, BulkResult, Record, Target, dedupe, finish, require_bulk_writer, write
from customers.models import Customer
from segmentation import pipeline, rules
from segmentation.choices import ACTIVE_RUN_STATUSES, RunStatus, SegmentKind
from segmentation.models import CustomerScore, ScoringRun, Segment, SegmentMembership, SurveyResponse, ValueConfig
from segmentation.scoring import ScoringParams
from vector_crm.audit import audited
from vector_crm.background import JobReporter, job_enqueue
from vector_crm.errors import DomainError, ErrorCode, PermissionDeniedError
from vector_crm.models import Job, Membership, Tenant
from vector_crm.outbox import event_emit
from vector_crm.tenancy import require_tenant_id

logger = logging.getLogger(__name__)

SCORE_JOB_KIND = "segmentation.score_customers"
# An active run without a heartbeat for this long is presumed dead (worker lost) and no
# longer blocks the tenant; the next start marks it failed and clears what it wrote.
STALE_AFTER = dt.timedelta(hours=2)

CONFIG_FIELDS = (
    "revenue_weight",
    "fee_weight",
    "balance_weight",
    "window_months",
    "potential_percentile",
    "peer_min_size",
    "gap_weight",
    "tier_a_share",
    "tier_b_share",
    "key_account_share",
    "clusters",
    "random_seed",
    "keep_runs",
)


class RunAlreadyActive(DomainError):
    status_code = 409

    def __init__(self) -> None:
        super().__init__(
            _("Ya hay un cálculo de valor en curso para esta entidad."), code=ErrorCode.JOB_ALREADY_RUNNING
        )


def _require(membership: Membership | None, capability: str) -> None:
    if membership is not None and not membership.has(capability):
        raise PermissionDeniedError()


# --- value formula ---------------------------------------------------------------------------


def value_config_current() -> ValueConfig:
    """The tenant's formula, or an unsaved one with the defaults."""
    return ValueConfig.objects.filter().first() or ValueConfig(tenant_id=require_tenant_id())


INTEGER_PARAMS = ("window_months", "peer_min_size", "clusters", "random_seed")


def scoring_params(config: ValueConfig) -> ScoringParams:
    """The run parameters of ``config`` as plain numbers (stored with the run)."""
    return ScoringParams(
        **{
            name: (int if name in INTEGER_PARAMS else float)(getattr(config, name))
            for name in CONFIG_FIELDS
            if name != "keep_runs"
        }
    )


@audited
def value_config_update(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> ValueConfig:
    """Change the tenant's value formula (applies from the next run)."""
    _require(membership, "segments.manage")
    unknown = set(data) - set(CONFIG_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(_("Campo desconocido: «%(name)s».") % {"name": name}, field=name)
    config = value_config_current()
    for name, value in data.items():
        setattr(config, name, value)
    if Decimal(config.tier_b_share) < Decimal(config.tier_a_share):
        raise DomainError(_("La proporción A+B no puede ser menor que la de A."), field="tier_b_share")
    config.full_clean()
    config.save()
    return config


# --- rule segments ---------------------------------------------------------------------------

SEGMENT_FIELDS = {"name", "description", "rules", "is_active"}


def _segment_payload(segment: Segment) -> dict:
    return {"id": segment.pk, "name": segment.name, "kind": segment.kind, "rules": segment.rules}


def _check_segment_data(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - SEGMENT_FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(_("Campo desconocido: «%(name)s».") % {"name": name}, field=name)
    cleaned = dict(data)
    if "rules" in cleaned:
        cleaned["rules"] = rules.clean_rules(cleaned["rules"])
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise DomainError(_("El segmento necesita un nombre."), field="name")
    return cleaned


def _check_unique_name(segment: Segment) -> None:
    clash = Segment.objects.filter(kind=SegmentKind.RULE, name=segment.name).exclude(pk=segment.pk).exists()
    if clash:
        raise DomainError(_("Ya existe un segmento con ese nombre."), field="name")


@audited
def segment_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Segment:
    """Save a rule-based segment (materialised by every following run)."""
    _require(membership, "segments.manage")
    cleaned = _check_segment_data(data)
    if "name" not in cleaned:
        raise DomainError(_("El segmento necesita un nombre."), field="name")
    segment = Segment(kind=SegmentKind.RULE, created_by=actor, **cleaned)
    _check_unique_name(segment)
    segment.save()
    event_emit(type="segment.created", payload=_segment_payload(segment), aggregate=segment)
    return segment


def _require_rule_segment(segment: Segment) -> None:
    if segment.kind != SegmentKind.RULE:
        raise DomainError(_("Los segmentos aprendidos los define cada cálculo; no se editan."), field="kind")


@audited
def segment_update(
    *, actor=None, membership: Membership | None = None, segment: Segment, data: dict[str, Any]
) -> Segment:
    _require(membership, "segments.manage")
    _require_rule_segment(segment)
    cleaned = _check_segment_data(data)
    for name, value in cleaned.items():
        setattr(segment, name, value)
    _check_unique_name(segment)
    segment.save()
    event_emit(type="segment.updated", payload=_segment_payload(segment), aggregate=segment)
    return segment


@audited
def segment_delete(*, actor=None, membership: Membership | None = None, segment: Segment) -> None:
    _require(membership, "segments.manage")
    _require_rule_segment(segment)
    event_emit(type="segment.deleted", payload=_segment_payload(segment), aggregate=segment)
    segment.delete()


# --- scoring runs ----------------------------------------------------------------------------


def _tenant_today() -> dt.date:
    tenant = Tenant.objects.get(pk=require_tenant_id())
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.timezone))


def _abandon_stale_runs() -> None:
    limit = timezone.now() - STALE_AFTER
    for run in ScoringRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).order_by("pk"):
        last_sign = run.heartbeat_at or run.created_at
        if last_sign < limit:
            pipeline.clear_snapshot(run)
            ScoringRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED, finished_at=timezone.now(), error="abandoned: no heartbeat"
            )


@audited
def scoring_run_start(
    *, actor=None, membership: Membership | None = None, as_of: dt.date | None = None, enqueue: bool = True
) -> ScoringRun:
    """Queue a scoring of the whole portfolio; ``RunAlreadyActive`` while one is active.

    ``enqueue=False`` records the run and its Job without queueing the task, for callers
    that execute it in-process (the data loader command)."""
    from segmentation.jobs import score_customers

    _require(membership, "scoring.run")
    _abandon_stale_runs()
    config = value_config_current()
    run = ScoringRun(
        as_of=as_of or _tenant_today(),
        created_by=actor,
        params={**pipeline.params_snapshot(scoring_params(config)), "keep_runs": config.keep_runs},
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as exc:
        raise RunAlreadyActive() from exc
    params = {"run_id": run.pk}
    if enqueue:
        job = job_enqueue(
            score_customers, tenant_id=run.tenant_id, kind=SCORE_JOB_KIND, created_by=actor, params=params
        )
    else:
        job = Job.objects.create(kind=SCORE_JOB_KIND, params=params, created_by=actor)
    run.job = job
    run.save(update_fields=["job"])
    return run


def _progress(reporter: JobReporter, run: ScoringRun, total: int):
    def report(phase: str, done: int) -> None:
        pipeline.touch(run)
        offset = total if phase == "write" else 0
        reporter.progress(offset + done, **{"leidos" if phase == "read" else "escritos": done})

    return report


def scoring_run_execute(*, run_id: int, reporter: JobReporter | None = None) -> dict:
    """Run (or re-run after a crash) scoring run ``run_id``; idempotent once finished."""
    reporter = reporter or JobReporter(None)
    run = ScoringRun.objects.get(pk=run_id)
    if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return {"run": run.pk, "status": run.status, **run.result}
    total = Customer.objects.count()
    reporter.set_total(2 * total)
    ScoringRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), error=""
    )
    params = ScoringParams(**{k: v for k, v in run.params.items() if k != "keep_runs"})
    try:
        result = pipeline.execute(run, params, _progress(reporter, run, total))
    except Exception as exc:
        pipeline.clear_snapshot(run)
        ScoringRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{exc}\n{traceback.format_exc(limit=5)}"
        )
        raise
    _publish(run, result)
    _prune_old_snapshots(int(run.params.get("keep_runs", 24)))
    return {"run": run.pk, "status": RunStatus.SUCCEEDED, **result}


@transaction.atomic
def _publish(run: ScoringRun, result: dict) -> None:
    run.status = RunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.result = result
    run.customers = result["customers"]
    run.save(update_fields=["status", "finished_at", "result", "customers"])
    event_emit(
        type="scoring_run.succeeded",
        payload={"id": run.pk, "as_of": run.as_of.isoformat(), "tiers": result["tiers"]},
        aggregate=run,
    )


def _prune_old_snapshots(keep: int) -> None:
    """Per-customer rows of all but the newest ``keep`` succeeded runs are deleted; the run
    rows and their results (tier counts) stay for value-migration reports."""
    old = list(
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-id").values_list("pk", flat=True)[keep:]
    )
    if old:
        SegmentMembership.objects.filter(run_id__in=old).delete()
        CustomerScore.objects.filter(run_id__in=old).delete()


# --- survey responses (bulk, same contract as customers.bulk) --------------------------------


SURVEY_ANSWERS = Target(SurveyResponse, key=("customer_id", "responded_on", "attribute"))


@transaction.atomic
def survey_responses_bulk_upsert(
    *,
    actor=None,
    membership: Membership | None = None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """Create or update answers keyed by customer ``external_id``, date and attribute."""
    require_bulk_writer(membership, "surveys.change")
    result = BulkResult(rejected=list(rejected))
    records = dedupe(
        records,
        lambda d: (d["customer_external_id"], d["responded_on"], d["attribute"]),
        "attribute",
        result.rejected,
    )
    customers = dict(
        Customer.objects.filter(external_id__in={d["customer_external_id"] for _i, d in records}).values_list(
            "external_id", "pk"
        )
    )
    rows = []
    for index, data in records:
        values = dict(data)
        customer_id = customers.get(values.pop("customer_external_id"))
        if customer_id is None:
            result.rejected.append(
                BulkError(index, "customer_external_id", "does_not_exist", _("No customer has this external id."))
            )
            continue
        values["customer_id"] = customer_id
        rows.append((index, values))
    result.applied = not (atomic and result.rejected)
    write(SURVEY_ANSWERS, rows, result)
    return finish(kind="bulk.survey_responses", actor=actor, total=total, result=result)
