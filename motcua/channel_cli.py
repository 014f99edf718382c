"""Operator commands for the channels: status, outbox delivery (with the daily privacy purge), Telegram
polling and webhook."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys

from core.settings import get_settings


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _long_running_logs() -> None:
    """Servers log what they do (deliveries, refusals); httpx's per-request lines stay quiet."""
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def cmd_channels(args) -> int:
    from channels.runtime import channel_report

    _long_running_logs()
    settings = get_settings()
    if args.action == "deliver":
        from core.privacy import install_log_masking

        install_log_masking()  # delivery errors may quote a notice or a channel's reply
    if args.action == "status":
        for line in channel_report(settings):
            print(line)
        _print_alert_backlog(settings)
        return 0
    return asyncio.run(_deliver(settings, args.once))


async def _deliver(settings, once: bool) -> int:
    from channels.clients import channel_state
    from channels.outbound import Deliverer, build_senders, repeat_rounds
    from dossiers.service import DossierService
    from motcua.catalogue_cli import catalogue_sync
    from motcua.privacy_cli import purge_daily

    service = DossierService.from_settings(settings)
    deliverer = Deliverer(service, build_senders(settings, channel_state()),
                          max_age=dt.timedelta(hours=settings.channels.notice_max_age_hours))
    alerter = _staff_alerter(settings)
    lookups = _lookup_alerter(settings, service)
    notices = _notice_alerter(settings, service)
    catalogue = catalogue_sync(settings)
    if once:
        print(await deliverer.run_once())
        if alerter:
            print("staff alerts:", await alerter.run_once())
        if lookups:
            print("lookup alerts:", await lookups.run_once())
        if notices:
            print("notice alerts:", await notices.run_once())
        print("catalogue:", await asyncio.to_thread(catalogue.run_once))
    else:
        print(f"motcua: delivering notices on {', '.join(sorted(deliverer.senders))} every "
              f"{settings.channels.deliver_interval_s:g} s"
              + (f"; staff alerts to {', '.join(sorted(alerter.targets))}" if alerter else "")
              + f"; purging personal data older than {settings.storage.retention_days} days now and daily", flush=True)
        stop = _stop_event()
        await asyncio.gather(deliverer.run_forever(settings.channels.deliver_interval_s, stop),
                             *([alerter.run_forever(settings.channels.deliver_interval_s, stop)] if alerter else []),
                             *([lookups.run_forever(settings.channels.deliver_interval_s, stop)] if lookups else []),
                             *([notices.run_forever(settings.channels.deliver_interval_s, stop)] if notices else []),
                             repeat_rounds(lambda: asyncio.to_thread(catalogue.run_once),
                                           settings.channels.deliver_interval_s, stop, "catalogue"),
                             purge_daily(settings, stop))
    service.close()
    return 0


def _print_alert_backlog(settings) -> None:
    """Staff alerts not sent: waiting (when alerts are on), or given up (with the last errors)."""
    from collections import Counter

    from channels.runtime import handoff_store

    alerts = handoff_store().alerts()
    states = Counter(a["state"] for a in alerts)
    if states["pending"] and (settings.channels.staff_alert_telegram_chat or settings.channels.staff_alert_webhook_url):
        print(f"staff alerts waiting to be sent: {states['pending']}")
    if states["failed"]:
        print(f"staff alerts given up: {states['failed']} (the last ones below)")
    for alert in [a for a in alerts if a["state"] == "failed"][-3:]:
        print(f"  {alert['conversation_id']} at {alert['requested_at']:%Y-%m-%d %H:%M}: {alert['last_error']}")


def _staff_alerter(settings):
    """The staff alerter when a target is configured, else None."""
    from channels.runtime import handoff_store
    from channels.staff_alerts import StaffAlerter, staff_targets

    targets = staff_targets(settings)
    return StaffAlerter(handoff_store(), targets, settings.console_link_base) if targets else None


def _lookup_alerter(settings, service):
    """The sender of the dossier service's enumeration alerts when a staff target is configured, else None."""
    from channels.staff_alerts import LookupAlerter, staff_targets

    targets = staff_targets(settings)
    return LookupAlerter(service, targets, settings.console_link_base) if targets else None


def _notice_alerter(settings, service):
    """The sender of the alerts about stuck notices when a staff target is configured, else None."""
    from channels.staff_alerts import NoticeAlerter, staff_targets

    targets = staff_targets(settings)
    return NoticeAlerter(service, targets) if targets else None


def cmd_telegram(args) -> int:
    from channels.clients import telegram_on

    _long_running_logs()
    settings = get_settings()
    if not telegram_on(settings):
        print("motcua: TELEGRAM_BOT_TOKEN is not set; the Telegram channel is off", file=sys.stderr)
        return 2
    return asyncio.run(_poll(settings) if args.action == "poll" else _webhook(settings, args.url, args.delete))


async def _poll(settings) -> int:
    from channels.clients import telegram_secret
    from channels.telegram import make_bot
    from channels.telegram_poll import PollingRelay

    url = f"http://{settings.servers.host}:{settings.servers.rasa_port}/webhooks/telegram/webhook"
    relay = PollingRelay(make_bot(settings.channels.telegram_bot_token, settings.channels.telegram_api_base), url,
                         telegram_secret(settings))
    print(f"motcua: Telegram polling, relaying updates to {url}", flush=True)
    await relay.run(_stop_event())
    return 0


async def _webhook(settings, url, delete: bool) -> int:
    from channels.clients import telegram_secret
    from channels.telegram import make_bot

    bot = make_bot(settings.channels.telegram_bot_token, settings.channels.telegram_api_base)
    async with bot:
        if delete:
            await bot.delete_webhook()
            print("Telegram webhook removed")
            return 0
        base = url or settings.channels.public_url
        if not base:
            print("motcua: give --url https://PUBLIC-HOST or set MOTCUA_PUBLIC_URL", file=sys.stderr)
            return 2
        target = base.rstrip("/") + ("" if base.rstrip("/").endswith("/webhooks/telegram/webhook")
                                     else "/webhooks/telegram/webhook")
        await bot.set_webhook(target, secret_token=telegram_secret(settings),
                              allowed_updates=["message", "edited_message", "callback_query"])
        print(f"Telegram webhook set to {target}")
    return 0


def register(sub) -> None:
    """Add the channel subcommands to the motcua parser."""
    sp = sub.add_parser("channels", help="channels: status | deliver (send due dossier notices and staff alerts)")
    sp.add_argument("action", choices=["status", "deliver"])
    sp.add_argument("--once", action="store_true", help="deliver: one round, then exit")
    sp.set_defaults(func=cmd_channels)
    sp = sub.add_parser("telegram", help="Telegram: poll (development) | webhook (--url, or --delete)")
    sp.add_argument("action", choices=["poll", "webhook"])
    sp.add_argument("--url", help="webhook: public base URL of the Rasa server")
    sp.add_argument("--delete", action="store_true", help="webhook: remove it (back to polling)")
    sp.set_defaults(func=cmd_telegram)

