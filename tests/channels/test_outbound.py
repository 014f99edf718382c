"""Notices outside a reply: claimed, sent once, failures retried with backoff, each channel's rules."""
import asyncio
import datetime as dt

import pytest

from channels.outbound import Deliverer, NotDeliverable, web_sender, zalo_sender
from channels.state import ChannelState
from core.privacy import Hasher
from dossiers.calendar import WorkingCalendar
from dossiers.service import DossierService
from tests.dossiers.conftest import CODE, Clock, limits, make_record


@pytest.fixture
def clock():
    return Clock(dt.datetime(2026, 11, 20, 10, 0))


@pytest.fixture
def service(new_db, clock):
    svc = DossierService(new_db("db"), Hasher(b"test-key-0123456789abcdef"),
                         WorkingCalendar.load(), time_limits=limits, clock=clock)
    yield svc
    svc.close()


def queue_notices(service, *subscribers):
    service.upsert(make_record())
    for conversation, channel in subscribers:
        service.subscribe(CODE, conversation, channel)
    service.upsert(make_record(status_code=9, status_at=dt.datetime(2026, 11, 19, 15)))


class Recorder:
    def __init__(self, fail_times=0):
        self.sent, self.fail_times = [], fail_times

    async def __call__(self, conversation, text):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("Telegram not reachable")
        await asyncio.sleep(0.01)
        self.sent.append((conversation, text))


def test_each_notice_is_sent_once_even_with_two_deliverers(service):
    queue_notices(service, ("tg-1", "telegram"), ("tg-2", "telegram"))
    recorder = Recorder()

    async def both():
        return await asyncio.gather(Deliverer(service, {"telegram": recorder}).run_once(),
                                    Deliverer(service, {"telegram": recorder}).run_once())

    counts = asyncio.run(both())
    assert sum(c["sent"] for c in counts) == 2
    assert sorted(c for c, _ in recorder.sent) == ["tg-1", "tg-2"]
    assert "Đã xử lý xong" in recorder.sent[0][1]
    assert asyncio.run(Deliverer(service, {"telegram": recorder}).run_once())["sent"] == 0
    assert [r["state"] for r in service.outbox_rows()] == ["sent", "sent"]


def test_failures_are_recorded_and_retried_with_backoff(service, clock):
    queue_notices(service, ("tg-1", "telegram"))
    recorder = Recorder(fail_times=1)
    deliver = Deliverer(service, {"telegram": recorder})
    assert asyncio.run(deliver.run_once()) == {"sent": 0, "retry": 1, "failed": 0, "waiting": 0, "expired": 0,
                                               "unknown": 0, "alerted": 0}
    row = service.outbox_rows()[0]
    assert row["state"] == "pending" and "not reachable" in row["last_error"] and row["attempts"] == 1
    assert asyncio.run(deliver.run_once())["sent"] == 0  # backing off
    clock.advance(seconds=31)
    assert asyncio.run(deliver.run_once())["sent"] == 1
    assert service.outbox_rows()[0]["state"] == "sent" and len(recorder.sent) == 1


def test_a_claimed_notice_is_not_sent_again(service):
    queue_notices(service, ("tg-1", "telegram"))
    notice = service.due_notices()[0]
    assert service.claim_next()["id"] == notice["id"] and service.claim_next() is None
    assert service.due_notices() == []  # a deliverer that died mid-send does not cause a second send


