"""Operator commands for the staff console: accounts, serving, exporting staff changes."""
from __future__ import annotations

import getpass
import os
import sys

from core.settings import get_settings


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("MOTCUA_ADMIN_PASSWORD"):
        return os.environ["MOTCUA_ADMIN_PASSWORD"]
    if not sys.stdin.isatty():
        raise SystemExit("motcua: give the password with --password-stdin or MOTCUA_ADMIN_PASSWORD")
    from console.passwords import MIN_LENGTH, password_problem

    first = getpass.getpass(f"Mật khẩu (ít nhất {MIN_LENGTH} ký tự): ")
    problem = password_problem(first, args.username)
    if problem:  # before asking twice
        raise SystemExit(f"motcua: {problem}")
    if first != getpass.getpass("Nhập lại mật khẩu: "):
        raise SystemExit("motcua: the two passwords differ")
    return first


def cmd_admin(args) -> int:
    from console.store import ConsoleStore

    store = ConsoleStore(get_settings().storage.database_url)
    if args.action == "password":
        user_id = store.user_id(args.username)
        if user_id is None:
            print(f"motcua: no account {args.username.lower()}", file=sys.stderr)
            return 2
        try:
            ended = store.reset_password(user_id, _password(args), by="motcua-cli")
        except ValueError as exc:
            print(f"motcua: {exc}", file=sys.stderr)
            return 2
        print(f"new password set for {args.username.lower()}; {ended} session(s) ended")
        return 0
    try:
        store.create_user(args.username, _password(args), args.role, args.full_name or "")
    except ValueError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 2
    store.audit("motcua-cli", "create_user", args.username, role=args.role)
    print(f"created {args.role} account {args.username.lower()}; log in at "
          f"http://{get_settings().servers.host}:{get_settings().console.port}/")
    return 0


def export_staff_changes(settings) -> dict:
    """Write staff-mapped phrasings as NLU examples, mark decisions exported, rebuild the search index."""
    from console.store import ConsoleStore
    from console.upkeep import write_nlu_examples
    from core.stores.review_log import ReviewLog
    from knowledge_base.grouping import key_of
    from knowledge_base.service import KnowledgeBase

    store = ConsoleStore(settings.storage.database_url)
    mapped = {k for k, d in store.decisions().items() if d["decision"] == "mapped"}
    # Masked as the console showed them (staff decided on the masked keys), so no number reaches the NLU data.
    phrasings = [
        r["text"] for r in ReviewLog(settings.storage.database_url).unanswered_rows() if key_of(r["text"]) in mapped
    ]
    examples = write_nlu_examples(settings.console.staff_nlu_file, phrasings)
    changed = store.mark_exported()
    kb = KnowledgeBase(settings)
    kb.retriever  # noqa: B018  reading it rebuilds the index when the catalogue changed (aliases added by staff)
    # every node takes this catalogue and index (knowledge_base.published), not only the one staff used
    from motcua.catalogue_cli import publish_current

    version = publish_current(settings, "console", kb)
    return {"nlu_examples": examples, "decisions": changed, "index_rebuilt": kb.rebuilt_because or "up to date",
            "published": version}


def set_display_name(settings, username: str, name: str) -> int:
    """`motcua console set-name USER NAME`: the display name citizens see ("Cán bộ NAME")."""
    from console.store import ConsoleStore

    store = ConsoleStore(settings.storage.database_url)
    user_id = store.user_id(username)
    if user_id is None:
        print(f"motcua: no account {username.strip().lower()}", file=sys.stderr)
        return 2
    try:
        kept = store.set_display_name(user_id, name, by="motcua-cli")
    except ValueError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 2
    print(f"{username.strip().lower()}: citizens now see \"Cán bộ {kept}\"")
    return 0


def catch_up_console(settings) -> int:
    """`motcua console rollup`: bring the console's sums and question groups up to date (a first run over a big
    tracker store, or after a restore; the running console keeps them current by itself)."""
    import time

    from console.web import Console

    console = Console(settings)
    start = time.perf_counter()
    events = console.rollup.catch_up()
    middle = time.perf_counter()
    questions = console.current_groups(budget=0).catch_up()
    print(f"events summed: {events} in {middle - start:.1f} s; questions grouped: {questions} in "
          f"{time.perf_counter() - middle:.1f} s")
    return 0


def cmd_console(args) -> int:
    settings = get_settings()
    if args.action == "set-name":
        if len(args.args) != 2:
            print('motcua: usage: motcua console set-name USER "Nguyễn Thị Lan"', file=sys.stderr)
            return 2
        return set_display_name(settings, *args.args)
    if args.args:
        print(f"motcua: console {args.action} takes no arguments", file=sys.stderr)
        return 2
    if args.action == "rollup":
        return catch_up_console(settings)
    if args.action == "export":
        result = export_staff_changes(settings)
        print(f"NLU examples in {settings.console.staff_nlu_file}: {result['nlu_examples']}; "
              f"decisions exported: {result['decisions']}; search index: {result['index_rebuilt']}; "
              f"published as catalogue version {result['published']}. "
              "Run `make train` to retrain the Rasa model with the new examples.")
        return 0
    import uvicorn

    from console.app import create_app
    from core.privacy import install_log_masking

    install_log_masking()  # no phone or ID number in the console's logs (search queries, errors)
    # No WebSocket endpoints: ws="none" also keeps uvicorn off the old websockets that rasa pins.
    uvicorn.run(create_app(settings, background=True), host=settings.servers.host, port=settings.console.port,
                log_level="warning", proxy_headers=False, ws="none")
    return 0


def register(sub) -> None:
    from console.store import ROLES

    sp = sub.add_parser("admin", help="staff accounts: create | password (set a new one, e.g. a forgotten admin's)")
    sp.add_argument("action", choices=["create", "password"])
    sp.add_argument("--username", required=True)
    sp.add_argument("--role", choices=ROLES, default="admin")
    sp.add_argument("--full-name")
    sp.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sp.set_defaults(func=cmd_admin)
    sp = sub.add_parser("console", help="staff console: serve | export (staff changes to NLU data + index) | "
                                        "set-name USER NAME (the display name citizens see)")
    sp.add_argument("action", choices=["serve", "export", "set-name", "rollup"])
    sp.add_argument("args", nargs="*", metavar="USER NAME", help="set-name: the account and its display name")
    sp.set_defaults(func=cmd_console)
