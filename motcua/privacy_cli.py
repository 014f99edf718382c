"""`motcua privacy purge`: delete or anonymise personal data older than the retention period.

The same purge runs once a day inside `motcua channels deliver` (purge_daily).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import Dict, List, Optional

from core.clock import as_vietnam, now_local
from core.settings import Settings, get_settings

DAY_S = 24 * 3600.0


def purge_now(settings: Settings, days: Optional[int] = None, dry_run: bool = False,
              now: Optional[dt.datetime] = None):
    """(cut-off, what was removed) of one purge of the tracker store and the main database."""
    from core.privacy import Hasher
    from core.retention import Cutoff, pseudonym_maker, purge

    hasher = Hasher.configured(settings)
    days = settings.storage.retention_days if days is None else days
    cutoff = Cutoff.days_before(now or as_vietnam(now_local()), days)
    removed = purge(settings.servers.tracker_store_url, settings.storage.database_url, cutoff,
                    pseudonym_maker(lambda conversation: hasher.hash("conversation", conversation)), dry_run)
    return cutoff, removed


async def purge_daily(settings: Settings, stop: Optional[asyncio.Event] = None, interval_s: float = DAY_S) -> None:
    """Purge at once, then every ``interval_s`` until ``stop``; a failed purge is logged and tried next time."""
    from channels.outbound import repeat_rounds

    async def once() -> Dict[str, int]:
        _, removed = await asyncio.to_thread(purge_now, settings)
        return {f"{r.store}: {r.what}": r.count for r in removed}

    await repeat_rounds(once, interval_s, stop, "privacy purge")


def cmd_privacy(args) -> int:
    """Print what the purge removed (or would remove), store by store."""
    from core.retention import report_lines

    settings = get_settings()
    days = settings.storage.retention_days if args.days is None else args.days
    if days < 1:
        print("motcua: --days must be at least 1", file=sys.stderr)
        return 2
    cutoff, removed = purge_now(settings, days, args.dry_run)
    verb = "would remove (dry run, nothing changed)" if args.dry_run else "removed"
    print(f"Personal data older than {days} days (before {cutoff.local:%Y-%m-%d %H:%M}): {verb}")
    lines: List[str] = report_lines(removed)
    for line in lines:
        print(f"  {line}")
    return 0


def register(sub) -> None:
    """Add the privacy subcommand to the motcua parser."""
    sp = sub.add_parser("privacy", help="privacy: purge (delete or anonymise personal data past the retention period)")
    sp.add_argument("action", choices=["purge"])
    sp.add_argument("--days", type=int, help="retention period in days (default: MOTCUA_RETENTION_DAYS, 180)")
    sp.add_argument("--dry-run", action="store_true", help="count what would be removed, change nothing")
    sp.set_defaults(func=cmd_privacy)
