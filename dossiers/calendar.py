"""Working-day calendar and due dates for Vietnamese one-stop desks.

Rules (documented for citizens and staff, see docs/dossiers.md):
- Working time is the office hours (calendar.yml) of working days. Working days are Monday to
  Friday, minus public holidays and the government's swapped days off, plus the Saturdays worked in
  exchange. The `holidays` package for Vietnam is the base: it knows the public holidays (lunar Tết
  included, 24/11 from 2026), their compensatory days and the announced swaps. calendar.yml adds
  only what the package does not know: recurring holidays, days off and working days staff enter.
- A filing received after the late-filing cutoff on a working day, or on a day off, counts from
  the start of the next working day; one received before office hours counts from their start.
- A limit of N working days (or working hours) ends after N times the working time of a day,
  counted in working time only. So a filing at 09:00 with 3 working days is due at 09:00 on the
  third working day after; one counted from 08:00 is due at the end of the third working day.
- A limit in calendar days, weeks, months or years ends at the same clock time; when that falls on
  a day off, it moves to the end of the next working day (Civil Code art. 148).
- A limit in hours is plain elapsed hours.
All times are naive local times (Vietnam has one time zone and no daylight saving).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import holidays
import yaml
from dateutil.relativedelta import relativedelta

DEFAULT_CALENDAR_FILE = Path(__file__).resolve().parent / "data/calendar.yml"

# Units of knowledge_base.schema.TimeUnit that the calculator understands.
WORKING_UNITS = ("working_day", "working_hour")
CALENDAR_UNITS = ("day", "week", "month", "year", "hour")


@functools.lru_cache(maxsize=16)
def _library_calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, language="vi")


def _library_holidays(year: int) -> Dict[dt.date, str]:
    """Vietnam's public holidays and swapped days off of ``year`` as the `holidays` package knows them."""
    return {day: name for day, name in _library_calendar(year).items() if day.year == year}


def _library_working_weekend_days(year: int) -> frozenset:
    """The Saturdays (or Sundays) worked in exchange for a swapped day off, as the package knows them."""
    return frozenset(day for day in _library_calendar(year).weekend_workdays if day.year == year)


class CalendarError(ValueError):
    """The calendar file is malformed, or a limit cannot be computed."""


def _time(value: str, where: str) -> dt.time:
    try:
        hours, minutes = str(value).split(":")
        return dt.time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise CalendarError(f"{where}: expected HH:MM, got {value!r}") from None


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: expected YYYY-MM-DD, got {value!r}") from None


