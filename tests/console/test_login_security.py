"""Console login security: throttling per account and client, a spraying ceiling, a per-account ceiling
that known clients pass, parallel guesses counted, rotating IPv6 addresses keyed by their /64, failed
logins in the audit log, the password policy, and changing or resetting passwords (other sessions end)."""
import datetime as dt
import io
import json
import re
from types import SimpleNamespace

import pytest

from console.passwords import common_passwords, password_problem
from console.store import ConsoleStore, LoginThrottled, WrongPassword
from tests.console.conftest import HASH_KEY, PASSWORD, csrf_of, login

STRANGER, OWNER, PROXY = "203.0.113.9", "198.51.100.7", "10.0.0.2"


def digest(address):
    from core.privacy import Hasher

    return Hasher(HASH_KEY.encode()).client_hash("ip:" + address)


def browser(settings, store, address, **kw):
    """A TestClient connecting from ``address`` (one app per call: the store holds all state)."""
    from starlette.testclient import TestClient

    from console.app import create_app

    return TestClient(create_app(settings, store), follow_redirects=False, client=(address, 50000), **kw)


def audit_rows(store, action):
    return [dict(e, detail=json.loads(e["detail"])) for e in store.audit_log() if e["action"] == action]


# Password policy -----------------------------------------------------------------------------------
@pytest.mark.parametrize("password, username, reason", [
    ("ngan-qua-1", "", "ít nhất 12 ký tự"),
    ("matkhau123456", "", "quá phổ biến"),
    ("Mật khẩu 123456", "", "quá phổ biến"),  # accents, case and spaces do not disguise it
    ("123456789abc", "", "quá phổ biến"),
    ("abc123456789", "", "quá phổ biến"),
    ("iloveyou2024!", "", "quá phổ biến"),  # a listed word wrapped in digits and symbols
    ("P@ssw0rd-2026", "", "quá phổ biến"),  # leetspeak
    ("anhyeuem-mai-mai", "", "quá phổ biến"),
    ("nguyenvanhung1990", "", "quá phổ biến"),
    ("1qaz2wsx3edc", "", "quá phổ biến"),
    ("123456789012", "", "quá phổ biến"),
    ("abababababab", "", "quá ít ký tự khác nhau"),
    ("lan.nguyen-2026!", "lan.nguyen", "tên đăng nhập"),
    ("Lan-Nguyen-ca-phe", "lan.nguyen", "tên đăng nhập"),  # case and separators do not disguise it
    ("editor-cua-so-tnmt", "editor", "tên đăng nhập"),
])
def test_weak_passwords_are_refused_with_a_reason(password, username, reason):
    assert reason in (password_problem(password, username) or "")


@pytest.mark.parametrize("password", ["mat-khau-rat-dai-1", "Trâu đen ăn cỏ non bờ đê", "839201748362",
                                      "correct-horse-staple-97", "mat-khau-can-bo-minh-1"])
def test_ordinary_long_passwords_pass(password):
    assert password_problem(password, "minh.le") is None


def test_the_common_list_is_a_few_thousand_including_vietnamese_ones():
    common = common_passwords()
    assert 3000 <= len(common) <= 20000
    assert {"123456", "password", "qwerty", "matkhau123456", "123456789abc", "anhyeuem"} <= common


# Throttling in the store (a clock we move) -----------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 11, 20, 9)

    def __call__(self):
        return self.now


@pytest.fixture
def store(new_db):
    clock = Clock()
    s = ConsoleStore(new_db("c"), clock=clock)
    s.clock_ = clock
    s.create_user("lan.nguyen", PASSWORD, "admin")
    return s


def fail(store, times, client, username="lan.nguyen"):
    for _ in range(times):
        assert store.login(username, "sai-mat-khau-roi", client) is None


def test_locks_grow_with_repeated_failures(store):
    fail(store, 5, "stranger")
    with pytest.raises(LoginThrottled) as locked:
        store.login("lan.nguyen", PASSWORD, "stranger")
    assert locked.value.scope == "account" and locked.value.retry_after == dt.timedelta(minutes=15)
    store.clock_.now += dt.timedelta(minutes=15)
    fail(store, 1, "stranger")  # after the lock one more try, then locked again
    with pytest.raises(LoginThrottled):
        store.login("lan.nguyen", PASSWORD, "stranger")
    for _ in range(4):
        store.clock_.now += dt.timedelta(minutes=15)
        fail(store, 1, "stranger")
    with pytest.raises(LoginThrottled) as locked:  # 10 failures: an hour
        store.login("lan.nguyen", PASSWORD, "stranger")
    assert locked.value.retry_after == dt.timedelta(minutes=60)
    assert store.login("lan.nguyen", PASSWORD, "owner")  # all along, the owner from elsewhere gets in
    store.clock_.now += dt.timedelta(hours=25)  # failures older than a day are forgotten
    fail(store, 4, "stranger")
    assert store.login("lan.nguyen", PASSWORD, "stranger")


