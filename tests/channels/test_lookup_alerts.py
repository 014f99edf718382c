"""Enumeration alerts of the dossier service go out through the staff-alert targets: once per target,
a failing target retried alone, old alerts skipped, and nothing personal in them."""
import asyncio
import datetime as dt

import pytest

from channels.staff_alerts import LookupAlerter
from core.privacy import Hasher
from dossiers.calendar import WorkingCalendar
from dossiers.service import DossierService
from tests.dossiers.conftest import Clock, make_record

PROBER = "c" * 32


class Target:
    def __init__(self, fail_times=0):
        self.sent, self.fail_times = [], fail_times

    async def __call__(self, text, fields):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("group chat not reachable")
        self.sent.append((text, fields))


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 20, 10, 0))


@pytest.fixture
def service(new_db, clock):
    svc = DossierService(new_db("db"), Hasher(b"alert-tests-key-0123456789"),
                         WorkingCalendar.load(), clock=clock)
    svc.upsert(make_record())
    yield svc
    svc.close()


def probe(service, first=0, count=8, client=PROBER):
    for i in range(first, first + count):
        service.lookup(f"web-p{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=client)


def alerter(service, **targets):
    return LookupAlerter(service, targets, "https://mot-cua.example.vn/console/")


def test_every_target_gets_the_alert_once_without_personal_data(service):
    probe(service)
    group, hook = Target(), Target()
    assert asyncio.run(alerter(service, telegram=group, webhook=hook).run_once()) == {
        "sent": 1, "retry": 0, "failed": 0, "skipped": 0}
    assert asyncio.run(alerter(service, telegram=group, webhook=hook).run_once())["sent"] == 0
    assert group.sent == hook.sent
    text, fields = group.sent[0]
    assert text == ("⚠️ Có dấu hiệu dò mã hồ sơ: 8 mã hồ sơ khác nhau bị tra cứu sai từ cùng một địa chỉ trong vòng "
                    "1 giờ (lúc 10:00 20/11/2026). Xem các khóa tra cứu đang áp dụng và mở khóa nếu cần: "
                    "https://mot-cua.example.vn/console/dossier-locks")
    assert fields == {"kind": "dossier_lookup_enumeration", "alert_id": 1, "codes": 8,
                      "raised_at": "2026-11-20T10:00:00+07:00",
                      "url": "https://mot-cua.example.vn/console/dossier-locks"}
    assert PROBER[:8] not in repr(group.sent) and "web-p" not in repr(group.sent) and "261110" not in repr(group.sent)
    assert [(a["state"], a["delivered_to"]) for a in service.lookup_alerts()] == [("sent", "telegram,webhook")]


def test_a_failing_target_is_retried_alone(service, clock):
    probe(service)
    group, hook = Target(), Target(fail_times=1)
    assert asyncio.run(alerter(service, telegram=group, webhook=hook).run_once())["retry"] == 1
    clock.advance(seconds=31)
    assert asyncio.run(alerter(service, telegram=group, webhook=hook).run_once())["sent"] == 1
    assert len(group.sent) == 1 and len(hook.sent) == 1


def test_an_old_alert_is_skipped(service, clock):
    probe(service)
    clock.advance(hours=13)
    group = Target()
    assert asyncio.run(alerter(service, telegram=group).run_once())["skipped"] == 1
    assert group.sent == [] and service.lookup_alerts()[0]["state"] == "skipped"
