"""Schema migrations of the dossier service (Alembic, driven from code: no alembic.ini)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from core.db import schema_lock

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` (for `motcua db` and for new revisions)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database of ``engine`` to ``revision``."""
    import random
    import time

    from sqlalchemy.exc import OperationalError

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    for attempt in range(20):  # several processes start on one fresh SQLite file: one migrates, the others wait
        try:
            with engine.begin() as connection:
                schema_lock(connection)  # PostgreSQL: one node migrates, the others then find it done
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.1 + random.random() * 0.4)


def current(engine: Engine) -> str:
    """The revision the database is at ('' when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={"version_table": "dossier_alembic_version"})
        return ctx.get_current_revision() or ""