def test_a_successful_login_clears_only_its_own_account_and_client(store):
    fail(store, 4, "owner")
    assert store.login("lan.nguyen", PASSWORD, "owner")
    fail(store, 4, "owner")  # counting starts again
    assert store.login("lan.nguyen", PASSWORD, "owner")


def test_spraying_many_accounts_from_one_client_hits_the_ceiling(store):
    for i in range(29):
        fail(store, 1, "sprayer", username=f"user{i}")
    fail(store, 1, "sprayer", username="lan.nguyen")  # 30 failures, none more than one per account
    with pytest.raises(LoginThrottled) as locked:
        store.login("someone.else", "whatever-password", "sprayer")
    assert locked.value.scope == "client" and locked.value.retry_after == dt.timedelta(minutes=15)
    assert store.login("lan.nguyen", PASSWORD, "owner")
    denied = audit_rows(store, "login_failed")[0]
    assert denied["username"] == "someone.else" and denied["detail"] == {
        "reason": "throttled", "client": "sprayer", "scope": "client"}


def test_a_wrong_current_password_counts_as_a_failed_login(store):
    user = store.user_id("lan.nguyen")
    for _ in range(5):
        with pytest.raises(WrongPassword):
            store.change_password(user, "khong-phai-mat-khau", "mot-cum-tu-moi-hoan-toan", "thief")
    with pytest.raises(LoginThrottled):
        store.change_password(user, PASSWORD, "mot-cum-tu-moi-hoan-toan", "thief")
    with pytest.raises(LoginThrottled):
        store.login("lan.nguyen", PASSWORD, "thief")
    assert store.reset_password(user, "mot-cum-tu-moi-hoan-toan", by="admin") == 0
    assert store.login("lan.nguyen", "mot-cum-tu-moi-hoan-toan", "thief")  # a reset lifts the account's locks
    assert [(e["username"], e["target"], e["detail"]) for e in audit_rows(store, "password_reset")] == [
        ("admin", "lan.nguyen", {"sessions_ended": 0})]


# Through the console --------------------------------------------------------------------------------
def test_a_strangers_failures_do_not_lock_the_owner_out(console_env):
    settings, store = console_env
    stranger, owner = browser(settings, store, STRANGER), browser(settings, store, OWNER)
    for _ in range(5):
        assert login(stranger, "admin", "doan-bua-mat-khau").status_code == 401
    refused = login(stranger, "admin")
    assert refused.status_code == 429 and "motcua_console" not in refused.cookies
    assert "tạm bị khóa" in refused.text and "thử lại sau 15 phút" in refused.text
    assert 850 <= int(refused.headers["retry-after"]) <= 900
    assert login(owner, "admin").status_code == 303


def test_spraying_from_one_address_hits_the_ceiling(console_env):
    settings, store = console_env
    sprayer = browser(settings, store, STRANGER)
    for i in range(30):
        assert login(sprayer, f"can.bo{i}", "matkhau-pho-bien").status_code == 401
    refused = login(sprayer, "viewer")
    assert refused.status_code == 429 and "máy của bạn tạm bị khóa" in refused.text
    assert login(browser(settings, store, OWNER), "viewer").status_code == 303


def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(console_env):
    settings, store = console_env
    settings = settings.replaced(trusted_proxies=(PROXY,))
    stranger = browser(settings, store, PROXY, headers={"X-Forwarded-For": STRANGER})  # behind our proxy
    for _ in range(5):
        assert login(stranger, "admin", "doan-bua-mat-khau").status_code == 401
    assert login(stranger, "admin").status_code == 429
    owner = browser(settings, store, PROXY, headers={"X-Forwarded-For": OWNER})
    assert login(owner, "admin").status_code == 303  # the same proxy, the owner's own address: not locked
    # A client talking to the console directly cannot pick its address with the header.
    spoofer = browser(settings, store, "192.0.2.50", headers={"X-Forwarded-For": OWNER})
    for _ in range(5):
        assert login(spoofer, "editor", "doan-bua-mat-khau").status_code == 401
    assert login(browser(settings, store, "192.0.2.50", headers={"X-Forwarded-For": "192.0.2.77"}),
                 "editor").status_code == 429  # changing the header does not escape the lock
    assert login(browser(settings, store, PROXY, headers={"X-Forwarded-For": OWNER}), "editor").status_code == 303
    clients = {e["detail"]["client"] for e in audit_rows(store, "login_failed")}
    assert clients == {digest(STRANGER), digest("192.0.2.50")}


