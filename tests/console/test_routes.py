"""Every page and role: logged out sees only the login page, viewers cannot change anything,
CSRF on every form, throttled logins, masked conversations, exports."""
import io

import pytest

from tests.console.conftest import PASSWORD, csrf_of, login

PAGES = [
    "/unanswered",
    "/unanswered?show=done",
    "/unanswered?sort=newest",
    "/changes",
    "/faq",
    "/conversations",
    "/conversations/tg-42",
    "/handoffs",
    "/handoffs/web-aaaaaaaa1",
    "/catalogue",
    "/catalogue?q=so do",
    "/catalogue/1.012786",
    "/catalogue-import",
    "/analytics",
    "/analytics.csv",
    "/analytics.xlsx",
    "/users",
    "/audit",
    "/password",
]
ADMIN_ONLY = {"/users", "/audit"}
EDITOR_UP = {"/catalogue-import"}


def group_url(client):
    import re

    return re.search(r'href="(/unanswered/[^"]+)"', client.get("/unanswered").text).group(1)


@pytest.mark.parametrize("path", PAGES + ["/", "/unanswered/1"])
def test_logged_out_users_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_pages_by_role(client, role, path):
    assert login(client, role).status_code == 303
    response = client.get(path)
    if (path in ADMIN_ONLY and role != "admin") or (path in EDITOR_UP and role == "viewer"):
        assert response.status_code == 403 and "không có quyền" in response.text
    else:
        assert response.status_code == 200, response.text[:500]
    assert response.headers["x-frame-options"] == "DENY" and "default-src 'self'" in response.headers[
        "content-security-policy"]


def writes(client):
    """Every form of the console: (path, data)."""
    group = group_url(client)
    return [
        (group + "/map", {"code": "1.012786"}),
        (group + "/answer", {"answer": "Thứ Bảy nghỉ, bạn nộp thứ Hai nhé."}),
        (group + "/dismiss", {}),
        ("/changes/export", {}),
        ("/faq/1", {"active": "0"}),
        ("/users", {"username": "moi", "password": "mot-mat-khau-dai", "role": "viewer"}),
        ("/users/1", {"role": "admin", "active": "1"}),
        ("/users/2/password", {"password": "dat-lai-cho-bien-tap"}),
        ("/handoffs/web-aaaaaaaa1/take", {}),
        ("/handoffs/web-aaaaaaaa1/reply", {"text": "Chào bạn"}),
        ("/handoffs/web-aaaaaaaa1/release", {}),
        ("/catalogue/1.012786", {"aliases": "sổ đỏ mất", "staff_notes": "x", "province_fees": "y"}),
        ("/catalogue-import/stage", {}),
        ("/catalogue-import/accept", {}),
        ("/catalogue-import/discard", {}),
    ]


def test_a_viewer_cannot_change_anything(client, console_env):
    settings, store = console_env
    login(client, "viewer")
    token = csrf_of(client)
    before = (
        store.decisions(),
        store.faqs(False),
        store.users(),
        (settings.knowledge.catalogue_dir / "1.012786.yml").read_text(),
    )
    for path, data in writes(client):
        response = client.post(path, data={**data, "csrf": token})
        assert response.status_code == 403, path
    assert (store.decisions(), store.faqs(False), store.users(),
            (settings.knowledge.catalogue_dir / "1.012786.yml").read_text()) == before


def test_every_form_needs_its_csrf_token(client, console_env):
    settings, store = console_env
    login(client, "admin")
    for path, data in writes(client):
        for token in (None, "forged"):
            response = client.post(path, data={**data, **({"csrf": token} if token else {})})
            assert response.status_code == 403 and "biểu mẫu không hợp lệ" in response.text, path
    assert store.decisions() == {} and len(store.users()) == 3
    assert client.post("/logout", data={}).status_code == 403  # even logging out


def test_login_form_needs_its_token_and_is_throttled(client):
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 403
    for _ in range(5):
        assert login(client, "admin", "wrong-password").status_code == 401
    response = login(client, "admin")
    assert response.status_code == 429 and "15 phút" in response.text
    assert "motcua_console" not in response.cookies


def test_session_cookie_is_http_only(client):
    response = login(client, "viewer")
    cookie = response.headers["set-cookie"]
    assert "motcua_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert response.headers["location"] == "/"
    assert client.get("/login").headers["location"] == "/"  # already logged in


