"""Business-hours clock for case SLAs: pure functions, no Django imports.

A ``BusinessCalendar`` is a tenant's working week (one or more intervals of wall-clock
time per weekday), its time zone, and its public holidays (a country's calendar from the
``holidays`` library plus the tenant's own dates). Every function takes and returns
timezone-aware datetimes; the results are in UTC.

* ``add_business_time(cal, start, seconds)`` - the moment ``seconds`` of working time after
  ``start`` (a deadline). For a positive duration it always lies inside a working interval
  (its end included), never on a holiday.
* ``business_seconds_between(cal, start, end)`` - the working time inside ``[start, end]``.
* ``shift_for_pause(cal, due, paused_at, resumed_at)`` - a deadline after the clock was
  stopped from ``paused_at`` to ``resumed_at``: later by exactly the working time paused.
* ``next_checkpoint(...)`` - which SLA step (warning, first-response breach, escalation
  level) a case reaches next, and when: the plan the minute sweep follows.
* ``next_milestone_checkpoint(...)`` - the same for one milestone ("moment of truth"):
  its warning, then its miss (an escalation), each once, none once it was reached.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import holidays as holidays_lib

UTC = dt.UTC
MAX_SEARCH_DAYS = 3 * 366
Interval = tuple[dt.time, dt.time]

# Monday..Friday 08:00-17:00: the default banking day when a tenant configured none.
DEFAULT_HOURS: dict[int, tuple[Interval, ...]] = {weekday: ((dt.time(8), dt.time(17)),) for weekday in range(5)}


@functools.lru_cache(maxsize=64)
def _country_holidays(country: str):
    return holidays_lib.country_holidays(country)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (0 = Monday) in ``timezone``, minus the holidays."""

    timezone: str = "America/Bogota"
    hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    country: str | None = None
    extra_holidays: frozenset[dt.date] = frozenset()
    # Working intervals per day, computed once (a sweep asks for the same days often).
    _day_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for weekday, intervals in self.hours.items():
            if not 0 <= int(weekday) <= 6:
                raise ValueError(f"weekday {weekday} is not 0..6")
            for start, end in intervals:
                if not start < end:
                    raise ValueError(f"working interval {start}-{end} of weekday {weekday} is empty")
        if not any(self.hours.values()):
            raise ValueError("a business calendar needs at least one working interval")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: dt.date) -> bool:
        if day in self.extra_holidays:
            return True
        return bool(self.country) and day in _country_holidays(self.country)

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's working intervals as UTC datetimes (none on a holiday)."""
        cached = self._day_cache.get(day)
        if cached is None:
            cached = self._day_cache[day] = self._compute_intervals(day)
        return cached

    def _compute_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if self.is_holiday(day):
            return []
        tz = self.tz
        result = []
        for start, end in sorted(self.hours.get(day.weekday(), ())):
            local_start = dt.datetime.combine(day, start, tzinfo=tz)
            local_end = dt.datetime.combine(day, end, tzinfo=tz)
            result.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
        return result

    def is_working_time(self, moment: dt.datetime) -> bool:
        """True when ``moment`` lies in a working interval (both ends included)."""
        day = moment.astimezone(self.tz).date()
        return any(start <= moment <= end for start, end in self.intervals_on(day))


def _require_aware(*moments: dt.datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("SLA math needs timezone-aware datetimes")


def _intervals_from(cal: BusinessCalendar, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working intervals that end after ``start``, in order, clipped to begin at ``start``."""
    day = start.astimezone(cal.tz).date() - dt.timedelta(days=1)  # a late interval may cross midnight in UTC
    for offset in range(MAX_SEARCH_DAYS):
        for begin, end in cal.intervals_on(day + dt.timedelta(days=offset)):
            if end <= start:
                continue
            yield max(begin, start), end
    raise ValueError("no working time within three years: check the calendar")


def add_business_time(cal: BusinessCalendar, start: dt.datetime, seconds: float) -> dt.datetime:
    """The moment when ``seconds`` of working time have passed after ``start``."""
    _require_aware(start)
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    start = start.astimezone(UTC)
    if seconds == 0:
        return start
    remaining = dt.timedelta(seconds=seconds)
    for begin, end in _intervals_from(cal, start):
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover - _intervals_from raises first


def business_seconds_between(cal: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> float:
    """Working seconds in ``[start, end]`` (0 when ``end`` is not after ``start``)."""
    _require_aware(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    total = dt.timedelta()
    first_day = start.astimezone(cal.tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(cal.tz).date() + dt.timedelta(days=1)
    day = first_day
    while day <= last_day:
        for begin, finish in cal.intervals_on(day):
            overlap = min(finish, end) - max(begin, start)
            if overlap > dt.timedelta():
                total += overlap
        day += dt.timedelta(days=1)
    return total.total_seconds()


def shift_for_pause(
    cal: BusinessCalendar, due: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime
) -> dt.datetime:
    """``due`` pushed back by the working time between ``paused_at`` and ``resumed_at``."""
    return add_business_time(cal, due, business_seconds_between(cal, paused_at, resumed_at))


# --- The plan of SLA steps ------------------------------------------------------------

WARNING = "warning"
RESPONSE_BREACH = "response_breach"
ESCALATION = "escalation"
MILESTONE_WARNING = "milestone_warning"
MILESTONE_MISSED = "milestone_missed"
# When two steps fall on the same instant they happen in this order.
_STEP_ORDER = {WARNING: 0, RESPONSE_BREACH: 1, ESCALATION: 2, MILESTONE_WARNING: 0, MILESTONE_MISSED: 1}


@dataclass(frozen=True)
class ClockState:
    """What the sweep knows about one open case's clocks."""

    response_due_at: dt.datetime | None
    responded: bool
    response_breached: bool
    warn_at: dt.datetime | None
    warned: bool
    resolution_due_at: dt.datetime | None
    escalation_level: int


@dataclass(frozen=True)
class Checkpoint:
    kind: str  # WARNING, RESPONSE_BREACH, ESCALATION, MILESTONE_WARNING or MILESTONE_MISSED
    at: dt.datetime
    level: int = 0  # the escalation level reached (ESCALATION only)


def escalation_times(
    resolution_due_at: dt.datetime, offsets_seconds: Sequence[float], add: Callable[[dt.datetime, float], dt.datetime]
) -> list[dt.datetime]:
    """When each escalation level fires: ``offsets_seconds`` of working time after the breach."""
    return [add(resolution_due_at, offset) for offset in offsets_seconds]


def next_checkpoint(
    state: ClockState,
    offsets_seconds: Sequence[float],
    add: Callable[[dt.datetime, float], dt.datetime],
) -> Checkpoint | None:
    """The next SLA step of ``state``, or None when nothing is left to fire.

    The warning fires once, before any escalation; the first-response breach once, unless
    the customer was answered; escalation levels one by one, each ``offsets_seconds[i]`` of
    working time after the resolution deadline (level ``i + 1``).
    """
    candidates: list[Checkpoint] = []
    if state.warn_at is not None and not state.warned and state.escalation_level == 0:
        candidates.append(Checkpoint(WARNING, state.warn_at))
    if state.response_due_at is not None and not state.responded and not state.response_breached:
        candidates.append(Checkpoint(RESPONSE_BREACH, state.response_due_at))
    if state.resolution_due_at is not None and state.escalation_level < len(offsets_seconds):
        level = state.escalation_level
        at = add(state.resolution_due_at, offsets_seconds[level])
        candidates.append(Checkpoint(ESCALATION, at, level + 1))
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.at, _STEP_ORDER[c.kind]))