def test_failed_and_successful_logins_are_audited_without_the_address(console_env):
    settings, store = console_env
    stranger = browser(settings, store, STRANGER)
    login(stranger, "admin", "doan-bua-mat-khau")
    login(stranger, "khong.co.ai", "doan-bua-mat-khau")
    login(stranger, "viewer")
    failed = audit_rows(store, "login_failed")
    assert [(e["username"], e["detail"]) for e in failed] == [
        ("khong.co.ai", {"reason": "unknown_user", "client": digest(STRANGER)}),
        ("admin", {"reason": "wrong_password", "client": digest(STRANGER)})]
    assert [(e["username"], e["detail"]) for e in audit_rows(store, "login")] == [
        ("viewer", {"client": digest(STRANGER)})]
    assert all(STRANGER not in e["detail"] for e in store.audit_log())
    admin = browser(settings, store, OWNER)
    login(admin, "admin")
    page = admin.get("/audit").text
    assert "login_failed" in page and "wrong_password" in page and "khong.co.ai" in page and STRANGER not in page


@pytest.mark.parametrize("password, reason", [
    ("ngan-qua-1", "Mật khẩu cần ít nhất 12 ký tự."),
    ("matkhau123456", "quá phổ biến"),
    ("123456789abc", "quá phổ biến"),
    ("thu.tran-so-2026", "không được chứa tên đăng nhập"),
])
def test_weak_passwords_are_refused_when_creating_an_account(console_env, password, reason):
    settings, store = console_env
    admin = browser(settings, store, OWNER)
    login(admin, "admin")
    response = admin.post("/users", data={"username": "thu.tran", "password": password, "role": "editor",
                                          "csrf": csrf_of(admin, "/users")})
    assert response.status_code == 400 and reason in response.text
    assert "thu.tran" not in [u["username"] for u in store.users()]


def test_admin_create_and_password_commands_check_passwords(console_env, monkeypatch, capsys):
    from motcua import console_cli

    settings, store = console_env
    monkeypatch.setattr(console_cli, "get_settings", lambda: settings)

    def run(action, username, password):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        args = SimpleNamespace(action=action, username=username, role="editor", full_name="", password_stdin=True)
        return console_cli.cmd_admin(args)

    assert run("create", "minh.le", "matkhau123456") == 2 and "quá phổ biến" in capsys.readouterr().err
    assert run("create", "minh.le", "ngan-qua") == 2 and "ít nhất 12 ký tự" in capsys.readouterr().err
    assert "minh.le" not in [u["username"] for u in store.users()]
    assert run("create", "minh.le", "ca-phe-sua-da-sang-thu-hai") == 0
    assert run("password", "minh.le", "qwertyuiop123") == 2 and "quá phổ biến" in capsys.readouterr().err
    assert run("password", "minh.le", "bun-cha-ha-noi-buoi-trua") == 0
    assert store.login("minh.le", "bun-cha-ha-noi-buoi-trua", "x") and audit_rows(store, "password_reset")[0][
        "username"] == "motcua-cli"


