"""Dossier service benchmark: lookups per second over 100,000 sample dossiers, and import throughput,
on SQLite and on PostgreSQL (a local server started here, as in the tests).

Each figure comes with a baseline measured in the same run on the same database:
- lookups: a bare primary-key SELECT of the dossier row (the least any lookup must do);
- import: reading and checking the CSV rows without writing them.

    python -m benchmarks.bench_dossiers [--dossiers 100000] [--lookups 3000] [--import-rows 10000]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from core.privacy import Hasher
from core.settings import get_settings
from dossiers.calendar import WorkingCalendar
from dossiers.factory import catalogue_limits
from dossiers.importer import HEADER_EXAMPLE, import_file, map_headers, read_rows, record_from_row
from dossiers.sample import sample_records
from dossiers.schema import dossiers
from dossiers.service import DossierService

NOW = dt.datetime(2026, 11, 20, 10)


def write_csv(path: Path, records) -> None:
    """Write records as a one-stop export with the documented columns."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER_EXAMPLE)
        for r in records:
            writer.writerow([r.code, r.procedure_code, r.procedure_name, r.channel, r.applicant_name, r.phone,
                             r.citizen_id, r.received_at.isoformat(timespec="minutes"),
                             r.due_at.isoformat(timespec="minutes") if r.due_at else "", r.status_code,
                             r.status_at.isoformat(timespec="minutes") if r.status_at else "", r.current_step,
                             r.handling_unit, r.result_pickup, r.supplement_items,
                             r.financial_amount_vnd if r.financial_amount_vnd is not None else ""])


def bench_backend(name: str, url: str, records, csv_path: Path, lookups: int) -> dict:
    """Fill one back end, then time lookups and imports against their baselines."""
    calendar = WorkingCalendar.load()
    limits = catalogue_limits(str(get_settings().knowledge.catalogue_dir))
    service = DossierService(url, Hasher(b"benchmark-key-0123456789abcdef"), calendar, time_limits=limits,
                             clock=lambda: NOW, lockout_failures=10 ** 9)
    out = {"backend": name}

    start = time.perf_counter()
    service.upsert_many(records, source="sample", batch=1000)
    out["fill_s"] = time.perf_counter() - start
    out["fill_rows_s"] = len(records) / out["fill_s"]

    rng = random.Random(1)
    picks = [records[rng.randrange(len(records))] for _ in range(lookups)]
    engine = service.engine
    start = time.perf_counter()
    for r in picks:
        with engine.connect() as conn:
            conn.execute(select(dossiers).where(dossiers.c.code == r.code)).first()
    out["baseline_select_s"] = lookups / (time.perf_counter() - start)
    start = time.perf_counter()
    for i, r in enumerate(picks):
        result = service.lookup(f"bench-{i % 50}", "rest", r.code, r.phone[-4:])
        assert result.outcome == "ok", result
    out["lookups_s"] = lookups / (time.perf_counter() - start)

    # Import throughput: the CSV export of new dossiers (rows created), then the same file again (unchanged).
    start = time.perf_counter()
    rows = read_rows(csv_path)
    mapping = map_headers(next(rows)[1])
    parsed = sum(1 for _, row in rows if record_from_row(mapping, row))
    out["baseline_parse_rows_s"] = parsed / (time.perf_counter() - start)
    start = time.perf_counter()
    report = import_file(service, csv_path, batch=1000)
    out["import_rows_s"] = report.rows / (time.perf_counter() - start)
    assert report.created == report.rows and not report.errors, report.lines()[:3]
    start = time.perf_counter()
    again = import_file(service, csv_path, batch=1000)
    out["reimport_rows_s"] = again.rows / (time.perf_counter() - start)
    assert again.unchanged == again.rows
    out["store"] = service.count()
    service.close()
    return out


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    settings = get_settings()
    limits = catalogue_limits(str(settings.knowledge.catalogue_dir))
    calendar = WorkingCalendar.load()
    start = time.perf_counter()
    everything = sample_records(args.dossiers + args.import_rows, limits, calendar, NOW, seed=11, days_back=720)
    print(f"generated {len(everything)} sample dossiers in {time.perf_counter() - start:.1f} s")
    store, to_import = everything[:args.dossiers], everything[args.dossiers:]

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "export.csv"
        write_csv(csv_path, to_import)
        results.append(bench_backend("sqlite", f"sqlite:///{tmp}/bench.db", store, csv_path, args.lookups))
        if not args.skip_postgres:
            from motcua.localservers import LocalPostgres

            server = LocalPostgres().start()
            try:
                results.append(bench_backend("postgresql", server.url, store, csv_path, args.lookups))
            finally:
                server.stop()

    print(
        f"\n{args.dossiers} dossiers in the store, {args.lookups} verified lookups, {args.import_rows}-row CSV import"
    )
    print(f"{'backend':<11} {'fill rows/s':>11} {'PK select/s':>12} {'lookups/s':>10} {'ratio':>6} "
          f"{'parse rows/s':>13} {'import rows/s':>14} {'ratio':>6} {'re-import/s':>12}")
    for r in results:
        print(f"{r['backend']:<11} {r['fill_rows_s']:>11.0f} {r['baseline_select_s']:>12.0f} {r['lookups_s']:>10.0f} "
              f"{r['lookups_s'] / r['baseline_select_s']:>6.2f} {r['baseline_parse_rows_s']:>13.0f} "
              f"{r['import_rows_s']:>14.0f} {r['import_rows_s'] / r['baseline_parse_rows_s']:>6.2f} "
              f"{r['reimport_rows_s']:>12.0f}")
    print("ratio = the operation's rate / its baseline's rate in the same run (1.0 = no overhead).")


if __name__ == "__main__":
    main()
