"""The "Khóa tra cứu hồ sơ" page: every role sees the dossier lookup locks and the enumeration alerts;
only admins clear a lock, with the form's CSRF token, and each clearing is audited."""
import datetime as dt
import json

import pytest

from core.privacy import Hasher
from dossiers.calendar import WorkingCalendar
from dossiers.service import DossierService
from tests.console.conftest import csrf_of, login
from tests.dossiers.conftest import CODE, Clock, make_record

GUESSER = "b" * 32
PROBER = "c" * 32


@pytest.fixture
def dossiers(client, console_env):
    """The console's dossier service on a fixed clock: a conversation locked out (conversation, address and
    dossier) and an address that tried 8 codes within the hour."""
    settings, _ = console_env
    service = DossierService(
        settings.storage.database_url,
        Hasher(b"console-tests-key-0123456789"),
        WorkingCalendar.load(),
        clock=Clock(dt.datetime(2026, 11, 20, 10)),
    )
    client.app.state.dossier_service = service
    service.upsert(make_record())
    for _ in range(5):
        service.lookup("web-aaaaaaaa1", "web", CODE, "0000", client=GUESSER)
    for i in range(15):  # an address locks after 4 times as many failures (many citizens may share it)
        service.lookup(f"web-g{i}", "web", f"000.00.06.H56-261110-{200 + i:04d}", "0000", client=GUESSER)
    for i in range(8):
        service.lookup(f"web-p{i}", "web", f"000.00.06.H56-261110-{100 + i:04d}", "0000", client=PROBER)
    yield service
    service.close()


def test_logged_out_users_are_sent_to_the_login_page(client, dossiers):
    for method, path in (("get", "/dossier-locks"), ("post", "/dossier-locks/clear")):
        response = getattr(client, method)(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_sees_the_locks_and_only_admins_clear_them(client, console_env, dossiers, role):
    _, store = console_env
    login(client, role)
    assert 'href="/dossier-locks"' in client.get("/unanswered").text
    page = client.get("/dossier-locks")
    assert page.status_code == 200
    for shown in (CODE, "web-aaaaaaaa1", "bbbbbbbbbbbb…", "cccccccccccc…", "10:15 20/11/2026", "Địa chỉ truy cập",
                  "15 phút, 1 giờ, 1 ngày", "đang chờ gửi"):
        assert shown in page.text, shown
    assert ("Mở khóa</button>" in page.text) == (role == "admin")
    before = [lock["key"] for lock in dossiers.active_locks()]
    token = csrf_of(client, "/dossier-locks")
    response = client.post("/dossier-locks/clear", data={"key": f"code:{CODE}", "csrf": token})
    if role != "admin":
        assert response.status_code == 403 and "không có quyền" in response.text
        assert [lock["key"] for lock in dossiers.active_locks()] == before
        return
    assert response.status_code == 303 and response.headers["location"].startswith("/dossier-locks?cleared=")
    assert [lock["key"] for lock in dossiers.active_locks()] == [k for k in before if k != f"code:{CODE}"]
    assert "Đã mở khóa (Hồ sơ)" in client.get(response.headers["location"]).text
    assert "Đã mở khóa" not in client.get("/dossier-locks?cleared=gọi+số+0900").text  # only a scope is shown
    entry = store.audit_log()[0]
    assert (entry["username"], entry["action"], entry["target"]) == ("admin", "clear_lookup_lock", f"code:{CODE}")
    assert json.loads(entry["detail"]) == {"scope": "dossier", "level": 1, "locked_until": "2026-11-20T10:15"}
    # The owner, in a chat that never verified the dossier, gets in now.
    assert dossiers.lookup("tg-owner", "telegram", CODE, "5678").outcome == "ok"


def test_clearing_needs_the_forms_token(client, console_env, dossiers):
    _, store = console_env
    login(client, "admin")
    before = dossiers.active_locks()
    for token in (None, "forged"):
        form = {"key": f"code:{CODE}", **({"csrf": token} if token else {})}
        response = client.post("/dossier-locks/clear", data=form)
        assert response.status_code == 403 and "biểu mẫu không hợp lệ" in response.text
    assert dossiers.active_locks() == before
    assert "clear_lookup_lock" not in [e["action"] for e in store.audit_log()]


def test_clearing_a_lock_that_is_gone_says_so(client, console_env, dossiers):
    _, store = console_env
    login(client, "admin")
    response = client.post("/dossier-locks/clear", data={"key": "code:000.00.06.H56-261110-0999",
                                                         "csrf": csrf_of(client, "/dossier-locks")})
    assert response.status_code == 404 and "Khóa này không còn" in response.text and CODE in response.text
    assert "clear_lookup_lock" not in [e["action"] for e in store.audit_log()]
