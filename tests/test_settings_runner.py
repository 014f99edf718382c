"""Settings from the environment, runtime files of the run command, and the Rasa tokenizer."""
import pytest

from core.settings import Settings
from core.text import fold
from motcua.runner import endpoints_config, rasa_commands, server_env


def test_settings_defaults_and_environment(monkeypatch):
    s = Settings.from_env()
    assert s.knowledge.scope_fields == () and s.knowledge.scope_levels == ("province", "commune")
    monkeypatch.setenv("MOTCUA_SCOPE_FIELDS", "Đất đai; Môi trường")
    monkeypatch.setenv("MOTCUA_SCOPE_LEVELS", "*")
    monkeypatch.setenv("MOTCUA_RASA_PORT", "6000")
    monkeypatch.setenv("MOTCUA_EMBEDDING_INT8", "yes")
    s = Settings.from_env()
    assert s.knowledge.scope_fields == ("Đất đai", "Môi trường") and s.knowledge.scope_levels == ()
    assert s.servers.rasa_port == 6000 and s.knowledge.embedding_int8


def test_server_processes_get_their_own_embedding_threads(monkeypatch):
    # Batch work keeps MOTCUA_TORCH_THREADS; each server process gets the serving count, so the
    # action server and the Rasa workers do not oversubscribe the cores under load.
    monkeypatch.setenv("MOTCUA_TORCH_THREADS", "4")
    s = Settings.from_env()
    assert s.knowledge.torch_threads == 4 and s.knowledge.serve_torch_threads == 1
    assert server_env(s)["MOTCUA_TORCH_THREADS"] == "1"
    monkeypatch.setenv("MOTCUA_SERVE_TORCH_THREADS", "2")
    monkeypatch.setenv("MOTCUA_RASA_WORKERS", "3")
    env = server_env(Settings.from_env())
    assert env["MOTCUA_TORCH_THREADS"] == "2" and env["SANIC_WORKERS"] == "3"
    monkeypatch.setattr("os.environ", env)  # what a server process reads back
    assert Settings.from_env().knowledge.torch_threads == 2


