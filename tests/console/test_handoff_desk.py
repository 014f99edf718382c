"""The live handoff desk: the store's desk rows (the citizen's last message, the wait, unread per staff member),
transcript pages by id, the polling JSON endpoints, and staff display names (what citizens see, who may change
them, the command line)."""
import datetime as dt
import json
import re

import pytest

from console.store import NAME_MAX, ConsoleStore
from core.stores.handoff import HandoffStore
from core.stores.review_log import ReviewLog
from tests.console.conftest import csrf_of, login

CONVERSATION = "web-aaaaaaaa1"


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 20, 9)

    def __call__(self):
        return self.now

    def tick(self, **kw):
        self.now += dt.timedelta(**kw)


@pytest.fixture
def desk(new_db):
    clock = Clock()
    url = new_db("desk")
    return HandoffStore(url, clock), ReviewLog(url), clock


def row_of(store, staff, conversation):
    rows, _ = store.desk(staff)
    return next(r for r in rows if r["conversation_id"] == conversation)


# The store ----------------------------------------------------------------------------------------------
def test_the_desk_shows_the_last_message_the_wait_and_what_each_staff_member_has_not_read(desk):
    store, review, clock = desk
    review.record_unanswered("tg-1", "telegram", "cho tôi gặp cán bộ, sđt 0912345678", "handoff_requested",
                             when=clock())
    assert store.request("tg-1", "telegram") == "requested"
    waiting = row_of(store, "lan", "tg-1")
    assert (waiting["state"], waiting["last_text"], waiting["waiting_since"], waiting["unread"]) == (
        "requested", "cho tôi gặp cán bộ, sđt ******5678", clock(), 0)  # the message that asked, masked

    clock.tick(minutes=3)
    assert store.take("tg-1", "telegram", "lan")
    store.add_message("tg-1", "system", "Cán bộ nhận cuộc trò chuyện", "lan")
    assert row_of(store, "lan", "tg-1")["waiting_since"] is None  # taken: nobody waits for an answer
    clock.tick(minutes=1)
    first = store.add_message("tg-1", "citizen", "tách thửa mất bao lâu?")
    asked_at = clock()
    clock.tick(minutes=2)
    second = store.add_message("tg-1", "citizen", "số của tôi 0987654321")
    row = row_of(store, "lan", "tg-1")
    assert (row["last_text"], row["last_at"], row["waiting_since"], row["unread"]) == (
        "số của tôi ******4321", clock(), asked_at, 2)
    assert row_of(store, "minh", "tg-1")["unread"] == 2  # unread is per staff member

    assert store.mark_seen("tg-1", "lan", first) == first
    assert row_of(store, "lan", "tg-1")["unread"] == 1 and row_of(store, "minh", "tg-1")["unread"] == 2
    assert store.mark_seen("tg-1", "lan", 1) == first  # never backwards
    assert store.mark_seen("tg-1", "lan", 10 ** 9) == second  # never past the last message
    assert row_of(store, "lan", "tg-1")["unread"] == 0 and store.seen("tg-1", "lan") == second

    clock.tick(minutes=1)
    store.add_message("tg-1", "staff", "Tách thửa mất 12 ngày.", "lan")
    assert row_of(store, "lan", "tg-1")["waiting_since"] is None  # answered

    assert store.release("tg-1")
    assert store.desk("lan") == ([], False) and store.seen("tg-1", "lan") == 0  # what was read goes with it
    assert store.mark_seen("tg-1", "lan", second) == 0  # nothing kept for a closed handoff


def test_a_new_hold_counts_only_its_own_messages_as_unread(desk):
    store, _, clock = desk
    store.take("zalo-7", "zalo", "lan")
    store.add_message("zalo-7", "citizen", "lần trước")
    store.release("zalo-7")
    clock.tick(hours=1)
    store.request("zalo-7", "zalo")
    assert row_of(store, "lan", "zalo-7")["unread"] == 0
    clock.tick(minutes=1)
    store.take("zalo-7", "zalo", "lan")
    clock.tick(minutes=1)
    store.add_message("zalo-7", "citizen", "lần này")
    assert row_of(store, "lan", "zalo-7")["unread"] == 1


def test_the_desk_lists_the_oldest_requests_first_and_is_capped(desk):
    store, _, clock = desk
    for i in range(5):
        store.request(f"web-{i}", "web")
        clock.tick(minutes=1)
    store.take("tg-9", "telegram", "lan")  # taken without a request: listed by when it was taken
    rows, more = store.desk("lan", limit=3)
    assert [r["conversation_id"] for r in rows] == ["web-0", "web-1", "web-2"] and more
    rows, more = store.desk("lan", limit=10)
    assert [r["conversation_id"] for r in rows] == ["web-0", "web-1", "web-2", "web-3", "web-4", "tg-9"]
    assert not more


