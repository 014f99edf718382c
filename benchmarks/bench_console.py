"""Staff console benchmark: every page and export, as a logged-in admin, over a department's real volume.

Generates a store (benchmarks/console_store.py: 100,000 conversations, about 1.8 million tracker events
over 120 days, unanswered questions, feedback and handoffs in proportion) on SQLite and on PostgreSQL (a
throwaway local server, as in bench_dossiers), then times each page of the console in process (Starlette's
TestClient): every page of the menu and its filters, the first three links of each list page (no key is
written here), and the statistics exports of a month. One warm-up request, then ``--repeat`` timed ones
(``--export-repeat`` for exports; a page stops early, after at least three, once ``--page-budget-s`` is
spent on it). Budget: p95 <= 300 ms and <= 300 KB a page, <= 5 s an export. A page that does not answer
200 is a failed row. The exit code is always 0 (it prints figures); the last line counts what is over budget.

    python -m benchmarks.bench_console [--conversations 100000] [--skip-postgres] [--repeat 20]
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from benchmarks.console_store import ADMIN, PASSWORD, generate
from core.clock import today_local, use_vietnam_time
from core.settings import ROOT, Settings

try:  # the tracker-store roll-up the console's statistics may read (absent before it is written)
    from console.rollup import catch_up
except ImportError:
    catch_up = None

PAGE_MS, PAGE_KB, EXPORT_MS = 300, 300, 5000
HASH_KEY = "khoa-bam-cho-do-kiem-bang-dieu-khien"  # client digests of the console's login throttle (no key file)
# The menu's pages with their filters; pages added to the menu later are found in it and timed too.
PAGES = ("/unanswered", "/unanswered?show=open", "/unanswered?show=done", "/unanswered?sort=newest",
         "/unanswered?show=done&sort=newest", "/handoffs", "/conversations", "/conversations?q=so%20do",
         "/conversations?q=s%E1%BB%95%20%C4%91%E1%BB%8F", "/conversations?channel=zalo",
         "/conversations?channel=telegram", "/conversations?channel=web", "/conversations?channel=rest",
         "/catalogue", "/catalogue?q=so%20do", "/changes", "/faq", "/analytics", "/analytics?days=7",
         "/analytics?days=30", "/analytics?days=90", "/dossier-locks", "/users", "/audit", "/password",
         "/catalogue-import")
HREF = re.compile(r'href="([^"#]+)"')


@dataclass
class Row:
    """One timed page of one database."""

    database: str
    page: str
    kind: str  # page | export | catch-up
    status: str
    n: int = 0
    p50: float = 0.0
    p95: float = 0.0
    kb: float = 0.0

    @property
    def over(self) -> bool:
        """Whether the page failed or missed its budget (a catch-up has none)."""
        if self.kind == "catch-up":
            return False
        if self.status != "200":
            return True
        return self.p95 > (EXPORT_MS if self.kind == "export" else PAGE_MS) or (self.kind == "page" and
                                                                                self.kb > PAGE_KB)

    def line(self) -> str:
        """The row in the table."""
        verdict = "-" if self.kind == "catch-up" else ("FAIL" if self.over else "PASS")
        return (f"{self.database:<11} {self.page[:58]:<58} {self.status:>6} {self.n:>3} {self.p50:>9.1f} "
                f"{self.p95:>9.1f} {self.kb:>8.1f}  {verdict}")


HEADER = f"{'database':<11} {'page':<58} {'status':>6} {'n':>3} {'p50 ms':>9} {'p95 ms':>9} {'KB':>8}  budget"


def p95(values: List[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def measure(client, database: str, path: str, kind: str, repeat: int, budget_s: float) -> Tuple[Row, str]:
    """One warm-up request, then ``repeat`` timed ones (at least three once ``budget_s`` is spent); the row
    and the page's text."""
    began = time.perf_counter()
    times: List[float] = []
    try:
        response = client.get(path)
        status = response.status_code
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            status = status if status != 200 else response.status_code
            if time.perf_counter() - began > budget_s and len(times) >= 3:
                break
    except Exception as exc:  # a page that cannot be served is a failed row, not the end of the run
        return Row(database, path, kind, type(exc).__name__, len(times)), ""
    return Row(database, path, kind, str(status), len(times), statistics.median(times) if times else 0.0,
               p95(times) if times else 0.0, len(response.content) / 1024), response.text if kind == "page" else ""