def test_grouped_questions_and_mapping_to_a_procedure(client, console_env):
    settings, store = console_env
    login(client, "editor")
    page = client.get("/unanswered").text
    assert page.count('<td class="count">') == 2 and '<td class="count">3</td>' in page
    assert page.index("gio lam viec") < page.index("chim yến")  # most asked first
    newest = client.get("/unanswered?sort=newest").text
    assert newest.index("chim yến") < newest.index("gio lam viec")  # asked last
    detail = client.get(group_url(client) + "?q=giấy chứng nhận do bị mất").text
    assert "Cấp lại Giấy chứng nhận do bị mất" in detail and "gio lam viec thu bay" in detail
    assert "lý do: trợ lý không hiểu câu hỏi" in detail  # reason codes in the staff's words
    response = client.post(group_url(client) + "/map", data={"code": "1.012786", "csrf": csrf_of(client)})
    assert response.status_code == 303
    catalogue = (settings.knowledge.catalogue_dir / "1.012786.yml").read_text()
    assert "gio lam viec thu bay" in catalogue and "cho em hỏi giờ làm việc thứ 7" in catalogue
    assert len(store.decisions()) == 2 and all(d["decision"] == "mapped" for d in store.decisions().values())
    assert '<td class="count">' in client.get("/unanswered?show=done").text
    assert "1.012786" in client.get("/changes").text
    assert store.audit_log()[0]["action"] == "map_question" and store.audit_log()[0]["username"] == "editor"
    bad = client.post(group_url(client) + "/map", data={"code": "9.999999", "csrf": csrf_of(client)})
    assert bad.status_code == 400


def test_staff_answer_is_stored_with_author_and_used(client, console_env):
    from core.stores.faq import staff_reply
    from knowledge_base.staff_answers import StaffAnswers

    settings, store = console_env
    login(client, "editor")
    group = group_url(client)
    assert client.post(group + "/answer", data={"answer": "ngắn", "csrf": csrf_of(client)}).status_code == 400
    client.post(group + "/answer", data={"answer": "Thứ Bảy Bộ phận Một cửa nghỉ. Bạn nộp từ thứ Hai đến thứ Sáu nhé.",
                                         "csrf": csrf_of(client)})
    faqs = store.faqs()
    assert faqs and faqs[0]["author"] == "editor"
    entry = StaffAnswers(settings.storage.database_url, ttl_s=0).match("gio lam viec thu 7 the nao")
    assert entry is not None and "Thứ Bảy" in staff_reply(entry) and "cán bộ Sở" in staff_reply(entry)
    assert "Thứ Bảy Bộ phận Một cửa nghỉ" in client.get("/faq").text


def test_conversations_are_searchable_and_masked(client):
    login(client, "viewer")
    listing = client.get("/conversations?q=sổ đỏ").text
    assert "zalo-7" in listing and "tg-42" not in listing
    assert "tg-42" in client.get("/conversations?channel=telegram").text
    detail = client.get("/conversations/tg-42").text
    assert "0912345678" not in detail and "******5678" in detail


def test_analytics_page_and_exports(client):
    from openpyxl import load_workbook

    login(client, "viewer")
    page = client.get("/analytics?days=7").text
    assert "<svg" in page and "Cấp lại Giấy chứng nhận do bị mất" in page
    assert 'src="http' not in page and 'href="http' not in page  # nothing fetched from elsewhere
    csv_text = client.get("/analytics.csv?days=7").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Thống kê trợ lý thủ tục hành chính từ ")
    assert "Ngày,Kênh,Cuộc trò chuyện,Tin nhắn của công dân" in csv_text
    assert ",telegram,1,1" in csv_text and ",zalo,1,1" in csv_text
    book = load_workbook(io.BytesIO(client.get("/analytics.xlsx?days=7").content))
    assert book.sheetnames == ["Tổng hợp", "Theo ngày", "Thủ tục hỏi nhiều", "Kết quả"]
    assert book["Thủ tục hỏi nhiều"]["A2"].value == "1.012786"
    assert client.get("/analytics.pdf").status_code == 404