def test_transcripts_page_by_message_id(desk):
    store, _, _ = desk
    ids = [store.add_message("tg-1", "citizen", f"tin {i}") for i in range(5)]
    assert [m["text"] for m in store.messages("tg-1", after=ids[1], limit=2)] == ["tin 2", "tin 3"]
    assert store.messages("tg-1", after=ids[-1]) == []
    latest, older = store.latest_messages("tg-1", limit=2)
    assert [m["text"] for m in latest] == ["tin 3", "tin 4"] and older
    assert store.latest_messages("tg-1", limit=5)[1] is False


# Display names --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, problem", [
    ("", "từ 1 đến 100"), ("   ", "từ 1 đến 100"), ("x" * (NAME_MAX + 1), "từ 1 đến 100"),
    ("Nguyễn\nThị Lan", "ký tự điều khiển"), ("Nguyễn\u200bLan", "ký tự ẩn"), ("Lan\x00", "ký tự điều khiển"),
])
def test_display_names_are_checked(console_env, name, problem):
    _, store = console_env
    user = store.user_id("editor")
    with pytest.raises(ValueError, match=problem):
        store.set_display_name(user, name, by="admin")
    with pytest.raises(ValueError, match=problem if name.strip() else "Tên đăng nhập"):
        store.create_user("moi" if name.strip() else "", "mot-mat-khau-dai-9", "viewer", full_name=name)


def test_a_display_name_is_cleaned_audited_and_looked_up(console_env):
    _, store = console_env
    user = store.user_id("editor")
    assert store.set_display_name(user, "  Nguyễn   Thị Lan ", by="admin") == "Nguyễn Thị Lan"
    entry = store.audit_log()[0]
    assert (entry["action"], entry["username"], entry["target"]) == ("display_name", "admin", "editor")
    assert json.loads(entry["detail"]) == {"old": "Cán bộ editor", "new": "Nguyễn Thị Lan"}
    store.create_user("khong.ten", "mot-mat-khau-dai-9", "editor")
    assert store.display_names(["editor", "khong.ten", "ai.do", None]) == {"editor": "Nguyễn Thị Lan"}
    with pytest.raises(ValueError, match="Không có tài khoản"):
        store.set_display_name(9999, "Lan", by="admin")


def test_the_command_line_sets_a_display_name(console_env, capsys):
    from motcua.console_cli import set_display_name

    settings, _ = console_env
    assert set_display_name(settings, "Editor", "Nguyễn Thị Lan") == 0
    assert 'citizens now see "Cán bộ Nguyễn Thị Lan"' in capsys.readouterr().out
    assert ConsoleStore(settings.storage.database_url).display_names(["editor"]) == {"editor": "Nguyễn Thị Lan"}
    assert set_display_name(settings, "ai.do", "Lan") == 2 and "no account" in capsys.readouterr().err
    assert set_display_name(settings, "editor", "") == 2


def test_staff_change_their_own_display_name_and_admins_anyone(client, console_env):
    _, store = console_env
    login(client, "viewer")
    assert "Công dân thấy bạn là <strong>Cán bộ Cán bộ viewer</strong>" in client.get("/profile").text
    bad = client.post("/profile", data={"display_name": "x" * 101, "csrf": csrf_of(client, "/profile")})
    assert bad.status_code == 400 and "từ 1 đến 100 ký tự" in bad.text
    assert client.post("/profile", data={"display_name": "Trần Văn Minh"}).status_code == 403  # CSRF
    saved = client.post("/profile", data={"display_name": "Trần Văn Minh", "csrf": csrf_of(client, "/profile")})
    assert saved.status_code == 303 and saved.headers["location"] == "/profile?msg=name"
    assert store.display_names(["viewer"]) == {"viewer": "Trần Văn Minh"}
    editor = store.user_id("editor")
    assert client.post(f"/users/{editor}/name", data={"display_name": "X", "csrf": csrf_of(client, "/profile")}
                       ).status_code == 403  # only admins rename others

    client.cookies.clear()
    login(client, "admin")
    assert client.post(f"/users/{editor}/name", data={"display_name": "Nguyễn Thị Lan",
                                                      "csrf": csrf_of(client, "/users")}).status_code == 303
    assert store.display_names(["editor"]) == {"editor": "Nguyễn Thị Lan"}
    assert 'value="Nguyễn Thị Lan"' in client.get("/users").text
    bad = client.post(f"/users/{editor}/name", data={"display_name": " ", "csrf": csrf_of(client, "/users")})
    assert bad.status_code == 400
    assert [e["action"] for e in store.audit_log()].count("display_name") == 2