def apply_checkpoint(state: ClockState, checkpoint: Checkpoint) -> ClockState:
    """The state once ``checkpoint`` has fired."""
    if checkpoint.kind == WARNING:
        return replace(state, warned=True)
    if checkpoint.kind == RESPONSE_BREACH:
        return replace(state, response_breached=True)
    return replace(state, escalation_level=checkpoint.level, warned=True)


def due_checkpoints(
    state: ClockState,
    now: dt.datetime,
    offsets_seconds: Sequence[float],
    add: Callable[[dt.datetime, float], dt.datetime],
) -> tuple[list[Checkpoint], ClockState, Checkpoint | None]:
    """Every step due at ``now``, in order; the state after them; and the next step."""
    fired: list[Checkpoint] = []
    while True:
        checkpoint = next_checkpoint(state, offsets_seconds, add)
        if checkpoint is None or checkpoint.at > now:
            return fired, state, checkpoint
        fired.append(checkpoint)
        state = apply_checkpoint(state, checkpoint)


@dataclass(frozen=True)
class MilestoneState:
    """What the sweep knows about one milestone of an open case."""

    due_at: dt.datetime
    warn_at: dt.datetime | None
    warned: bool
    missed: bool
    reached: bool


def next_milestone_checkpoint(state: MilestoneState) -> Checkpoint | None:
    """The milestone's next step: its warning (once, before the miss), then its miss
    (once); nothing once it was reached or missed."""
    if state.reached or state.missed:
        return None
    if state.warn_at is not None and not state.warned and state.warn_at <= state.due_at:
        return Checkpoint(MILESTONE_WARNING, state.warn_at)
    return Checkpoint(MILESTONE_MISSED, state.due_at)


def apply_milestone_checkpoint(state: MilestoneState, checkpoint: Checkpoint) -> MilestoneState:
    """The milestone's state once ``checkpoint`` has fired."""
    if checkpoint.kind == MILESTONE_WARNING:
        return replace(state, warned=True)
    return replace(state, missed=True, warned=True)


def due_milestone_checkpoints(
    state: MilestoneState, now: dt.datetime
) -> tuple[list[Checkpoint], MilestoneState, Checkpoint | None]:
    """Every step of one milestone due at ``now``, in order; its state after them; its next step."""
    fired: list[Checkpoint] = []
    while True:
        checkpoint = next_milestone_checkpoint(state)
        if checkpoint is None or checkpoint.at > now:
            return fired, state, checkpoint
        fired.append(checkpoint)
        state = apply_milestone_checkpoint(state, checkpoint)


def earliest(*checkpoints: Checkpoint | None) -> Checkpoint | None:
    """The first of several steps (a case's own and its milestones'); None when none is left."""
    pending = [c for c in checkpoints if c is not None]
    return min(pending, key=lambda c: (c.at, _STEP_ORDER[c.kind])) if pending else None


def parse_hours(raw: Mapping[str, Iterable[Sequence[str]]]) -> dict[int, tuple[Interval, ...]]:
    """``{"0": [["08:00", "12:00"], ["13:00", "17:00"]], ...}`` -> calendar hours."""
    hours: dict[int, tuple[Interval, ...]] = {}
    for weekday, intervals in raw.items():
        hours[int(weekday)] = tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in intervals)
    return hours


def hours_to_raw(hours: Mapping[int, tuple[Interval, ...]]) -> dict[str, list[list[str]]]:
    return {
        str(weekday): [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in intervals]
        for weekday, intervals in sorted(hours.items())
    }
