"""Published catalogue versions in the application database (SQLite or PostgreSQL).

Each version is one bundle: the catalogue's files and the search index built from them, as a gzip'd tar. Every
node of a cluster reads the latest one (knowledge_base.published), so a catalogue update made on one node's
console reaches the others without a shared disk. Old versions are kept (a few MB each) until ``prune``.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, List, Optional

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.engine import Engine

from core.clock import now_local
from core.db import create_tables, make_engine

metadata = MetaData()
versions = Table(
    "catalogue_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("published_at", DateTime, nullable=False),
    Column("catalogue_hash", String(64), nullable=False),  # knowledge_base.catalogue.catalogue_hash
    Column("procedures", Integer, nullable=False),
    Column("published_by", String(128), nullable=False),  # a staff login or "operator", and the node's name
    Column("size", Integer, nullable=False),
    Column("bundle", LargeBinary, nullable=False),
)
SUMMARY = [c for c in versions.c if c.name != "bundle"]


class CatalogueVersions:
    """The published versions: ``publish`` a bundle, read the ``latest`` one's summary, fetch a ``bundle``."""

    def __init__(self, url: str, clock: Callable[[], dt.datetime] = now_local):
        self.engine: Engine = make_engine(url)
        self.clock = clock
        create_tables(metadata, self.engine)  # two nodes starting on a fresh database: one creates them

    def publish(self, bundle: bytes, catalogue_hash: str, procedures: int, published_by: str) -> int:
        """Store a new version; its id (higher than every earlier one)."""
        with self.engine.begin() as conn:
            return conn.execute(versions.insert().values(
                published_at=self.clock(), catalogue_hash=catalogue_hash, procedures=procedures,
                published_by=published_by[:128], size=len(bundle), bundle=bundle)).inserted_primary_key[0]

    def latest(self) -> Optional[dict]:
        """The newest version's summary (no bundle), or None when none was published."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*SUMMARY).order_by(versions.c.id.desc()).limit(1)).mappings().first()
        return dict(row) if row else None

    def history(self, limit: int = 20) -> List[dict]:
        """The newest versions' summaries, newest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(*SUMMARY).order_by(versions.c.id.desc()).limit(limit))
                    .mappings()]

    def bundle(self, version: int) -> bytes:
        """One version's bundle; KeyError when there is no such version."""
        with self.engine.connect() as conn:
            data = conn.execute(select(versions.c.bundle).where(versions.c.id == version)).scalar()
        if data is None:
            raise KeyError(version)
        return bytes(data)

    def prune(self, keep: int = 10) -> int:
        """Delete all but the newest ``keep`` versions; how many were deleted."""
        with self.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(select(versions.c.id).order_by(versions.c.id.desc()))]
            old = ids[keep:]
            return conn.execute(delete(versions).where(versions.c.id.in_(old))).rowcount if old else 0

    def close(self) -> None:
        self.engine.dispose()