def test_sqlite_and_postgres_tracker_stores():
    sqlite = endpoints_config(Settings.of(tracker_store_url="sqlite:////tmp/t.db", actions_port=5055))
    store = "components.tracker_store.MaskingSQLTrackerStore"
    assert sqlite["tracker_store"] == {"type": store, "dialect": "sqlite", "db": "/tmp/t.db", "cache_size": 2000}
    assert sqlite["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    pg = endpoints_config(Settings.of(tracker_store_url="postgresql://bot:secret@db.local:5433/motcua"))
    assert pg["tracker_store"] == {"type": store, "dialect": "postgresql", "db": "motcua", "url": "db.local",
                                   "port": 5433, "username": "bot", "password": "secret", "cache_size": 2000}


def test_rasa_api_is_off_without_a_token(tmp_path):
    for host in ("127.0.0.1", "0.0.0.0"):
        server = rasa_commands(Settings.of(host=host), tmp_path / "e.yml", tmp_path / "c.yml")[1]
        assert "--enable-api" not in server and "--auth-token" not in server
    token = rasa_commands(Settings.of(host="0.0.0.0", rasa_api_token="s3"), tmp_path / "e.yml", tmp_path / "c.yml")[1]
    assert token[-3:] == ["--enable-api", "--auth-token", "s3"]


def test_action_server_binds_loopback_and_rasa_sends_the_secret_by_name(tmp_path, monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    from motcua.action_server import SECRET_ENV, SECRET_HEADER
    from motcua.runner import write_runtime_files

    settings = Settings.of(action_secret_file=tmp_path / "secret.key", tracker_store_url=f"sqlite:///{tmp_path}/t.db")
    actions = rasa_commands(settings, tmp_path / "e.yml", tmp_path / "c.yml")[0]
    assert actions[1:3] == ["-m", "motcua.action_server"] and settings.servers.actions_host == "127.0.0.1"
    endpoints, _ = write_runtime_files(settings, tmp_path / "run")
    written = endpoints.read_text()
    secret = server_env(settings)[SECRET_ENV]
    assert len(secret) >= 32 and secret not in written and "${" + SECRET_ENV + "}" in written
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0  # readable by its owner only
    monkeypatch.setenv(SECRET_ENV, secret)
    config = read_endpoint_config(str(endpoints), "action_endpoint")  # as the Rasa server reads it
    assert config.headers == {SECRET_HEADER: secret}
    assert config.url == "http://127.0.0.1:5055/webhook"
    assert server_env(Settings.of(action_secret="from-env"))[SECRET_ENV] == "from-env"


@pytest.mark.parametrize("text, tokens", [
    # "làm sổ" is the colloquial first registration: its official wording is appended
    ("Làm sổ đỏ KO", ["lam", "so", "do", "khong", "cap", "giay", "chung", "nhan", "dang", "ky", "lan", "dau"]),
    ("lam so do ko", ["lam", "so", "do", "khong", "cap", "giay", "chung", "nhan", "dang", "ky", "lan", "dau"]),
    ("sổ đỏ", ["so", "do", "giay", "chung", "nhan", "quyen", "su", "dung", "dat"]),
    ("hoà giải?", ["hoa", "giai"]),
    # hồ sơ / số / sở fold like "sổ" but are not the certificate: nothing appended
    ("Hồ sơ của tôi", ["ho", "so", "cua", "toi"]),
    ("ho so cua toi", ["ho", "so", "cua", "toi"]),
    ("số 0912", ["so", "0912", "cuesodai"]),  # + the cue of a long number (components/cues.py)
    ("gọi SĐT ko", ["goi", "so", "dien", "thoai", "khong"]),
    # a sentence-final "a" is the particle ("chưa ạ"), as the accented twin reads; elsewhere "anh"
    ("chua a", ["chua", "a"]),
    ("chưa ạ", ["chua", "a"]),
    ("chua a! a oi", ["chua", "a", "anh", "oi"]),
])
def test_vietnamese_tokenizer_folds_and_expands(text, tokens):
    from rasa.shared.nlu.training_data.message import Message

    from components.vietnamese_tokenizer import VietnameseTokenizer

    tok = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    out = tok.tokenize(Message(data={"text": text}), "text")
    assert [t.text for t in out] == tokens
    first = out[0]
    assert fold(text[first.start:first.end]) == first.text  # offsets point at the original word


@pytest.mark.parametrize("text, tokens", [
    ("👍", ["tot", "cuetichcuc"]),
    ("👎👎 !!", ["khong", "tot", "khong", "tot", "negtot", "negtot", "cuetieucuc", "cuetieucuc"]),
])
def test_chat_emoji_read_as_the_words_they_stand_for(text, tokens):
    from rasa.shared.nlu.training_data.message import Message

    from components.vietnamese_tokenizer import VietnameseTokenizer

    out = VietnameseTokenizer(VietnameseTokenizer.get_default_config()).tokenize(Message(data={"text": text}), "text")
    assert [t.text for t in out] == tokens and text[out[0].start:out[0].end] in ("👍", "👎")


def test_motcua_and_its_servers_run_on_vietnam_time(server_clock_on_utc, capsys):
    # The stores record naive local times and the console shows them: on a UTC server a citizen's
    # 9:00 question would read 2:00. Every motcua command switches to Vietnam time, and the
    # servers it starts inherit it.
    import datetime as dt

    from core.clock import VIETNAM_TZ
    from motcua.cli import main

    epoch_9am_vn = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc).timestamp()
    assert dt.datetime.fromtimestamp(epoch_9am_vn).hour == 2
    assert main(["deadline", "--start", "2026-11-23T09:00", "--working-days", "1"]) == 0
    capsys.readouterr()
    assert dt.datetime.fromtimestamp(epoch_9am_vn) == dt.datetime(2026, 11, 23, 9, 0)
    assert server_env(Settings.from_env())["TZ"] == VIETNAM_TZ
