"""The channels' API clients and state of this process, built from settings on first use."""
from __future__ import annotations

import functools
import logging
from typing import Optional

from channels.state import ChannelState, Tokens
from core.settings import ROOT, Settings, get_settings

TELEGRAM_SECRET_FILE = ROOT / "build/secrets/telegram-webhook.secret"
# One INFO line per Bot / OA API call is noise, and a Bot API URL holds the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)


def telegram_on(settings: Settings) -> bool:
    return bool(settings.channels.telegram_bot_token)


def zalo_on(settings: Settings) -> bool:
    return bool(
        settings.channels.zalo_app_id and settings.channels.zalo_oa_secret_key and settings.channels.zalo_access_token
    )


@functools.lru_cache(maxsize=1)
def channel_state() -> ChannelState:
    return ChannelState(get_settings().storage.database_url)


def telegram_secret(settings: Optional[Settings] = None) -> str:
    from channels.telegram import webhook_secret

    settings = settings or get_settings()
    return webhook_secret(settings.channels.telegram_webhook_secret, TELEGRAM_SECRET_FILE)


@functools.lru_cache(maxsize=1)
def telegram_client():
    from channels.telegram import TelegramClient, make_bot

    settings = get_settings()
    return TelegramClient(
        make_bot(settings.channels.telegram_bot_token, settings.channels.telegram_api_base), channel_state()
    )


@functools.lru_cache(maxsize=1)
def zalo_client():
    from channels.zalo import ZaloClient

    settings = get_settings()
    state = channel_state()
    state.tokens("zalo", Tokens(settings.channels.zalo_access_token, settings.channels.zalo_refresh_token, 1))
    return ZaloClient(
        settings.channels.zalo_app_id,
        settings.channels.zalo_app_secret,
        state,
        api_base=settings.channels.zalo_api_base,
        oauth_base=settings.channels.zalo_oauth_base,
    )
