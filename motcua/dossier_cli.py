"""`motcua deadline`, `motcua dossiers ...` and `motcua db ...`: the dossier service's operator tasks."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from core.settings import get_settings
from core.vocabulary import CHANNELS
from motcua.errors import CliError


def _fail(message: str):
    raise CliError(message)


def _datetime(text: str) -> dt.datetime:
    from dossiers.importer import parse_datetime

    try:
        value = parse_datetime(text)
    except ValueError as exc:
        _fail(str(exc))
    if value is None:
        _fail("--start is empty")
    return value


def cmd_deadline(args) -> int:
    """Print the due date (ISO first on the line), then how it was computed."""
    from core.clock import now_local
    from dossiers.calendar import CalendarError, WorkingCalendar
    from dossiers.factory import catalogue_limits
    from knowledge_base.time_answers import unit_name

    settings = get_settings()
    calendar = WorkingCalendar.load(settings.office.calendar_file)
    start = _datetime(args.start) if args.start else now_local().replace(second=0, microsecond=0)
    given = [(v, u) for v, u in ((args.working_days, "working_day"), (args.working_hours, "working_hour"),
                                 (args.days, "day"), (args.hours, "hour")) if v is not None]
    if args.procedure:
        if given:
            _fail("give either --procedure or a time limit, not both")
        limits = catalogue_limits(str(settings.knowledge.catalogue_dir))
        channel = args.channel or "direct"
        limit = limits(args.procedure, channel)
        if limit is None:
            known = ", ".join(limits.channels(args.procedure)) or "none"
            _fail(f"procedure {args.procedure} has no usable time limit for channel {channel} (channels: {known})")
        given = [limit]
    if len(given) != 1:
        _fail("give one of --working-days, --working-hours, --days, --hours or --procedure")
    value, unit = given[0]
    try:
        due = calendar.due(start, value, unit)
    except CalendarError as exc:
        _fail(str(exc))
    counted = calendar.counting_start(start) if unit in ("working_day", "working_hour") else start
    print(f"{due.isoformat(timespec='minutes')}  due: {value:g} {unit_name(unit)} from {start:%Y-%m-%d %H:%M}"
          f" (counted from {counted:%Y-%m-%d %H:%M})")
    return 0


def _service():
    from dossiers.factory import open_service

    return open_service(get_settings())


def cmd_dossiers(args) -> int:
    """`motcua dossiers import | sample | sync | show | outbox`."""
    if args.action == "import":
        return _import(args)
    if args.action == "sample":
        return _sample(args)
    if args.action == "sync":
        return _sync(args)
    if args.action == "show":
        return _show(args)
    return _outbox(args)


def _import(args) -> int:
    from dossiers.importer import ImportFileError, import_file

    if not args.files:
        _fail("give the CSV or XLSX file(s) to import")
    service = _service()
    rejected = 0
    for name in args.files:
        try:
            report = import_file(service, Path(name))
        except ImportFileError as exc:
            _fail(f"{name}: {exc}")
        for line in report.lines():
            print(line)
        rejected += len(report.errors)
    return 1 if rejected else 0


def _sample(args) -> int:
    count = int(args.files[0]) if args.files and args.files[0].isdigit() else None
    if not count or count < 1:
        _fail("usage: motcua dossiers sample N (N >= 1)")
    add_samples(_service(), get_settings(), count, args.seed)
    return 0


def add_samples(service, settings, count: int, seed: int) -> None:
    """Add ``count`` sample dossiers for in-scope procedures and print three to try."""
    from core.clock import now_local
    from dossiers.factory import catalogue_limits, load_catalogue
    from dossiers.sample import sample_records

    in_scope = [
        p.code
        for p in load_catalogue(str(settings.knowledge.catalogue_dir)).in_scope(
            settings.knowledge.scope_fields, settings.knowledge.scope_levels
        )
    ]
    records = sample_records(
        count,
        catalogue_limits(str(settings.knowledge.catalogue_dir)),
        service.calendar,
        now_local(),
        seed=seed,
        procedures=in_scope,
    )
    results = service.upsert_many(records, source="sample")
    created = sum(r.action == "created" for r in results)
    print(f"{len(records)} sample dossiers: {created} created, {len(records) - created} already there "
          f"({service.count()} in the store)")
    print("Try one in the chat (code, then the last 4 digits of the phone):")
    for record in records[:3]:
        print(f"  {record.code}  {record.phone[-4:]}  status {record.status_code}")


def _sync(args) -> int:
    from dossiers.sync import HttpOneStopAdapter, sync

    settings = get_settings()
    url = args.url or settings.dossiers.onestop_api_url
    if not url:
        _fail("no one-stop API: give --url or set MOTCUA_ONESTOP_API_URL")
    since = _datetime(args.since) if args.since else None
    adapter = HttpOneStopAdapter(url, settings.dossiers.onestop_api_token, settings.dossiers.onestop_timeout_s)
    result = sync(_service(), adapter, since)
    if not result.ok:
        print(f"sync failed: {result.error} {result.detail}".rstrip(), file=sys.stderr)
        return 1
    print(f"{len(result.records)} dossiers fetched, {result.applied} changed, {len(result.rejected)} rejected, "
          f"{result.notices} notices queued")
    for line in result.rejected:
        print(f"  rejected {line}")
    return 0


def _show(args) -> int:
    from dossiers.replies import status_reply

    if not args.files:
        _fail("usage: motcua dossiers show CODE")
    view = _service().view(args.files[0])
    if view is None:
        _fail(f"no dossier {args.files[0]}")
    print("\n".join(status_reply(view, get_settings().office.hotline)))
    return 0


def _outbox(args) -> int:
    from collections import Counter

    rows = _service().outbox_rows()
    print("id\tstate\tchannel\tdossier\ttries\tcreated\tlast error")
    for row in rows:
        print(f"{row['id']}\t{row['state']}\t{row['channel']}\t{row['dossier_code']}\t{row['attempts']}\t"
              f"{row['created_at']:%Y-%m-%d %H:%M}\t{(row['last_error'] or '')[:80]}")
    states = Counter(row["state"] for row in rows)
    print(f"{len(rows)} notices" + "".join(f", {n} {state}" for state, n in sorted(states.items())))
    if states["unknown"] or states["sending"]:
        print("'unknown': the send timed out after it went out; 'sending' for long: its deliverer stopped. Neither is "
              "sent again by itself (a notice is never sent twice): tell the citizen another way if needed.")
    return 0


def cmd_db(args) -> int:
    """`motcua db upgrade | current`."""
    from dossiers import migrate
    from dossiers.service import make_engine

    engine = make_engine(get_settings().storage.database_url)
    if args.action == "upgrade":
        migrate.upgrade(engine)
    print(f"dossier schema at revision {migrate.current(engine) or '(none)'}")
    return 0


def register(sub) -> None:
    """Add the subcommands to the `motcua` parser."""
    sp = sub.add_parser("deadline", help="due date of a filing: working days, holidays, swap days")
    sp.add_argument("--start", help="received at (2026-04-24T09:00; default: now)")
    sp.add_argument("--working-days", type=float)
    sp.add_argument("--working-hours", type=float)
    sp.add_argument("--days", type=float, help="calendar days")
    sp.add_argument("--hours", type=float, help="elapsed hours")
    sp.add_argument("--procedure", help="use this procedure's time limit (catalogue code, e.g. 1.012786)")
    sp.add_argument("--channel", choices=list(CHANNELS))
    sp.set_defaults(func=cmd_deadline)

    sp = sub.add_parser("dossiers", help="dossier store: import FILE... | sample N | sync | show CODE | outbox")
    sp.add_argument("action", choices=["import", "sample", "sync", "show", "outbox"])
    sp.add_argument("files", nargs="*", help="import: CSV/XLSX files; sample: how many; show: the code")
    sp.add_argument("--seed", type=int, default=7, help="sample: random seed")
    sp.add_argument("--url", help="sync: one-stop API base URL (default: MOTCUA_ONESTOP_API_URL)")
    sp.add_argument("--since", help="sync: only dossiers changed since this time")
    sp.set_defaults(func=cmd_dossiers)

    sp = sub.add_parser("db", help="database schema of the dossier service: upgrade | current")
    sp.add_argument("action", choices=["upgrade", "current"])
    sp.set_defaults(func=cmd_db)