def test_admin_manages_accounts_and_reads_the_audit_log(client, console_env):
    _, store = console_env
    login(client, "admin")
    response = client.post("/users", data={"username": "thu.tran", "password": "mot-mat-khau-dai", "role": "editor",
                                           "full_name": "Trần Thu", "csrf": csrf_of(client)})
    assert response.status_code == 303
    new = next(u for u in store.users() if u["username"] == "thu.tran")
    client.post(f"/users/{new['id']}", data={"role": "viewer", "csrf": csrf_of(client)})  # unchecked: locked
    assert next(u for u in store.users() if u["id"] == new["id"])["active"] is False
    me = next(u for u in store.users() if u["username"] == "admin")
    assert client.post(f"/users/{me['id']}", data={"role": "viewer", "csrf": csrf_of(client)}).status_code == 400
    audit = client.get("/audit").text
    assert "create_user" in audit and "update_user" in audit and "thu.tran" in audit


def test_staff_take_answer_and_hand_back_a_web_conversation(client, console_env):
    from channels.state import ChannelState
    from core.stores.handoff import HandoffStore

    settings, store = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    handoffs.request("web-aaaaaaaa1", "web")
    login(client, "editor")
    assert "web-aaaaaaaa1" in client.get("/handoffs").text and "Đang chờ" in client.get("/handoffs").text
    early = client.post("/handoffs/web-aaaaaaaa1/reply", data={"text": "x", "csrf": csrf_of(client)})
    assert early.status_code == 409  # take it first
    assert client.post("/handoffs/web-aaaaaaaa1/take", data={"csrf": csrf_of(client)}).status_code == 303
    assert handoffs.is_active("web-aaaaaaaa1")
    client.post("/handoffs/web-aaaaaaaa1/reply", data={"text": "Thứ Bảy Sở nghỉ, bạn đến thứ Hai nhé.",
                                                      "csrf": csrf_of(client)})
    inbox = [m["text"] for m in ChannelState(settings.storage.database_url).web_fetch("web-aaaaaaaa1")]
    assert inbox[0].startswith("Cán bộ Cán bộ editor của Sở đã tham gia") and \
        inbox[1] == "Cán bộ Cán bộ editor: Thứ Bảy Sở nghỉ, bạn đến thứ Hai nhé."
    page = client.get("/handoffs/web-aaaaaaaa1").text
    assert "Thứ Bảy Sở nghỉ" in page and "gio lam viec thu bay" in page
    client.post("/handoffs/web-aaaaaaaa1/release", data={"csrf": csrf_of(client)})
    assert not handoffs.is_active("web-aaaaaaaa1")
    assert "tiếp tục hỗ trợ" in ChannelState(settings.storage.database_url).web_fetch("web-aaaaaaaa1")[0]["text"]
    actions = [e["action"] for e in store.audit_log()]
    assert {"handoff_take", "handoff_reply", "handoff_release"} <= set(actions)


def test_one_staff_member_at_a_time(console_env):
    from core.stores.handoff import HandoffStore

    settings, _ = console_env
    handoffs = HandoffStore(settings.storage.database_url)
    assert handoffs.take("tg-1", "telegram", "lan") and not handoffs.take("tg-1", "telegram", "minh")
    assert handoffs.request("tg-1", "telegram") == "active"  # asking again does not undo the handoff
    assert handoffs.release("tg-1") and not handoffs.release("tg-1")
    assert handoffs.take("tg-1", "telegram", "minh")


def test_staff_edit_aliases_notes_and_province_fees(client, console_env):
    from knowledge_base.answers import compose_answer
    from knowledge_base.catalogue import load_procedure

    settings, store = console_env
    login(client, "editor")
    page = client.get("/catalogue/1.012786").text
    assert "Cấp lại Giấy chứng nhận do bị mất" in page and "làm lại sổ đỏ bị mất" in page
    assert "Trực tuyến:" in page and "ngày làm việc" in page
    before = load_procedure(settings.knowledge.catalogue_dir / "1.012786.yml")
    aliases = "\n".join(before.aliases + ["mất bìa đỏ", "  Mất  bìa đỏ ", "mất bìa đỏ."])
    client.post(
        "/catalogue/1.012786",
        data={
            "aliases": aliases,
            "staff_notes": "Nộp tại xã nơi có đất từ 1/7/2025.",
            "province_fees": "Lệ phí cấp lại: 50.000 đồng/giấy (NQ 12/2025 của HĐND tỉnh).",
            "csrf": csrf_of(client, "/catalogue/1.012786"),
        },
    )
    after = load_procedure(settings.knowledge.catalogue_dir / "1.012786.yml")
    assert after.aliases == before.aliases + ["mất bìa đỏ"]  # duplicates (case, punctuation) ignored, spaces cleaned
    assert after.province_fees.startswith("Lệ phí cấp lại") and after.last_updated is not None
    answer = "\n".join(compose_answer(after, "fees", settings).messages)
    assert "Mức thu tại tỉnh (Sở cập nhật): Lệ phí cấp lại: 50.000 đồng" in answer
    assert "Ghi chú của Sở: Nộp tại xã nơi có đất" in answer and f"cập nhật {after.last_updated:%d/%m/%Y}" in answer
    entry = store.audit_log()[0]
    assert (
        entry["action"] == "catalogue_edit" and "province_fees" in entry["detail"] and "mất bìa đỏ" in entry["detail"]
    )
    assert "catalogue_edit" in [c["action"] for c in store.changes_since_export()]
    assert "Sửa danh mục" in client.get("/changes").text


