"""A console over temporary databases, a copied catalogue, and a small tracker store with events."""
import datetime as dt
import json
import shutil

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, insert

from tests.conftest import ROOT

PASSWORD = "mat-khau-rat-dai-1"
HASH_KEY = "khoa-bam-dia-chi-cho-kiem-thu"  # keys client-address digests (no key file written by tests)
CODES = ("1.012786", "1.012784", "1.013831")


def tracker_db(url, now):
    """The table Rasa's SQL tracker store writes (the columns the console reads)."""
    engine = create_engine(url)
    events = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
                   Column("type_name", String(255)), Column("timestamp", Float), Column("intent_name", String(255)),
                   Column("action_name", String(255)), Column("data", Text))
    events.metadata.create_all(engine)
    t = now.timestamp()
    rows = []
    for sender, said, reply in (("web-aaaaaaaa1", "gio lam viec thu bay", "Xin lỗi, mình chưa hiểu."),
                                ("tg-42", "sđt tôi 0912345678, hồ sơ sao rồi", "Bạn cho mình mã hồ sơ nhé."),
                                ("zalo-7", "làm lại sổ đỏ bị mất", "Thủ tục: Cấp lại Giấy chứng nhận do bị mất")):
        rows.append({"sender_id": sender, "type_name": "user", "timestamp": t, "data": json.dumps(
            {"event": "user", "text": said, "timestamp": t, "input_channel": "web",
             "parse_data": {"intent": {"name": "nlu_fallback"}}})})
        rows.append({"sender_id": sender, "type_name": "bot", "timestamp": t + 0.2,
                     "data": json.dumps({"event": "bot", "text": reply, "timestamp": t + 0.2})})
        t += 1
    rows.append({"sender_id": "zalo-7", "type_name": "slot", "timestamp": t,
                 "data": json.dumps({"event": "slot", "name": "procedure_code", "value": "1.012786"})})
    with engine.begin() as conn:
        conn.execute(insert(events), rows)
    engine.dispose()


@pytest.fixture
def console_env(tmp_path, new_db):
    from console.store import ConsoleStore
    from core.settings import Settings
    from core.stores.review_log import ReviewLog

    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    for code in CODES:
        shutil.copy(ROOT / f"knowledge_base/catalogue/{code}.yml", catalogue)
    now = dt.datetime.now() - dt.timedelta(minutes=5)
    tracker_db(new_db("tracker"), now)
    settings = Settings.of(database_url=new_db("motcua"), tracker_store_url=new_db("tracker"), catalogue_dir=catalogue,
                        dossier_hash_key=HASH_KEY)
    review = ReviewLog(settings.storage.database_url)
    for i, text in enumerate(["gio lam viec thu bay", "Giờ làm việc thứ bảy ạ?", "cho em hỏi giờ làm việc thứ 7",
                              "xin giấy phép nuôi chim yến"]):
        review.record_unanswered("web-aaaaaaaa1", "web", text, "not_understood", when=now + dt.timedelta(seconds=i))
    store = ConsoleStore(settings.storage.database_url)
    for role in ("viewer", "editor", "admin"):
        store.create_user(role, PASSWORD, role, full_name=f"Cán bộ {role}")
    return settings, store


@pytest.fixture
def client(console_env, embedder):
    from starlette.testclient import TestClient

    from console.app import create_app

    settings, store = console_env
    return TestClient(create_app(settings, store, embedder.embed_queries), follow_redirects=False)


def login(client, username, password=PASSWORD):
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf": token, "next": "/"})


def csrf_of(client, path="/unanswered"):
    import re

    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)
