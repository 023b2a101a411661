"""The business-hours clock (cases/sla.py): exact examples and hypothesis properties."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import sla

BOGOTA = ZoneInfo("America/Bogota")
UTC = dt.UTC
COLOMBIA = sla.BusinessCalendar(timezone="America/Bogota", country="CO")


def test_friday_1730_with_8_business_hours_skips_the_weekend_and_the_holiday_monday():
    # given a case created Friday 9 January 2026 at 17:30 in Bogotá (after closing), and
    # Monday 12 January is a public holiday in Colombia (Epiphany, observed)
    created = dt.datetime(2026, 1, 9, 17, 30, tzinfo=BOGOTA)
    # when an 8-business-hour target runs on Monday-Friday 08:00-17:00
    due = sla.add_business_time(COLOMBIA, created, 8 * 3600)
    # then it falls due on Tuesday 13 January at 16:00 Bogotá time (21:00 UTC)
    assert due == dt.datetime(2026, 1, 13, 21, 0, tzinfo=UTC)
    assert due.astimezone(BOGOTA) == dt.datetime(2026, 1, 13, 16, 0, tzinfo=BOGOTA)


def test_a_split_day_with_lunch_break():
    cal = sla.BusinessCalendar(
        timezone="America/Bogota",
        hours={d: ((dt.time(8), dt.time(12)), (dt.time(14), dt.time(18))) for d in range(5)},
    )
    start = dt.datetime(2026, 2, 2, 11, 0, tzinfo=BOGOTA)  # Monday
    assert sla.add_business_time(cal, start, 2 * 3600) == dt.datetime(2026, 2, 2, 15, 0, tzinfo=BOGOTA)
    assert sla.business_seconds_between(cal, start, dt.datetime(2026, 2, 2, 15, 0, tzinfo=BOGOTA)) == 7200


def test_tenant_holidays_are_skipped_too():
    cal = sla.BusinessCalendar(timezone="America/Bogota", extra_holidays=frozenset({dt.date(2026, 2, 3)}))
    start = dt.datetime(2026, 2, 2, 16, 0, tzinfo=BOGOTA)
    assert sla.add_business_time(cal, start, 2 * 3600) == dt.datetime(2026, 2, 4, 9, 0, tzinfo=BOGOTA)


def test_dst_spring_forward_in_new_york_keeps_wall_clock_hours():
    # Sunday 8 March 2026 the clocks jump; Friday 17:00 + 1 h lands Monday 09:00 EDT (13:00 UTC)
    cal = sla.BusinessCalendar(timezone="America/New_York", country="US")
    start = dt.datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    due = sla.add_business_time(cal, start, 2 * 3600)
    assert due == dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        sla.add_business_time(COLOMBIA, dt.datetime(2026, 1, 1, 9), 60)  # noqa: DTZ001


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        sla.BusinessCalendar(hours={})


# --- properties ------------------------------------------------------------------------

ZONES = ["America/Bogota", "America/Santiago", "America/New_York", "Europe/Madrid", "America/Sao_Paulo"]
COUNTRIES = {"America/Bogota": "CO", "America/Santiago": "CL", "America/New_York": "US", "Europe/Madrid": "ES"}


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    hours = {}
    for weekday in range(7):
        if draw(st.booleans()) or weekday == 2:
            first = draw(st.integers(6, 12))
            length = draw(st.integers(1, 5))
            intervals = [(dt.time(first), dt.time(first + length))]
            if draw(st.booleans()):
                second = first + length + draw(st.integers(1, 2))
                intervals.append((dt.time(second), dt.time(min(second + draw(st.integers(1, 4)), 22))))
            hours[weekday] = tuple(intervals)
    return sla.BusinessCalendar(timezone=zone, hours=hours, country=COUNTRIES.get(zone))


# Moments around DST changes of the zones above are included on purpose.
moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(UTC))
durations = st.integers(min_value=1, max_value=80 * 3600)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cal=calendars(), start=moments, seconds=durations)
def test_deadlines_never_land_outside_working_hours_or_on_holidays(cal, start, seconds):
    due = sla.add_business_time(cal, start, seconds)
    assert cal.is_working_time(due)
    assert not cal.is_holiday(due.astimezone(cal.tz).date())
    assert due > start


@SETTINGS
@given(cal=calendars(), start=moments, seconds=durations)
def test_the_working_time_to_a_deadline_is_the_target(cal, start, seconds):
    due = sla.add_business_time(cal, start, seconds)
    assert sla.business_seconds_between(cal, start, due) == pytest.approx(seconds, abs=1e-6)


@SETTINGS
@given(cal=calendars(), start=moments, first=durations, second=durations)
def test_adding_is_additive(cal, start, first, second):
    once = sla.add_business_time(cal, start, first + second)
    twice = sla.add_business_time(cal, sla.add_business_time(cal, start, first), second)
    assert once == twice


@SETTINGS
@given(cal=calendars(), start=moments, target=durations, pause_at=st.integers(0, 50 * 3600), pause=durations)
def test_pausing_and_resuming_adds_exactly_the_paused_working_time(cal, start, target, pause_at, pause):
    due = sla.add_business_time(cal, start, target)
    paused_at = start + dt.timedelta(seconds=pause_at)
    resumed_at = paused_at + dt.timedelta(seconds=pause)
    shifted = sla.shift_for_pause(cal, due, paused_at, resumed_at)
    paused_working = sla.business_seconds_between(cal, paused_at, resumed_at)
    assert sla.business_seconds_between(cal, due, shifted) == pytest.approx(paused_working, abs=1e-6)
    assert shifted >= due
    if paused_working:
        assert cal.is_working_time(shifted)


@SETTINGS
@given(start=moments, seconds=durations)
def test_colombian_deadlines_skip_every_public_holiday(start, seconds):
    due = sla.add_business_time(COLOMBIA, start, seconds)
    local = due.astimezone(BOGOTA)
    assert local.weekday() < 5
    assert dt.time(8) <= local.time() <= dt.time(17)
    assert not COLOMBIA.is_holiday(local.date())


# --- the plan of steps -------------------------------------------------------------------

T0 = dt.datetime(2026, 2, 2, 13, 0, tzinfo=UTC)


def _plain_add(moment, seconds):
    return moment + dt.timedelta(seconds=seconds)


def _state(**changes):
    base = {
        "response_due_at": T0 + dt.timedelta(hours=1),
        "responded": False,
        "response_breached": False,
        "warn_at": T0 + dt.timedelta(hours=6),
        "warned": False,
        "resolution_due_at": T0 + dt.timedelta(hours=8),
        "escalation_level": 0,
    }
    return sla.ClockState(**{**base, **changes})


def test_steps_fire_once_each_in_order():
    offsets = [0, 4 * 3600]
    fired, state, following = sla.due_checkpoints(_state(), T0 + dt.timedelta(days=2), offsets, _plain_add)
    assert [(c.kind, c.level) for c in fired] == [
        ("response_breach", 0),
        ("warning", 0),
        ("escalation", 1),
        ("escalation", 2),
    ]
    assert following is None
    assert sla.due_checkpoints(state, T0 + dt.timedelta(days=3), offsets, _plain_add)[0] == []


def test_an_answered_case_has_no_response_breach_and_the_next_step_is_the_warning():
    fired, _state_after, following = sla.due_checkpoints(_state(responded=True), T0, [0], _plain_add)
    assert fired == []
    assert following == sla.Checkpoint("warning", T0 + dt.timedelta(hours=6))


# --- Milestones ("moments of truth") ----------------------------------------------------


@given(
    due=moments,
    warn_before=st.one_of(st.none(), st.integers(0, 10 * 3600)),
    sweeps=st.lists(st.integers(-20 * 3600, 20 * 3600), min_size=1, max_size=6),
    reached_after=st.one_of(st.none(), st.integers(0, 5)),
)
def test_a_milestone_warns_then_is_missed_once_each_in_order_unless_reached(due, warn_before, sweeps, reached_after):
    # given a milestone due at ``due`` (warned ``warn_before`` seconds earlier, if at all),
    # swept at increasing moments, and reached after the ``reached_after``-th sweep
    warn_at = None if warn_before is None else due - dt.timedelta(seconds=warn_before)
    state = sla.MilestoneState(due_at=due, warn_at=warn_at, warned=False, missed=False, reached=False)
    fired: list[sla.Checkpoint] = []
    for n, offset in enumerate(sorted(sweeps)):
        if reached_after is not None and n >= reached_after:
            state = dataclasses.replace(state, reached=True)
        now = due + dt.timedelta(seconds=offset)
        steps, state, upcoming = sla.due_milestone_checkpoints(state, now)
        assert all(step.at <= now for step in steps)
        assert upcoming is None or upcoming.at > now
        if state.reached:
            assert steps == [] and upcoming is None
        fired += steps
    kinds = [step.kind for step in fired]
    # then each step fires at most once, the warning (when planned) always before the miss,
    # and nothing fires once the milestone was reached
    assert kinds in ([], [sla.MILESTONE_WARNING], [sla.MILESTONE_WARNING, sla.MILESTONE_MISSED]) or (
        warn_at is None and kinds == [sla.MILESTONE_MISSED]
    )
    if sla.MILESTONE_MISSED in kinds:
        assert state.missed and state.warned
        assert max(sorted(sweeps)) >= 0
    assert sla.next_milestone_checkpoint(state) is None or not (state.missed or state.reached)


def test_the_earliest_step_wins_and_ties_keep_the_warning_first():
    at = dt.datetime(2026, 1, 13, 15, 0, tzinfo=UTC)
    miss = sla.Checkpoint(sla.MILESTONE_MISSED, at)
    warning = sla.Checkpoint(sla.WARNING, at)
    later = sla.Checkpoint(sla.ESCALATION, at + dt.timedelta(minutes=1), 1)
    assert sla.earliest(later, miss, None, warning) == warning
    assert sla.earliest(later, None) == later
    assert sla.earliest(None, None) is None
