"""Settings: typed areas, one parser for every variable, clear errors."""
import dataclasses
from pathlib import Path

import pytest

from core.settings import ROOT, Settings, SettingsError


def test_defaults_by_area():
    s = Settings.from_env({})
    assert s.servers.rasa_port == 5005 and s.servers.actions_host == "127.0.0.1"
    assert s.storage.retention_days == 180 and s.office.hotline == "18001096"
    assert s.dossiers.lockout_steps_minutes == (15, 60, 1440)
    assert s.console.port == 8090 and s.console_link_base == "http://127.0.0.1:8090"
    assert s.knowledge.embedding_backend == "onnx" and not s.servers.rest_channel


def test_one_parser_for_every_type(tmp_path):
    s = Settings.from_env({
        "MOTCUA_RASA_PORT": " 6000 ", "MOTCUA_ONESTOP_TIMEOUT_S": "2.5", "MOTCUA_REST_CHANNEL": "Yes",
        "MOTCUA_EMBEDDING_INT8": "off", "MOTCUA_INDEX_DIR": "build/other", "MOTCUA_CATALOGUE_DIR": str(tmp_path),
        "MOTCUA_SCOPE_FIELDS": "Đất đai; Môi trường", "MOTCUA_LOCKOUT_STEPS_MINUTES": "5,10",
        "MOTCUA_LOG_LEVEL": "WARNING", "MOTCUA_PUBLIC_URL": "https://bot.example.vn/",
    })
    assert s.servers.rasa_port == 6000 and s.dossiers.onestop_timeout_s == 2.5
    assert s.servers.rest_channel is True and s.knowledge.embedding_int8 is False
    assert s.knowledge.index_dir == ROOT / "build/other" and s.knowledge.catalogue_dir == Path(tmp_path)
    assert s.knowledge.scope_fields == ("Đất đai", "Môi trường") and s.dossiers.lockout_steps_minutes == (5, 10)
    assert s.servers.log_level == "warning" and s.channels.public_url == "https://bot.example.vn"


def test_prompt_prefixes_are_taken_exactly_as_written():
    s = Settings.from_env({"MOTCUA_QUERY_PREFIX": "", "MOTCUA_PASSAGE_PREFIX": "passage: "})
    assert s.knowledge.query_prefix == "" and s.knowledge.passage_prefix == "passage: "  # a model without prompts


def test_empty_means_unset_and_star_means_any():
    s = Settings.from_env({"MOTCUA_HOTLINE": "", "MOTCUA_DATABASE_URL": "  ", "MOTCUA_SCOPE_LEVELS": "*",
                           "MOTCUA_WEB_ORIGINS": "*"})
    assert s.office.hotline == "18001096" and s.storage.database_url.startswith("sqlite:///")
    assert s.knowledge.scope_levels == ()  # no restriction
    assert s.channels.web_origins == ("*",)  # any site may embed the widget


@pytest.mark.parametrize("name, value, words", [
    ("MOTCUA_RASA_PORT", "abc", "MOTCUA_RASA_PORT must be a number"),
    ("MOTCUA_LOCKOUT_STEPS_MINUTES", "15,x", "MOTCUA_LOCKOUT_STEPS_MINUTES must be a list of numbers"),
    ("MOTCUA_EMBEDDING_BACKEND", "cuda", "MOTCUA_EMBEDDING_BACKEND must be onnx or torch"),
    ("MOTCUA_STAFF_ALERT_WEBHOOK_URL", "ftp://x", "expected an http:// or https:// URL"),
    ("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", "staff group", "expected a chat id"),
])
def test_a_bad_value_names_its_variable(name, value, words):
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({name: value})


def test_channel_credentials_from_the_file_the_environment_first(tmp_path):
    env_file = tmp_path / "channels.env"
    env_file.write_text("TELEGRAM_BOT_TOKEN='from-file'\nZALO_APP_ID=7\nZALO_API_BASE=http://127.0.0.1:9/\n",
                        encoding="utf-8")
    s = Settings.from_env({"MOTCUA_CHANNELS_FILE": str(env_file), "ZALO_APP_ID": "42"})
    assert s.channels.telegram_bot_token == "from-file" and s.channels.zalo_app_id == "42"
    assert s.channels.zalo_api_base == "http://127.0.0.1:9" and s.channels.channels_file == env_file
    # only credentials come from the file, not other settings
    env_file.write_text("MOTCUA_HOTLINE=1\n", encoding="utf-8")
    assert Settings.from_env({"MOTCUA_CHANNELS_FILE": str(env_file)}).office.hotline == "18001096"


def test_fields_set_by_name_whatever_their_area():
    s = Settings.of(hotline="0123", port=9000, database_url="sqlite://")
    assert (s.office.hotline, s.console.port, s.storage.database_url) == ("0123", 9000, "sqlite://")
    assert s.replaced(hotline="9").office.hotline == "9" and s.office.hotline == "0123"
    with pytest.raises(TypeError, match="unknown setting"):
        Settings.of(no_such_setting=1)


def test_every_variable_is_documented_in_the_readme():
    from dataclasses import fields

    from core.settings import AREAS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [f.metadata["env"] for kind in AREAS.values() for f in fields(kind)]
    missing = [n for n in names if n not in readme and not n.startswith(("TELEGRAM_", "ZALO_"))]
    assert not missing, f"settings missing from README's table: {missing}"


def test_the_public_url_and_the_consoles_are_two_settings(monkeypatch, capsys):
    """Telegram's webhook goes to MOTCUA_PUBLIC_URL, never to the console's address."""
    from motcua import runner

    s = Settings.from_env({"MOTCUA_PUBLIC_URL": "https://bot.example.vn", "TELEGRAM_BOT_TOKEN": "1:x",
                           "MOTCUA_TELEGRAM_MODE": "webhook", "MOTCUA_CONSOLE_PUBLIC_URL": "https://staff.example.vn"})
    assert s.channels.public_url == "https://bot.example.vn" and s.console_link_base == "https://staff.example.vn"
    calls = []
    monkeypatch.setattr(runner.subprocess, "run", lambda *a, **kw: calls.append(a))
    runner.set_telegram_webhook(s, {})
    assert calls and "without MOTCUA_PUBLIC_URL" not in capsys.readouterr().err
    with pytest.raises(TypeError, match="channels and console"):
        s.replaced(public_url=None)
    without = dataclasses.replace(s, channels=dataclasses.replace(s.channels, public_url=None))
    runner.set_telegram_webhook(without, {})  # only the console's URL: say how to set it
    assert len(calls) == 1 and "without MOTCUA_PUBLIC_URL" in capsys.readouterr().err
