"""The one clock: what time it is in Vietnam, and the UTC stamps some tables keep.

Stores record naive Vietnam time (`now_local`); the channels' own tables keep naive UTC (`utc_now`),
and Rasa's events Unix time. Every "now" in the code comes from here, so a test can fix it in one place.
"""
from __future__ import annotations

import datetime as dt
import os
import time

VN_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
# Vietnam time as a POSIX TZ string (UTC+7 all year; no daylight saving since 1975). A POSIX string
# needs no tz database, so it works on slim images without tzdata.
VIETNAM_TZ = "<+07>-7"


def now_local() -> dt.datetime:
    """The current time in Vietnam, naive (how the stores record it)."""
    return dt.datetime.now(VN_TZ).replace(tzinfo=None)


def today_local() -> dt.date:
    """Today's date in Vietnam."""
    return now_local().date()


def utc_now() -> dt.datetime:
    """The current time in UTC, naive (the channels' tables)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def as_vietnam(moment: dt.datetime) -> dt.datetime:
    """An aware moment in Vietnam time; a naive one is taken as Vietnam time already."""
    return moment.replace(tzinfo=VN_TZ) if moment.tzinfo is None else moment.astimezone(VN_TZ)


def use_vietnam_time() -> None:
    """Run this process, and the servers it starts, on Vietnam time.

    Libraries (Rasa, logging) read the process's local time: a server whose clock runs on UTC would
    otherwise log and stamp a citizen's 9:00 question at 2:00. Child processes inherit TZ.
    """
    if os.environ.get("TZ") != VIETNAM_TZ:
        os.environ["TZ"] = VIETNAM_TZ
        time.tzset()