def test_changing_ones_own_password_ends_the_other_sessions(console_env):
    settings, store = console_env
    here, there = browser(settings, store, OWNER), browser(settings, store, STRANGER)
    login(here, "viewer")
    login(there, "viewer")
    assert 'href="/password"' in here.get("/unanswered").text  # in the menu, for every role
    token = csrf_of(here, "/password")

    def change(current, new, repeat=None):
        return here.post("/password", data={"current": current, "new_password": new,
                                             "repeat": new if repeat is None else repeat, "csrf": token})

    assert here.post("/password", data={"current": PASSWORD, "new_password": "x" * 20,
                                        "repeat": "x" * 20}).status_code == 403  # CSRF as everywhere
    response = change(PASSWORD, "mot-cum-tu-moi-hoan-toan", "mot-cum-tu-moi-hoan-tien")
    assert response.status_code == 400 and "không khớp" in response.text
    response = change("khong-phai-mat-khau", "mot-cum-tu-moi-hoan-toan")
    assert response.status_code == 400 and "Mật khẩu hiện tại không đúng." in response.text
    response = change(PASSWORD, "matkhau123456")
    assert response.status_code == 400 and "quá phổ biến" in response.text
    response = change(PASSWORD, "mot-cum-tu-moi-hoan-toan")
    assert response.status_code == 303 and response.headers["location"] == "/password?msg=password"
    assert "Đã đổi mật khẩu" in here.get("/password?msg=password").text
    assert here.get("/unanswered").status_code == 200  # this session goes on
    assert there.get("/unanswered").headers["location"].startswith("/login")  # the other one ended
    fresh = browser(settings, store, OWNER)
    assert login(fresh, "viewer").status_code == 401
    assert login(fresh, "viewer", "mot-cum-tu-moi-hoan-toan").status_code == 303
    changed = audit_rows(store, "password_change")
    assert len(changed) == 1 and changed[0]["username"] == "viewer" and changed[0]["detail"]["sessions_ended"] == 1
    assert audit_rows(store, "password_change_failed")[0]["detail"]["reason"] == "wrong_password"


def test_an_admin_resets_anothers_password_and_their_sessions_end(console_env):
    settings, store = console_env
    admin, editor = browser(settings, store, OWNER), browser(settings, store, STRANGER)
    login(admin, "admin")
    login(editor, "editor")
    editor_id, admin_id = store.user_id("editor"), store.user_id("admin")
    # Only admins reset passwords.
    refused = editor.post(f"/users/{store.user_id('viewer')}/password",
                          data={"password": "mot-cum-tu-moi-hoan-toan", "csrf": csrf_of(editor)})
    assert refused.status_code == 403 and login(browser(settings, store, OWNER), "viewer").status_code == 303
    page = admin.get("/users").text
    assert f'action="/users/{editor_id}/password"' in page and f'action="/users/{admin_id}/password"' not in page
    weak = admin.post(f"/users/{editor_id}/password", data={"password": "editor-2026-moi", "csrf": csrf_of(admin)})
    assert weak.status_code == 400 and "không được chứa tên đăng nhập" in weak.text
    own = admin.post(f"/users/{admin_id}/password", data={"password": "mot-cum-tu-moi-hoan-toan",
                                                          "csrf": csrf_of(admin)})
    assert own.status_code == 400 and "trang Đổi mật khẩu" in own.text
    done = admin.post(f"/users/{editor_id}/password", data={"password": "dat-lai-cho-bien-tap",
                                                           "csrf": csrf_of(admin)})
    assert done.status_code == 303 and done.headers["location"] == "/users?msg=reset"
    assert editor.get("/unanswered").headers["location"].startswith("/login")
    assert login(browser(settings, store, STRANGER), "editor").status_code == 401
    assert login(browser(settings, store, STRANGER), "editor", "dat-lai-cho-bien-tap").status_code == 303
    reset = audit_rows(store, "password_reset")
    assert [(e["username"], e["target"], e["detail"]) for e in reset] == [("admin", "editor", {"sessions_ended": 1})]
    assert re.search(r"password_reset.*editor", admin.get("/audit").text, re.S)


def test_parallel_guesses_cannot_all_pass_the_check(store):
    """Ten wrong passwords at once from one client: only five are checked, the rest are refused."""
    import threading

    barrier, outcomes = threading.Barrier(10), []

    def guess():
        barrier.wait()
        try:
            outcomes.append(store.login("lan.nguyen", "sai-mat-khau-roi", "thief"))
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [None] * 5 + ["throttled"] * 5
    assert [e["detail"]["reason"] for e in audit_rows(store, "login_failed")].count("wrong_password") == 5