def test_reimport_shows_a_field_diff_and_keeps_staff_fields(client, console_env, tmp_path, monkeypatch):
    import shutil

    from knowledge_base.catalogue import load_procedure, procedure_to_yaml
    from tests.console.conftest import CODES

    settings, store = console_env
    records = tmp_path / "records"
    records.mkdir()
    for code in CODES + ("1.013978",):
        shutil.copy(settings.knowledge.records_dir / f"{code}.json", records)
    path = settings.knowledge.catalogue_dir / "1.012784.yml"
    proc = load_procedure(path)
    proc.conditions, proc.staff_notes = "Điều kiện cũ đã được sửa đổi.", "Ghi chú giữ lại."
    path.write_text(procedure_to_yaml(proc), encoding="utf-8")
    object.__setattr__(settings.knowledge, "records_dir", records)  # the app holds this settings object
    login(client, "editor")
    assert (
        client.post("/catalogue-import/stage", data={"csrf": csrf_of(client, "/catalogue-import")}).status_code == 303
    )
    page = client.get("/catalogue-import").text
    assert "Điều kiện cũ đã được sửa đổi." in page and "Thủ tục mới" in page and "1.013978" in page
    assert not (settings.knowledge.catalogue_dir / "1.013978.yml").exists()  # nothing changed yet
    # the console restarts (or another node serves the next request): the staged import is on disk, not in memory
    from starlette.testclient import TestClient

    from console.app import create_app

    client = TestClient(create_app(settings, store, client.app.state.console._embed), follow_redirects=False)
    login(client, "editor")
    assert "Thủ tục mới" in client.get("/catalogue-import").text
    client.post("/catalogue-import/accept", data={"csrf": csrf_of(client, "/catalogue-import")})
    after = load_procedure(path)
    assert after.conditions != "Điều kiện cũ đã được sửa đổi." and after.staff_notes == "Ghi chú giữ lại."
    assert (settings.knowledge.catalogue_dir / "1.013978.yml").exists()
    accepted = store.audit_log()[0]
    assert accepted["action"] == "reimport_accept" and "1.013978" in accepted["detail"]


def test_a_staged_reimport_is_refused_once_the_catalogue_was_edited_after_it(client, console_env):
    """The staged copy holds the staff fields of its day: accepting it after an edit would undo the edit."""
    from knowledge_base.catalogue import load_procedure, procedure_to_yaml

    settings, store = console_env
    login(client, "editor")
    client.post("/catalogue-import/stage", data={"csrf": csrf_of(client, "/catalogue-import")})
    path = settings.knowledge.catalogue_dir / "1.012784.yml"
    proc = load_procedure(path)
    proc.staff_notes = "Sửa sau khi đọc hồ sơ gốc."
    path.write_text(procedure_to_yaml(proc), encoding="utf-8")
    refused = client.post("/catalogue-import/accept", data={"csrf": csrf_of(client, "/catalogue-import")})
    assert refused.status_code == 409 and "Danh mục đã được sửa sau khi đọc hồ sơ gốc" in refused.text
    assert load_procedure(path).staff_notes == "Sửa sau khi đọc hồ sơ gốc."
    assert "reimport_accept" not in [e["action"] for e in store.audit_log()]


@pytest.mark.parametrize("path", ["/unanswered/%C2%B2", "/unanswered/" + "9" * 5000, "/conversations?page=%C2%B2",
                                  "/conversations?page=" + "9" * 5000, "/audit?page=-1", "/faq?page=x"])
def test_odd_numbers_in_addresses_get_a_clear_page(client, path):
    login(client, "admin")
    response = client.get(path)
    assert response.status_code in (200, 404) and "Traceback" not in response.text