def test_deliverers_take_different_notices_and_never_wait_on_one_another(service, new_db, clock):
    """One notice per claim, the oldest first; a second deliverer (another node's service on the same database)
    skips a notice the first holds instead of waiting for it (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
    import threading

    from sqlalchemy import select

    from dossiers.schema import outbox

    queue_notices(service, ("tg-1", "telegram"), ("tg-2", "telegram"), ("zalo-3", "zalo"))
    other = DossierService(new_db("db"), Hasher(b"test-key-0123456789abcdef"), WorkingCalendar.load(),
                           time_limits=limits, clock=clock)
    try:
        first = service.claim_next(["telegram"])
        assert first["state"] == "sending" and first["conversation_id"] == "tg-1"
        if service.engine.dialect.name == "postgresql":  # a deliverer mid-claim holds the oldest pending row
            with service.engine.begin() as conn:
                held = conn.execute(select(outbox.c.id).where(outbox.c.state == "pending").order_by(outbox.c.id)
                                    .limit(1).with_for_update()).scalar()
                taken = []
                worker = threading.Thread(target=lambda: taken.append(other.claim_next()))
                worker.start()
                worker.join(timeout=5)
                assert not worker.is_alive(), "the second deliverer waited for the first one's row"
                assert taken[0]["id"] != held and taken[0]["conversation_id"] == "zalo-3"
        else:
            assert other.claim_next(["telegram"])["conversation_id"] == "tg-2"
        states = {r["conversation_id"]: r["state"] for r in service.outbox_rows()}
        assert list(states.values()).count("sending") == 2 and states["tg-1"] == "sending"
    finally:
        other.close()


def test_zalo_respects_the_reply_window_and_web_needs_an_open_widget(new_db):
    now = [dt.datetime(2026, 11, 20, 10, 0)]
    state = ChannelState(new_db("s"), clock=lambda: now[0])

    class Client:
        sent = []

        async def send_text(self, user, text):
            self.sent.append((user, text))

    send_zalo = zalo_sender(Client(), state, window_hours=168, clock=lambda: now[0])
    send_web = web_sender(state, connected_s=90, clock=lambda: now[0])
    with pytest.raises(NotDeliverable, match="reply window"):
        asyncio.run(send_zalo("zalo-u1", "Hồ sơ …"))  # never wrote to the OA
    state.inbound("zalo", "zalo-u1")
    now[0] += dt.timedelta(hours=100)
    asyncio.run(send_zalo("zalo-u1", "Hồ sơ …"))
    assert Client.sent == [("u1", "Hồ sơ …")]
    now[0] += dt.timedelta(hours=100)
    with pytest.raises(NotDeliverable):
        asyncio.run(send_zalo("zalo-u1", "Hồ sơ …"))
    with pytest.raises(NotDeliverable, match="not open"):
        asyncio.run(send_web("web-abcdefgh1", "Hồ sơ …"))
    state.polled("web", "web-abcdefgh1")
    asyncio.run(send_web("web-abcdefgh1", "Hồ sơ …"))
    assert [m["text"] for m in state.web_fetch("web-abcdefgh1")] == ["Hồ sơ …"]
    state.close()


def test_a_notice_the_channel_cannot_take_yet_waits_without_using_its_tries_and_expires_by_age(service, clock):
    queue_notices(service, ("web-abcdefgh1", "web"))
    widget = {"open": False, "sent": []}

    async def send_web(conversation, text):
        if not widget["open"]:
            raise NotDeliverable("the web widget is not open", retry_in=60)
        widget["sent"].append(conversation)

    deliver = Deliverer(service, {"web": send_web}, max_age=dt.timedelta(hours=2))
    for _ in range(10):  # ten closed-widget rounds: no try is used up, nothing fails
        assert asyncio.run(deliver.run_once())["waiting"] == 1
        clock.advance(seconds=61)
    row = service.outbox_rows()[0]
    assert row["state"] == "pending" and row["attempts"] == 0 and "not open" in row["last_error"]
    widget["open"] = True
    assert asyncio.run(deliver.run_once())["sent"] == 1 and widget["sent"] == ["web-abcdefgh1"]

    queue_notices(service, ("web-abcdefgh2", "web"))  # a second dossier's notice, never taken
    service.upsert(make_record(status_code=10, status_at=dt.datetime(2026, 11, 20, 9)))
    widget["open"] = False
    clock.advance(hours=3)
    counts = asyncio.run(deliver.run_once())
    assert counts["expired"] >= 1 and counts["sent"] == 0
    assert {r["state"] for r in service.outbox_rows()} == {"sent", "expired"}
    assert asyncio.run(deliver.run_once()) == {"sent": 0, "retry": 0, "failed": 0, "waiting": 0, "expired": 0,
                                               "unknown": 0, "alerted": 0}


def test_a_send_whose_outcome_is_unknown_is_never_repeated(service, clock):
    class ReadTimeout(Exception):  # as httpx names it: the request went out, no answer came back
        pass

    queue_notices(service, ("tg-1", "telegram"))
    calls = []

    async def send(conversation, text):
        calls.append(conversation)
        raise ReadTimeout("no answer in 10 s")

    deliver = Deliverer(service, {"telegram": send})
    assert asyncio.run(deliver.run_once())["unknown"] == 1
    clock.advance(hours=1)
    assert asyncio.run(deliver.run_once())["unknown"] == 0 and calls == ["tg-1"]
    row = service.outbox_rows()[0]
    assert row["state"] == "unknown" and "ReadTimeout" in row["last_error"]
    # staff are told once, without the dossier code or the conversation
    alerts = service.notice_alerts()
    assert [(a["stuck"], a["unknown"]) for a in alerts] == [(0, 1)]
    assert row["alerted_at"] is not None


def test_a_notice_left_sending_by_a_dead_deliverer_raises_one_staff_alert(service, clock):
    from channels.staff_alerts import NoticeAlerter

    queue_notices(service, ("tg-1", "telegram"), ("tg-2", "telegram"))
    first = service.due_notices()[0]
    assert service.claim_next()["id"] == first["id"]  # the deliverer dies here, mid-send
    clock.advance(minutes=5)
    assert service.watch_stuck() is None  # a send in progress is not stuck yet
    recorder = Recorder()
    assert asyncio.run(Deliverer(service, {"telegram": recorder}).run_once())["sent"] == 1
    clock.advance(minutes=6)
    deliver = Deliverer(service, {"telegram": recorder})
    assert asyncio.run(deliver.run_once())["alerted"] == 1
    assert asyncio.run(deliver.run_once())["alerted"] == 0  # counted once
    assert [r["state"] for r in service.outbox_rows()] == ["sending", "sent"]  # never sent again by itself
    assert [c for c, _ in recorder.sent] == ["tg-2"]

    sent = []

    async def group(text, fields):
        sent.append((text, fields))

    assert asyncio.run(NoticeAlerter(service, {"telegram": group}).run_once())["sent"] == 1
    assert asyncio.run(NoticeAlerter(service, {"telegram": group}).run_once())["sent"] == 0
    text, fields = sent[0]
    assert "1 thông báo bị dừng giữa lúc gửi" in text and "motcua dossiers outbox" in text
    assert CODE not in text and "tg-1" not in text and fields["stuck"] == 1 and fields["unknown"] == 0
