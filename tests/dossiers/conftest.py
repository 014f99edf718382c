"""Fixtures of the dossier service: both back ends (SQLite file, real PostgreSQL: ``tests.backends``), a settable
clock."""
from __future__ import annotations

import datetime as dt

import pytest

from core.privacy import Hasher
from dossiers.calendar import WorkingCalendar
from dossiers.service import DossierRecord, DossierService
from tests.backends import Databases


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 20, 10, 0))


@pytest.fixture(scope="session")
def calendar():
    return WorkingCalendar.load()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database on each back end, whichever the suite runs on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'core.db'}"
        return
    databases = Databases(tmp_path, request.getfixturevalue("postgres_url"))
    yield databases.postgres("core")
    databases.drop()


def limits(procedure_code, channel):
    return {"online": (10, "working_day"), "direct": (10, "working_day"), "postal": (15, "day")}.get(channel)


@pytest.fixture
def service(db_url, clock, calendar):
    svc = DossierService(db_url, Hasher(b"test-key-0123456789abcdef"), calendar, time_limits=limits, clock=clock)
    yield svc
    svc.close()


CODE = "000.00.06.H56-261110-0001"


def make_record(**kw) -> DossierRecord:
    values = dict(
        code=CODE,
        procedure_code="1.012786",
        channel="online",
        received_at=dt.datetime(2026, 11, 10, 9),
        status_code=4,
        status_at=dt.datetime(2026, 11, 10, 9),
        procedure_name="Cấp lại Giấy chứng nhận do bị mất",
        applicant_name="Nguyễn Văn An",
        phone="0912 345 678",
        citizen_id="079203004567",
        handling_unit="Văn phòng đăng ký đất đai",
        current_step="Thẩm định hồ sơ",
    )
    values.update(kw)
    return DossierRecord(**values)