def test_citizens_see_the_display_name_and_never_the_login_name(client, console_env):
    from channels.state import ChannelState

    settings, store = console_env
    HandoffStore(settings.storage.database_url).request(CONVERSATION, "web")
    store.create_user("canbo", "mot-mat-khau-dai-9", "editor")  # no display name
    login(client, "canbo", "mot-mat-khau-dai-9")
    page = f"/handoffs/{CONVERSATION}"
    client.post(page + "/take", data={"csrf": csrf_of(client, page)})
    client.post(page + "/reply", data={"text": "Chào bạn.", "csrf": csrf_of(client, page)})
    inbox = [m["text"] for m in ChannelState(settings.storage.database_url).web_fetch(CONVERSATION)]
    assert inbox == ["Một cán bộ của Sở đã tham gia trò chuyện. Bạn cứ nhắn, cán bộ sẽ trả lời tại đây.",
                     "Cán bộ Sở: Chào bạn."]
    assert not any("canbo" in text for text in inbox)
    client.post("/profile", data={"display_name": "Nguyễn Thị Lan", "csrf": csrf_of(client, "/profile")})
    client.post(page + "/reply", data={"text": "Bạn cần gì ạ?", "csrf": csrf_of(client, page)})
    inbox = [m["text"] for m in ChannelState(settings.storage.database_url).web_fetch(CONVERSATION)]
    assert inbox == ["Cán bộ Nguyễn Thị Lan: Bạn cần gì ạ?"]


# The polling endpoints ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/handoffs.json", f"/handoffs/{CONVERSATION}/messages.json?after=0"])
def test_the_polls_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_desk_poll_lists_open_handoffs_for_the_staff_member(client, console_env):
    settings, store = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    handoffs.request("tg-42", "telegram")
    handoffs.take(CONVERSATION, "web", "editor")
    store.set_display_name(store.user_id("editor"), "Nguyễn Thị Lan", by="admin")
    handoffs.add_message(CONVERSATION, "citizen", "sđt 0912345678, hồ sơ của tôi sao rồi?")
    login(client, "viewer")
    response = client.get("/handoffs.json")  # a GET: no CSRF token needed
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert (data["more"], data["waiting"], data["unread"]) == (False, 1, 1)
    waiting, held = data["items"]
    assert (waiting["conversation"], waiting["state_name"], waiting["channel_name"], waiting["staff_name"],
            waiting["unread"]) == ("tg-42", "Đang chờ", "Telegram", "—", 0)
    assert isinstance(waiting["waiting_s"], int) and waiting["waiting_s"] >= 0
    assert held == {**held, "conversation": CONVERSATION, "url": f"/handoffs/{CONVERSATION}", "state": "active",
                    "staff": "editor", "staff_name": "Nguyễn Thị Lan", "channel_name": "khung chat trên web",
                    "last_message": "sđt ******5678, hồ sơ của tôi sao rồi?", "unread": 1}
    assert held["waiting"] in ("dưới 1 phút", "1 phút")
    listing = client.get("/handoffs").text  # the page shows the same without JavaScript
    assert "sđt ******5678, hồ sơ của tôi sao rồi?" in listing and "Nguyễn Thị Lan" in listing
    assert '<span class="badge">1</span>' in listing and "0912345678" not in listing


def test_the_conversation_poll_sends_new_messages_and_marks_them_read(client, console_env):
    settings, _ = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    handoffs.take(CONVERSATION, "web", "editor")
    first = handoffs.add_message(CONVERSATION, "citizen", "câu một")
    login(client, "editor")
    page = client.get(f"/handoffs/{CONVERSATION}").text  # opening the page reads what it shows
    assert f'data-after="{first}"' in page and handoffs.seen(CONVERSATION, "editor") == first
    assert '<script src="/static/handoff-desk.js" defer></script>' in page and "<script>" not in page
    second = handoffs.add_message(CONVERSATION, "citizen", "câu hai, số 0912345678")
    poll = f"/handoffs/{CONVERSATION}/messages.json"
    data = client.get(f"{poll}?after={first}").json()
    assert [(m["id"], m["who"], m["label"], m["text"], m["unread"]) for m in data["messages"]] == [
        (second, "citizen", "Công dân", "câu hai, số ******5678", True)]
    assert (data["state"], data["staff"], data["last_id"], data["more"]) == ("active", "editor", second, False)
    assert data["status"] == "Cán bộ Cán bộ editor đang trả lời; trợ lý tự động tạm dừng."
    assert handoffs.seen(CONVERSATION, "editor") == first  # the page was not in view
    assert client.get(f"{poll}?after={second}&seen=1").json()["messages"] == []
    assert handoffs.seen(CONVERSATION, "editor") == second  # in view: read
    assert client.get(f"{poll}?after=x").status_code == 400


def test_the_desk_script_is_served_from_the_console_itself(client):
    login(client, "viewer")
    script = client.get("/static/handoff-desk.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "AudioContext" in script.text and not re.search(r"https?://", script.text)
    assert "script-src" not in script.headers["content-security-policy"]  # default-src 'self': files only