def links(page_html: str, prefix: str) -> List[str]:
    """The distinct hrefs of a page that start with ``prefix``, in order."""
    found = {}
    for href in HREF.findall(page_html):
        href = html.unescape(href)
        if href.startswith(prefix):
            found[href] = None
    return list(found)


def login(app):
    """A TestClient signed in as the admin (the login form's CSRF cookie and token, as a browser does)."""
    from starlette.testclient import TestClient

    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    client.__enter__()  # one event loop for every request (closed by ``client.__exit__``)
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = client.post("/login", data={"username": ADMIN, "password": PASSWORD, "csrf": token, "next": "/"})
    if answer.status_code != 303:
        raise RuntimeError(f"login answered {answer.status_code}: {answer.text[:300]}")
    return client


def time_pages(settings: Settings, database: str, args) -> List[Row]:
    """Every page, its first detail links and the exports, timed as the admin."""
    from console.app import create_app

    app = create_app(settings)
    client = login(app)
    rows: List[Row] = []
    try:
        first = client.get("/unanswered").text
        nav = re.search(r"<nav.*?</nav>", first, re.S)
        menu = [h for h in links(nav.group(0) if nav else "", "/") if h not in PAGES]
        details: dict = {}
        for path in list(PAGES) + menu:
            row, text = measure(client, database, path, "page", args.repeat, args.page_budget_s)
            print(row.line(), flush=True)
            rows.append(row)
            base = path.split("?")[0]
            if row.status == "200" and base != "/":
                for href in links(text, base + "/")[:3]:
                    details.setdefault(href, None)
        for path in details:
            row, _ = measure(client, database, path, "page", args.repeat, args.page_budget_s)
            print(row.line(), flush=True)
            rows.append(row)
        report = client.get("/analytics?days=30").text
        exports = links(report, "/analytics.") or ["/analytics.csv?days=30", "/analytics.xlsx?days=30"]
        if 'name="start"' in report:  # a chosen period: the last whole month
            end = today_local().replace(day=1) - dt.timedelta(days=1)
            exports += [f"/analytics.{kind}?start={end.replace(day=1)}&end={end}" for kind in ("csv", "xlsx")]
        for path in exports:
            row, _ = measure(client, database, path, "export", args.export_repeat, args.page_budget_s)
            print(row.line(), flush=True)
            rows.append(row)
    finally:
        client.__exit__(None, None, None)
        console = app.state.console
        for engine in (console.store.engine, console.conversations.engine, console.handoffs.engine):
            engine.dispose()
    return rows


def run_catch_up(settings: Settings, database: str) -> List[Row]:
    """The console's roll-up of the tracker store, when it has one: a first catch-up, then one with nothing new."""
    if catch_up is None:
        return []
    rows = []
    for label in ("first", "again"):
        start = time.perf_counter()
        count = catch_up(settings)
        took = (time.perf_counter() - start) * 1000
        print(f"{database}: catch-up of {count:,} events: {took / 1000:.2f} s" if label == "first" else
              f"{database}: second catch-up took {took:.1f} ms ({count:,} new events)", flush=True)
        rows.append(Row(database, f"catch-up ({label}) of {count:,} events", "catch-up", "ok", 1, took, took))
    from console.web import Console

    console = Console(settings)  # the questions' groups, as `motcua console rollup` places them
    start = time.perf_counter()
    groups = console.current_groups(budget=0)
    placed = groups.catch_up()
    took = (time.perf_counter() - start) * 1000
    print(f"{database}: {placed:,} unanswered questions grouped in {took / 1000:.2f} s "
          f"(encoder: {'yes' if groups.embed is not None else 'no, same content only'})", flush=True)
    rows.append(Row(database, f"grouping of {placed:,} questions", "catch-up", "ok", 1, took, took))
    groups.close()
    return rows


