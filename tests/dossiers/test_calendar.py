"""Working-day calculator on real 2025-2027 cases."""
import datetime as dt

import pytest

from dossiers.calendar import CalendarError, WorkingCalendar

D = dt.datetime


@pytest.mark.parametrize("start, value, unit, due", [
    # Issue's example: Friday before Hùng Kings day (Sunday 26/4/2026, observed Monday 27/4) and 30/4-1/5.
    (D(2026, 4, 24, 9), 3, "working_day", D(2026, 5, 4, 9)),
    # Tết 2026: 16-20/2 off, with the weekends around it.
    (D(2026, 2, 13, 10), 1, "working_day", D(2026, 2, 23, 10)),
    (D(2026, 2, 12, 9), 2, "working_day", D(2026, 2, 23, 9)),
    # Ngày Văn hóa Việt Nam, 24/11, a public holiday from 2026 (Tuesday).
    (D(2026, 11, 23, 9), 1, "working_day", D(2026, 11, 25, 9)),
    (D(2026, 11, 23, 8), 2, "working_day", D(2026, 11, 25, 17)),
    # National Day 2026: 1/9 (Tue) and 2/9 (Wed); filed on Monday 31/8 (a swapped day off): counted from 3/9.
    (D(2026, 8, 31, 14), 1, "working_day", D(2026, 9, 3, 17)),
    # The government's 2026 swap: Monday 31/8 off, Saturday 22/8 worked (the example).
    (D(2026, 8, 28, 9), 2, "working_day", D(2026, 9, 4, 9)),
    (D(2026, 8, 21, 9), 1, "working_day", D(2026, 8, 22, 9)),
    # National Day 2027: 2/9 (Thu) and 3/9 (Fri).
    (D(2027, 9, 1, 10), 1, "working_day", D(2027, 9, 6, 10)),
    # 2/9/2028 is a Saturday: 1/9 (Friday) off and compensatory Monday 4/9.
    (D(2028, 8, 31, 9), 1, "working_day", D(2028, 9, 5, 9)),
    # 1/5/2027 is a Saturday: compensatory day Monday 3/5.
    (D(2027, 4, 29, 9), 1, "working_day", D(2027, 5, 4, 9)),
    # Government swaps: Saturday 26/4/2025 worked, Friday 2/5/2025 off.
    (D(2025, 4, 25, 9), 1, "working_day", D(2025, 4, 26, 9)),
    (D(2025, 4, 29, 9), 1, "working_day", D(2025, 5, 5, 9)),
    # Tết 2027 (4-10/2).
    (D(2027, 2, 3, 9), 1, "working_day", D(2027, 2, 11, 9)),
    # Late filing (after 16:00) counts from the next working day's start.
    (D(2026, 11, 20, 16, 30), 1, "working_day", D(2026, 11, 23, 17)),
    # Filed on a Saturday: counts from Monday 08:00.
    (D(2026, 11, 21, 10), 0.5, "working_day", D(2026, 11, 23, 12)),
    # Lunch break: filed at 12:30 counts from 13:00.
    (D(2026, 11, 20, 12, 30), 4, "working_hour", D(2026, 11, 20, 17)),
    # Calendar days ending on a day off move to the end of the next working day (Civil Code art. 148).
    (D(2027, 4, 16, 10), 15, "day", D(2027, 5, 4, 17)),
    (D(2026, 4, 20, 10), 15, "day", D(2026, 5, 5, 10)),
    # Plain hours.
    (D(2026, 11, 20, 10), 48, "hour", D(2026, 11, 22, 10)),
    (D(2026, 1, 30, 9), 1, "month", D(2026, 3, 2, 17)),
])
def test_due_dates(calendar, start, value, unit, due):
    assert calendar.due(start, value, unit) == due


@pytest.mark.parametrize("day, working", [
    (dt.date(2026, 2, 16), False), (dt.date(2026, 2, 20), False), (dt.date(2026, 2, 23), True),
    (dt.date(2026, 4, 27), False), (dt.date(2026, 11, 24), False), (dt.date(2026, 1, 2), False),
    (dt.date(2026, 1, 10), True), (dt.date(2026, 1, 11), False), (dt.date(2025, 9, 1), False),
])
def test_working_days(calendar, day, working):
    assert calendar.is_working_day(day) is working


