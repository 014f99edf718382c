"""The one date and time formatter for what citizens and staff read.

A time of day is written as Vietnamese offices write it ("8h00", "13h30"): the desk's hours, the
handoff replies and the dossier replies all use it. Machine formats (ISO stamps in logs, files and
the command line) are not formatted here.
"""
from __future__ import annotations

import datetime as dt
from typing import Union

from core.vocabulary import WEEKDAYS

Moment = Union[dt.datetime, dt.date]


def date(value: Moment) -> str:
    """'25/11/2026'."""
    return f"{value:%d/%m/%Y}"


def short_date(value: Moment) -> str:
    """'25/11' (the year goes without saying: the next days)."""
    return f"{value:%d/%m}"


def weekday(value: Moment) -> str:
    """'thứ Tư'."""
    return WEEKDAYS[value.weekday()]


def day(value: Moment) -> str:
    """'thứ Tư, 25/11/2026'."""
    return f"{weekday(value)}, {date(value)}"


def clock(value: Union[dt.time, dt.datetime]) -> str:
    """A time of day: '8h00', '13h30'."""
    return f"{value.hour}h{value.minute:02d}"


def moment(value: dt.datetime) -> str:
    """A time and its day: '9h00 thứ Tư, 25/11/2026'."""
    return f"{clock(value)} {day(value)}"


def soon(value: dt.datetime) -> str:
    """A time in the next days: '8h00 thứ Tư, 25/11'."""
    return f"{clock(value)} {weekday(value)}, {short_date(value)}"


def stamp(value: dt.datetime) -> str:
    """A compact time and date for staff alerts and lists: '16:30 23/11/2026'."""
    return f"{value:%H:%M} {date(value)}"