def test_an_account_guessed_from_many_addresses_opens_only_to_known_clients(store):
    store.account_ceiling = 6
    assert store.login("lan.nguyen", PASSWORD, "office")  # a client the account knows
    store.clock_.now += dt.timedelta(minutes=1)
    for i in range(6):
        fail(store, 1, f"botnet-{i}")  # one guess per address: no pair or client lock
    with pytest.raises(LoginThrottled) as locked:
        store.login("lan.nguyen", PASSWORD, "botnet-99")  # right password, unknown client: refused unchecked
    assert locked.value.scope == "ceiling" and locked.value.until == dt.datetime(2026, 11, 21, 9, 1)
    assert store.login("lan.nguyen", PASSWORD, "office")  # the owner from a known client gets in
    fail(store, 2, "office")  # and is still counted like anyone
    assert [e["detail"] for e in audit_rows(store, "login_failed") if e["detail"]["client"] == "botnet-99"] == [
        {"reason": "throttled", "client": "botnet-99", "scope": "ceiling"}]
    store.clock_.now += dt.timedelta(hours=24, minutes=1)  # the failures leave the window: the ceiling lifts
    assert store.login("lan.nguyen", PASSWORD, "new-laptop")


def test_a_reset_lifts_the_ceiling(store):
    store.account_ceiling = 3
    for i in range(3):
        fail(store, 1, f"botnet-{i}")
    with pytest.raises(LoginThrottled):
        store.login("lan.nguyen", PASSWORD, "home")
    store.reset_password(store.user_id("lan.nguyen"), "mot-cum-tu-moi-hoan-toan", by="admin")
    assert store.login("lan.nguyen", "mot-cum-tu-moi-hoan-toan", "home")


def test_the_ceiling_through_the_console(console_env):
    settings, store = console_env
    store.account_ceiling = 4
    assert login(browser(settings, store, OWNER), "admin").status_code == 303
    for i in range(4):
        assert login(browser(settings, store, f"192.0.2.{i + 10}"), "admin", "doan-bua-mat-khau").status_code == 401
    refused = login(browser(settings, store, STRANGER), "admin")
    assert refused.status_code == 429 and "chỉ đăng nhập được từ những máy đã từng đăng nhập" in refused.text
    assert "nhờ quản trị viên đặt lại mật khẩu" in refused.text and int(refused.headers["retry-after"]) > 3600
    assert login(browser(settings, store, OWNER), "admin").status_code == 303
    assert audit_rows(store, "login_failed")[0]["detail"] == {"reason": "throttled", "client": digest(STRANGER),
                                                             "scope": "ceiling"}


def test_rotating_ipv6_addresses_share_one_lock(console_env):
    settings, store = console_env
    for i in range(5):
        assert login(browser(settings, store, f"2001:db8:7:9::{i + 1:x}"), "admin",
                     "doan-bua-mat-khau").status_code == 401
    assert login(browser(settings, store, "2001:db8:7:9:ffff::1"), "admin").status_code == 429  # the same /64
    assert login(browser(settings, store, "2001:db8:7:a::1"), "admin").status_code == 303  # another network
    assert {e["detail"]["client"] for e in audit_rows(store, "login_failed")} == {digest("2001:db8:7:9::/64")}


@pytest.mark.parametrize("password",
                         ["sonongnghiep2026", "motcua.so.nnmt", "NongNghiepMoiTruong!", "mat-khau-can-bo-2026"])
def test_passwords_made_of_the_offices_own_words_are_refused(password):
    from console.passwords import password_problem

    assert password_problem(password, "lan.nguyen").startswith("Mật khẩu chỉ gồm tên cơ quan")
    assert password_problem("con mèo ngủ trên mái nhà", "lan.nguyen") is None


def test_a_client_hammering_a_locked_account_adds_one_audit_entry(store, monkeypatch):
    """Refused attempts in a run share one entry that counts them: the log keeps what came before."""
    import console.store

    fail(store, 5, "hammer")
    fail(store, 5, "other-hammer")
    before = len(store.audit_log(1000))
    for _ in range(50):
        with pytest.raises(LoginThrottled):
            store.login("lan.nguyen", PASSWORD, "hammer")
        store.clock_.now += dt.timedelta(seconds=10)
    refused = audit_rows(store, "login_failed")[0]
    assert len(store.audit_log(1000)) == before + 1
    assert refused["detail"]["repeats"] == 49 and refused["detail"]["client"] == "hammer"
    with pytest.raises(LoginThrottled):
        store.login("lan.nguyen", PASSWORD, "other-hammer")  # another client: an entry of its own
    assert len(store.audit_log(1000)) == before + 2
    monkeypatch.setattr(console.store, "REFUSED_RUN", dt.timedelta(minutes=1))
    store.clock_.now += dt.timedelta(minutes=2)  # a pause longer than a run's gap: a new entry
    with pytest.raises(LoginThrottled):
        store.login("lan.nguyen", PASSWORD, "hammer")
    assert len(store.audit_log(1000)) == before + 3