def test_recurring_holiday_on_weekend_gets_compensatory_day(calendar):
    # 24/11/2029 is a Saturday: Monday 26/11/2029 is the compensatory day off.
    assert not calendar.is_working_day(dt.date(2029, 11, 26))
    assert calendar.is_working_day(dt.date(2029, 11, 27))
    assert calendar.is_working_day(dt.date(2025, 11, 24))  # not a holiday before 2026


def test_a_recurring_holiday_staff_add_counts_with_its_compensatory_day(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text("recurring_holidays: [{date: '06-28', from_year: 2031, name: Ngày mới}]\n", encoding="utf-8")
    calendar = WorkingCalendar.load(path)
    assert calendar.is_working_day(dt.date(2030, 6, 28))  # before its first year
    assert not calendar.is_working_day(dt.date(2031, 6, 27 + 3))  # 28/6/2031 is a Saturday: Monday 30/6 off
    assert calendar.is_working_day(dt.date(2031, 7, 1))


def test_the_calendar_is_the_library_plus_the_staff_file_day_by_day(calendar):
    """2025-2027, every day: working exactly when the `holidays` package says so, except the days the
    staff file adds (swaps the package does not know), listed here so that a change to either shows."""
    import holidays

    library = holidays.country_holidays("VN", years=range(2025, 2028), language="vi")
    differ = {}
    day = dt.date(2025, 1, 1)
    while day <= dt.date(2027, 12, 31):
        by_library = (day.weekday() < 5 and day not in library) or day in library.weekend_workdays
        if calendar.is_working_day(day) != by_library:
            differ[day] = calendar.is_working_day(day)
        day += dt.timedelta(days=1)
    assert differ == {dt.date(2026, 1, 2): False, dt.date(2026, 1, 10): True}
    assert holidays.__version__ == "0.107"


def test_working_days_between(calendar):
    assert calendar.working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 23)) == 1
    assert calendar.working_days_between(dt.date(2026, 2, 23), dt.date(2026, 2, 13)) == -1


def test_staff_edited_calendar(tmp_path):
    path = tmp_path / "calendar.yml"
    path.write_text("office_hours: [['07:30', '11:30'], ['13:30', '17:00']]\nlate_filing_cutoff: '15:00'\n"
                    "days_off: [{date: 2026-12-31, name: test}]\nworking_days: [{date: 2026-12-26}]\n")
    cal = WorkingCalendar.load(path)
    assert cal.day_length == dt.timedelta(hours=7, minutes=30)
    assert not cal.is_working_day(dt.date(2026, 12, 31)) and cal.is_working_day(dt.date(2026, 12, 26))
    assert cal.due(D(2026, 12, 30, 15, 30), 1) == D(2027, 1, 4, 17)  # after 15:00; 31/12 and 1/1 off


@pytest.mark.parametrize("content, message", [
    ("office_hours: [['8h', '12:00']]", "HH:MM"),
    ("office_hours: [['13:00', '12:00']]", "increasing"),
    ("days_off: [{date: 31/12/2026}]", "YYYY-MM-DD"),
    ("recurring_holidays: [{date: '13-40'}]", "MM-DD"),
    ("office_hours: [", "calendar.yml"),
])
def test_bad_calendar_file_names_the_problem(tmp_path, content, message):
    path = tmp_path / "calendar.yml"
    path.write_text(content)
    with pytest.raises(CalendarError, match=message):
        WorkingCalendar.load(path)


def test_invalid_limits(calendar):
    with pytest.raises(CalendarError):
        calendar.due(D(2026, 1, 5, 9), -1)
    with pytest.raises(CalendarError):
        calendar.due(D(2026, 1, 5, 9), 1.5, "month")
    with pytest.raises(CalendarError):
        calendar.due(D(2026, 1, 5, 9), 1, "unspecified")
