"""Channel configuration: environment over the git-ignored file, channels off without credentials."""
import subprocess
import sys

import yaml

from core.settings import ROOT, Settings, read_env_file
from motcua.runner import credentials_config, web_origins, write_runtime_files


def settings_with(monkeypatch, tmp_path, file_text="", **env):
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE", "ZALO_APP_ID",
                 "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN", "ZALO_REFRESH_TOKEN", "ZALO_APP_SECRET",
                 "ZALO_API_BASE", "ZALO_OAUTH_BASE", "MOTCUA_WEB_ORIGINS", "MOTCUA_TELEGRAM_MODE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "channels.env"
    path.write_text(file_text)
    monkeypatch.setenv("MOTCUA_CHANNELS_FILE", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_credentials_file_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    s = settings_with(monkeypatch, tmp_path, "# comment\nTELEGRAM_BOT_TOKEN='from-file'\n"
                      "export ZALO_APP_ID=\"42\"\nZALO_API_BASE=http://127.0.0.1:9/\n",
                      TELEGRAM_BOT_TOKEN="from-env")
    assert s.channels.telegram_bot_token == "from-env" and s.channels.zalo_app_id == "42"
    assert s.channels.zalo_api_base == "http://127.0.0.1:9" and s.channels.zalo_oauth_base == "https://oauth.zaloapp.com"
    assert read_env_file(tmp_path / "missing.env") == {}


def test_channels_without_credentials_are_off_and_say_so(monkeypatch, tmp_path):
    s = settings_with(monkeypatch, tmp_path)
    assert list(credentials_config(s)) == ["channels.rasa_web.WebInput"]  # REST, socket.io: asked for only
    assert list(credentials_config(s.replaced(rest_channel=True, socketio_channel=True))) == [
        "rest", "channels.rasa_socketio.SocketInput", "channels.rasa_web.WebInput"]
    env = {k: v for k, v in __import__("os").environ.items()}
    out = subprocess.run([sys.executable, "-m", "motcua", "channels", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60).stdout
    assert "telegram: off (set TELEGRAM_BOT_TOKEN" in out and "zalo: off (missing ZALO_APP_ID" in out


def test_credentials_written_for_rasa_never_hold_secrets(monkeypatch, tmp_path):
    s = settings_with(monkeypatch, tmp_path, TELEGRAM_BOT_TOKEN="123:SECRET", ZALO_APP_ID="1",
                      ZALO_OA_SECRET_KEY="oa-secret", ZALO_ACCESS_TOKEN="access-secret",
                      MOTCUA_WEB_ORIGINS="https://stnmt.example.gov.vn, https://dichvucong.example.gov.vn",
                      MOTCUA_TRACKER_STORE_URL=f"sqlite:///{tmp_path / 't.db'}")
    _, credentials = write_runtime_files(s, tmp_path / "run")
    text = credentials.read_text()
    assert set(yaml.safe_load(text)) >= {"channels.rasa_telegram.TelegramInput", "channels.rasa_zalo.ZaloInput"}
    assert "SECRET" not in text and "secret" not in text and oct(credentials.stat().st_mode)[-3:] == "600"
    assert web_origins(s) == ["http://127.0.0.1:8080", "https://stnmt.example.gov.vn",
                              "https://dichvucong.example.gov.vn"]


def test_repository_holds_no_channel_secrets():
    template = read_env_file(ROOT / "bot/channels.env.template")
    assert template and all(value == "" for value in template.values())
    ignored = subprocess.run(["git", "check-ignore", "bot/channels.env"], cwd=ROOT, capture_output=True, text=True)
    assert ignored.returncode == 0