def store_size(tracker_url: str, database_url: str, workdir: Path) -> int:
    """Bytes the store takes: the SQLite files, or the PostgreSQL database."""
    if tracker_url.startswith("sqlite"):
        return sum(path.stat().st_size for path in workdir.glob("*.db*"))
    from sqlalchemy import text

    from core.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return size


def bench_database(database: str, tracker_url: str, database_url: str, workdir: Path, args) -> List[Row]:
    """Generate the store on one database, then time the console over it."""
    start = time.perf_counter()
    counts = generate(tracker_url, database_url, conversations=args.conversations, days=args.days, seed=args.seed,
                      catalogue_dir=args.catalogue, ascii_events=args.ascii_events,
                      progress=print if args.conversations >= 20_000 else None)
    took = time.perf_counter() - start
    print(f"{database}: generated in {took:.1f} s ({counts.events / took:,.0f} events/s): {counts.line()}")
    print(f"  size: {store_size(tracker_url, database_url, workdir) / 2 ** 20:,.0f} MB")
    catalogue = workdir / "catalogue"
    if not catalogue.exists():  # the console reads a copy: nothing here can touch the repository's catalogue
        shutil.copytree(args.catalogue, catalogue)
    settings = Settings.of(database_url=database_url, tracker_store_url=tracker_url, catalogue_dir=catalogue,
                           dossier_hash_key=HASH_KEY)
    rows = run_catch_up(settings, database)
    print(HEADER)
    return rows + time_pages(settings, database, args)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120, help="spread over the last DAYS days")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--export-repeat", type=int, default=5, help="timed requests per export")
    parser.add_argument("--page-budget-s", type=float, default=60.0,
                        help="time spent on one page after which it stops (after at least 3 timed requests)")
    parser.add_argument("--catalogue", type=Path, default=ROOT / "knowledge_base/catalogue")
    parser.add_argument("--ascii-events", action="store_true",
                        help="events' JSON with non-ASCII escaped, as stock Rasa writes it (default: as the project's "
                             "tracker store writes it, non-ASCII literal)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser


def run(args) -> List[Row]:
    """The benchmark on SQLite, then (unless skipped) PostgreSQL; every row."""
    rows: List[Row] = []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-console-") as tmp:
        work = Path(tmp)
        if not args.skip_sqlite:
            rows += bench_database("sqlite", f"sqlite:///{work}/tracker.db", f"sqlite:///{work}/motcua.db", work,
                                   args)
        if not args.skip_postgres:
            from motcua.localservers import LocalPostgres, PostgresUnavailable

            server: Optional[LocalPostgres] = None
            try:
                server = LocalPostgres().start()
                rows += bench_database("postgresql", server.url, server.url, work, args)
            except PostgresUnavailable as exc:
                print(f"postgresql: skipped ({exc})")
            finally:
                if server is not None:
                    server.stop()
    return rows


def main() -> None:
    """Run, then print every row again and the count over budget."""
    args = parser().parse_args()
    use_vietnam_time()  # as `motcua console` runs: the console reads event times in Vietnam time
    rows = run(args)
    print(f"\n{args.conversations:,} conversations; budget: p95 <= {PAGE_MS} ms and <= {PAGE_KB} KB a page, "
          f"p95 <= {EXPORT_MS / 1000:.0f} s an export")
    print(HEADER)
    for row in rows:
        print(row.line())
    print(f"pages over budget: {sum(row.over for row in rows)}")


if __name__ == "__main__":
    main()
