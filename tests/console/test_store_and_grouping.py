"""Accounts, sessions, throttling, audit; grouping of questions and staff answers."""
import datetime as dt

import pytest

from console.store import ConsoleStore, LoginThrottled
from knowledge_base.grouping import best_faq, group_questions, key_of


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
    return s


def test_passwords_are_hashed_and_checked(store, tmp_path):
    store.create_user("Lan.Nguyen", "mot-mat-khau-dai", "editor", "Nguyễn Thị Lan")
    from sqlalchemy import select

    from console.store import users_table

    with store.engine.connect() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "mot-mat-khau-dai" not in stored
    assert store.login("lan.nguyen", "sai-mat-khau-roi", "1.2.3.4") is None
    token = store.login(" LAN.NGUYEN ", "mot-mat-khau-dai", "1.2.3.4")
    staff, csrf = store.session(token)
    assert staff.username == "lan.nguyen" and staff.role == "editor" and len(csrf) > 20
    assert staff.can("viewer") and staff.can("editor") and not staff.can("admin")
    with pytest.raises(ValueError):
        store.create_user("lan.nguyen", "mot-mat-khau-dai", "editor")
    with pytest.raises(ValueError):
        store.create_user("ngan", "ngan", "viewer")  # too short
    with pytest.raises(ValueError):
        store.create_user("x y", "mot-mat-khau-dai", "boss")


def test_sessions_expire_and_end_on_logout_or_lock(store):
    store.create_user("a", "mot-mat-khau-dai", "admin")
    token = store.login("a", "mot-mat-khau-dai", "ip")
    store.clock_.now += dt.timedelta(hours=9)
    assert store.session(token) is None
    token = store.login("a", "mot-mat-khau-dai", "ip")
    store.logout(token)
    assert store.session(token) is None
    token = store.login("a", "mot-mat-khau-dai", "ip")
    store.set_role(store.users()[0]["id"], "viewer", active=False)
    assert store.session(token) is None and store.login("a", "mot-mat-khau-dai", "ip") is None


def test_failed_logins_are_throttled_per_account_and_client(store):
    store.create_user("a", "mot-mat-khau-dai", "admin")
    for _ in range(5):
        assert store.login("a", "sai", "client-1") is None
    with pytest.raises(LoginThrottled):
        store.login("a", "mot-mat-khau-dai", "client-1")  # the right password does not help from there
    assert store.login("a", "mot-mat-khau-dai", "client-2")  # the owner, elsewhere, is not locked out
    store.clock_.now += dt.timedelta(minutes=16)
    assert store.login("a", "mot-mat-khau-dai", "client-1")
    assert [e["action"] for e in store.audit_log()] == ["login", "login", "login_failed"] + ["login_failed"] * 5


def test_similar_questions_form_one_group():
    now = dt.datetime(2026, 11, 20, 9)
    rows = [{"text": t, "asked_at": now + dt.timedelta(minutes=i)} for i, t in enumerate([
        "gio lam viec thu bay", "Giờ làm việc thứ bảy ạ?", "cho em hỏi giờ làm việc thứ 7", "GIỜ LÀM VIỆC THỨ BẢY",
        "xin giấy phép nuôi chim yến", "nuoi chim yen co can giay phep khong"])]
    groups = group_questions(rows)
    assert [g.count for g in groups] == [4, 2]
    assert set(groups[0].phrasings) >= {"gio lam viec thu bay", "Giờ làm việc thứ bảy ạ?"}
    assert key_of("Cho em hỏi ạ, GIỜ làm việc?") == key_of("gio lam viec")


def test_staff_answers_match_paraphrases_only():
    faqs = [{"id": 1, "question": "giờ làm việc thứ bảy", "answer": "…"},
            {"id": 2, "question": "xin giấy phép nuôi chim yến", "answer": "…"}]
    assert best_faq("cho em hỏi gio lam viec thu bay a", faqs)["id"] == 1
    assert best_faq("nuôi chim yến có cần giấy phép không", faqs)["id"] == 2
    assert best_faq("tách thửa mất bao lâu", faqs) is None