@dataclass
class WorkingCalendar:
    """Working days and hours; build it with :meth:`load`."""

    office_hours: List[Tuple[dt.time, dt.time]] = field(
        default_factory=lambda: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))])
    late_filing_cutoff: dt.time = dt.time(16)
    recurring: List[Tuple[int, int, int, str]] = field(default_factory=list)  # month, day, from_year, name
    days_off: Dict[dt.date, str] = field(default_factory=dict)
    working_days: Dict[dt.date, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Optional[Path] = None) -> WorkingCalendar:
        """Read calendar.yml (the bundled one when ``path`` is None)."""
        path = Path(path or DEFAULT_CALENDAR_FILE)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CalendarError(f"{path}: {exc}") from None
        cal = cls()
        if "office_hours" in data:
            periods = []
            for i, pair in enumerate(data["office_hours"] or []):
                if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                    raise CalendarError(f"{path}: office_hours[{i}] must be [start, end]")
                start, end = _time(pair[0], f"{path}: office_hours[{i}]"), _time(pair[1], f"{path}: office_hours[{i}]")
                if end <= start or (periods and start < periods[-1][1]):
                    raise CalendarError(f"{path}: office_hours[{i}] must be increasing and not overlap")
                periods.append((start, end))
            if not periods:
                raise CalendarError(f"{path}: office_hours is empty")
            cal.office_hours = periods
        if data.get("late_filing_cutoff"):
            cal.late_filing_cutoff = _time(data["late_filing_cutoff"], f"{path}: late_filing_cutoff")
        for i, item in enumerate(data.get("recurring_holidays") or []):
            where = f"{path}: recurring_holidays[{i}]"
            try:
                month, day = (int(x) for x in str(item["date"]).split("-"))
                dt.date(2000, month, day)
                cal.recurring.append((month, day, int(item.get("from_year", 1)), str(item.get("name", ""))))
            except (KeyError, ValueError, TypeError):
                raise CalendarError(f"{where}: expected date: MM-DD and from_year") from None
        for key, target in (("days_off", cal.days_off), ("working_days", cal.working_days)):
            for i, item in enumerate(data.get(key) or []):
                if not isinstance(item, dict) or "date" not in item:
                    raise CalendarError(f"{path}: {key}[{i}] needs a date")
                target[_date(item["date"], f"{path}: {key}[{i}]")] = str(item.get("name", ""))
        return cal

    # -- days ---------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=64)  # noqa: B019  (a calendar lives as long as the process)
    def holidays_of(self, year: int) -> Dict[dt.date, str]:
        """Public holidays and days off of a year (date -> name)."""
        days = dict(_library_holidays(year))
        for month, day, from_year, name in self.recurring:
            if year < from_year or dt.date(year, month, day) in days:  # the library knows it already
                continue
            date = dt.date(year, month, day)
            days[date] = name
            if date.weekday() >= 5:  # compensatory day: the next day that is neither weekend nor holiday
                extra = date + dt.timedelta(days=1)
                while extra.weekday() >= 5 or extra in days:
                    extra += dt.timedelta(days=1)
                days[extra] = f"{name} (nghỉ bù)"
        for date, name in self.days_off.items():
            if date.year == year:
                days[date] = name
        return days

    def __hash__(self):  # lru_cache on a method needs a hashable instance
        return id(self)

    def is_working_day(self, date: dt.date) -> bool:
        """True on a day the one-stop desks work."""
        if date in self.working_days or date in _library_working_weekend_days(date.year):
            return True
        return date.weekday() < 5 and date not in self.holidays_of(date.year)

    def is_open(self, moment: dt.datetime) -> bool:
        """Whether the desks are open at ``moment`` (a working day, within office hours)."""
        return self.open_until(moment) is not None

    def open_until(self, moment: dt.datetime) -> Optional[dt.time]:
        """When the office-hours period ``moment`` falls in ends; None when the desks are closed then."""
        if not self.is_working_day(moment.date()):
            return None
        return next((end for start, end in self.office_hours if start <= moment.time() < end), None)

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """When the desks next open after ``moment`` (``moment`` itself when open)."""
        if self.is_open(moment):
            return moment
        if self.is_working_day(moment.date()):
            for start, _ in self.office_hours:
                if moment.time() < start:
                    return dt.datetime.combine(moment.date(), start)
        return dt.datetime.combine(self.next_working_day(moment.date()), self.office_hours[0][0])

    def next_working_day(self, date: dt.date) -> dt.date:
        """The first working day strictly after ``date``."""
        date += dt.timedelta(days=1)
        while not self.is_working_day(date):
            date += dt.timedelta(days=1)
        return date

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    # -- working time --------------------------------------------------------------------------
    @property
    def day_length(self) -> dt.timedelta:
        """Working time of one day."""
        return sum((_delta(a, b) for a, b in self.office_hours), dt.timedelta())

    def counting_start(self, received: dt.datetime) -> dt.datetime:
        """When the time limit of a filing received at ``received`` starts to run."""
        day = received.date()
        if not self.is_working_day(day) or received.time() >= self.late_filing_cutoff:
            day = self.next_working_day(day)
            return dt.datetime.combine(day, self.office_hours[0][0])
        first_start = self.office_hours[0][0]
        if received.time() < first_start:
            return dt.datetime.combine(day, first_start)
        for (_, end), (next_start, _) in zip(self.office_hours, self.office_hours[1:]):
            if end <= received.time() < next_start:  # lunch break: counts from the afternoon
                return dt.datetime.combine(day, next_start)
        if received.time() >= self.office_hours[-1][1]:
            return dt.datetime.combine(self.next_working_day(day), first_start)
        return received

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """``start`` (already in working time) plus ``amount`` of working time."""
        current, left = start, amount
        while True:
            for period_start, period_end in self.office_hours:
                begin = max(current, dt.datetime.combine(current.date(), period_start))
                end = dt.datetime.combine(current.date(), period_end)
                if begin >= end:
                    continue
                if left <= end - begin:
                    return begin + left
                left -= end - begin
                current = end
            current = dt.datetime.combine(self.next_working_day(current.date()), self.office_hours[0][0])

    def end_of_next_working_day(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself on a working day, else the end of office hours of the next working day."""
        if self.is_working_day(moment.date()):
            return moment
        return dt.datetime.combine(self.next_working_day(moment.date()), self.office_hours[-1][1])

    def due(self, received: dt.datetime, value: float, unit: str = "working_day") -> dt.datetime:
        """Due time of a filing received at ``received`` with a limit of ``value`` ``unit``."""
        if value is None or value < 0:
            raise CalendarError(f"invalid time limit: {value!r}")
        if unit == "working_day":
            return self.add_working_time(self.counting_start(received), self.day_length * value)
        if unit == "working_hour":
            return self.add_working_time(self.counting_start(received), dt.timedelta(hours=value))
        if unit == "hour":
            return received + dt.timedelta(hours=value)
        whole = int(value)
        if whole != value:
            raise CalendarError(f"a limit in {unit} must be whole, got {value}")
        if unit == "day":
            end = received + dt.timedelta(days=whole)
        elif unit == "week":
            end = received + dt.timedelta(weeks=whole)
        elif unit == "month":
            end = received + relativedelta(months=whole)
        elif unit == "year":
            end = received + relativedelta(years=whole)
        else:
            raise CalendarError(f"no due date for a limit in {unit!r}")
        return self.end_of_next_working_day(end)

    def working_days_left(self, now: dt.datetime, due: dt.datetime) -> int:
        """Whole working days from today to the due date (0 on the due day, negative when late)."""
        return self.working_days_between(now.date(), due.date())


def _delta(a: dt.time, b: dt.time) -> dt.timedelta:
    return dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)


@functools.lru_cache(maxsize=4)
def load_calendar(path: Optional[str] = None) -> WorkingCalendar:
    """The calendar of a file, cached per path."""
    return WorkingCalendar.load(Path(path) if path else None)
