"""Requests for a person are limited per conversation and per client (settings.handoff_per_hour, here 3)."""
import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.context as context
from actions.feedback import ActionHandoff
from tests.actions.conftest import make_tracker

LIMITED = "Yêu cầu gặp cán bộ đã được gửi nhiều lần trong một giờ qua nên mình chưa gửi thêm"


@pytest.fixture
def friday_morning(monkeypatch):
    import actions.feedback

    monkeypatch.setattr(actions.feedback, "now_local", lambda: dt.datetime(2026, 11, 20, 10, 0))


def ask(sender: str, client: str = "client-a") -> str:
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, make_tracker("cho gặp cán bộ", "request_human", channel="web",
                                                          sender=sender, metadata={"motcua_client": client}), {})
    assert events == []
    (message,) = dispatcher.messages
    return message["text"]


def test_a_conversation_gets_three_requests_an_hour(friday_morning):
    store = context.handoffs()
    for _ in range(3):
        assert "cán bộ sẽ vào trò chuyện tại đây" in ask("web-one")
        assert store.release("web-one")  # staff handed it back; the citizen asks again
    text = ask("web-one")
    assert text == (f"{LIMITED}; cán bộ sẽ trả lời các yêu cầu đã gửi. Nếu cần gấp, bây giờ bạn gọi tổng đài "
                    "0123 456 789 hoặc đến Bộ phận Một cửa (làm việc đến 12h00). Trong lúc chờ, bạn vẫn có thể hỏi "
                    "mình về thủ tục.")
    assert store.get("web-one")["state"] == "closed" and len(store.alerts()) == 3


def test_fresh_sessions_of_one_client_share_its_allowance(friday_morning):
    store = context.handoffs()
    for i in range(3):
        assert "cán bộ sẽ vào trò chuyện" in ask(f"web-fresh-{i}")
    assert ask("web-fresh-3").startswith(LIMITED)
    assert store.get("web-fresh-3") is None and len(store.alerts()) == 3
    assert "cán bộ sẽ vào trò chuyện" in ask("web-other", client="client-b")  # another client is not held back


def test_asking_again_while_waiting_is_not_a_new_request(friday_morning):
    store = context.handoffs()
    for _ in range(5):
        assert "cán bộ sẽ vào trò chuyện" in ask("web-waiting")
    assert store.recent_requests("web-waiting", "client-a") == (1, 1) and len(store.alerts()) == 1


def test_the_allowance_comes_back_after_an_hour_and_old_rows_go(monkeypatch):
    import actions.feedback

    monkeypatch.setattr(actions.feedback, "now_local", lambda: dt.datetime(2026, 11, 20, 18, 30))  # Friday evening
    store = context.handoffs()
    now = [dt.datetime(2026, 11, 20, 18, 30)]
    monkeypatch.setattr(store, "clock", lambda: now[0])
    for i in range(3):
        ask(f"web-late-{i}")
    assert "từ 8h00 thứ Hai, 23/11. Trong lúc chờ" in ask("web-late-3")  # when the desk opens next
    now[0] += dt.timedelta(hours=1, minutes=1)
    assert "cán bộ sẽ trả lời tại đây" in ask("web-late-3")
    now[0] += dt.timedelta(days=2)
    ask("web-late-4")
    assert store.recent_requests("web-late-0", "client-a", within=dt.timedelta(days=30)) == (0, 1)
