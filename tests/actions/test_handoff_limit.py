"""Requests for a person are limited per conversation (settings.channels.handoff_per_hour, 3) and per client address
(settings.channels.handoff_per_hour_address, 12: many citizens may share one), counted and queued one at a time."""
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import ActionHandoff
from tests.actions.conftest import make_tracker
from tests.dossiers.conftest import db_url  # noqa: F401  (both back ends)

LIMITED = "Bạn đã gửi yêu cầu gặp cán bộ nhiều lần trong một giờ qua nên mình chưa gửi thêm"
LIMITED_ADDRESS = ("Hiện có quá nhiều yêu cầu gặp cán bộ từ cùng kết nối mạng này nên lúc này mình chưa gửi được "
                   "yêu cầu của bạn.")


@pytest.fixture
def friday_morning(ctx):
    ctx.clock = lambda: dt.datetime(2026, 11, 20, 10, 0)
    return ctx


def ask(sender: str, client: str = "client-a") -> str:
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, make_tracker("cho gặp cán bộ", "request_human", channel="web",
                                                          sender=sender, metadata={"motcua_client": client}), {})
    assert events == []
    (message,) = dispatcher.messages
    return message["text"]


def test_a_conversation_gets_three_requests_an_hour(friday_morning):
    store = friday_morning.handoffs
    for _ in range(3):
        assert "cán bộ sẽ vào trò chuyện tại đây" in ask("web-one")
        assert store.release("web-one")  # staff handed it back; the citizen asks again
    text = ask("web-one")
    assert text == (f"{LIMITED}; cán bộ sẽ trả lời các yêu cầu bạn đã gửi. Nếu cần gấp, bây giờ bạn gọi tổng đài "
                    "0123 456 789 hoặc đến Bộ phận Một cửa (làm việc đến 12h00). Trong lúc chờ, bạn vẫn có thể hỏi "
                    "mình về thủ tục.")
    assert store.get("web-one")["state"] == "closed" and len(store.alerts()) == 3


def test_fresh_sessions_of_one_client_share_its_allowance(friday_morning):
    store = friday_morning.handoffs
    for i in range(12):  # citizens behind one carrier address: each asks once
        assert "cán bộ sẽ vào trò chuyện" in ask(f"web-fresh-{i}")
    text = ask("web-fresh-12")
    assert text == (f"{LIMITED_ADDRESS} Nếu cần gấp, bây giờ bạn gọi tổng đài 0123 456 789 hoặc đến Bộ phận Một cửa "
                    "(làm việc đến 12h00). Trong lúc chờ, bạn vẫn có thể hỏi mình về thủ tục.")
    assert store.get("web-fresh-12") is None and len(store.alerts()) == 12
    assert "cán bộ sẽ vào trò chuyện" in ask("web-other", client="client-b")  # another client is not held back


def test_parallel_requests_from_fresh_sessions_are_counted_one_after_another(db_url):  # noqa: F811
    """20 fresh sessions of one client ask at once: exactly the allowance is queued, on either back end
    (a clock that takes its time widens the gap between counting and queueing)."""
    from core.stores.handoff import LIMITED_CLIENT, HandoffStore

    def slow_clock():
        time.sleep(0.02)
        return dt.datetime(2026, 11, 20, 10, 0)

    store = HandoffStore(db_url, clock=slow_clock)
    start = threading.Barrier(20)

    def request(i):
        start.wait()
        return store.request(f"web-par-{i}", "web", "client-a", per_hour=3, per_hour_client=5)

    with ThreadPoolExecutor(max_workers=20) as pool:
        states = list(pool.map(request, range(20)))
    assert sorted(states) == [LIMITED_CLIENT] * 15 + ["requested"] * 5
    assert len(store.alerts()) == 5 and store.recent_requests("web-par-0", "client-a")[1] == 5
    store.engine.dispose()


def test_asking_again_while_waiting_is_not_a_new_request(friday_morning):
    store = friday_morning.handoffs
    for _ in range(5):
        assert "cán bộ sẽ vào trò chuyện" in ask("web-waiting")
    assert store.recent_requests("web-waiting", "client-a") == (1, 1) and len(store.alerts()) == 1


def test_the_allowance_comes_back_after_an_hour_and_old_rows_go(ctx):
    now = [dt.datetime(2026, 11, 20, 18, 30)]  # Friday evening
    ctx.clock = lambda: dt.datetime(2026, 11, 20, 18, 30)
    store = ctx.handoffs
    store.clock = lambda: now[0]
    for i in range(12):
        ask(f"web-late-{i}")
    assert "từ 8h00 thứ Hai, 23/11. Trong lúc chờ" in ask("web-late-12")  # when the desk opens next
    now[0] += dt.timedelta(hours=1, minutes=1)
    assert "cán bộ sẽ trả lời tại đây" in ask("web-late-12")
    now[0] += dt.timedelta(days=2)
    ask("web-late-new")  # a new request clears the rows of two days ago
    assert store.recent_requests("web-late-0", "client-a", within=dt.timedelta(days=30)) == (0, 1)
