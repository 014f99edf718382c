"""`motcua run` starts several processes on one fresh database (a SQLite file, or PostgreSQL with
``make test-postgres``): each creates or migrates its tables."""
import subprocess
import sys

from tests.conftest import ROOT

OPEN_ALL = """
import sys
from core.stores.review_log import ReviewLog
from channels.state import ChannelState
from core.stores.handoff import HandoffStore
from console.store import ConsoleStore
from dossiers.calendar import WorkingCalendar
from core.privacy import Hasher
from dossiers.service import DossierService
url = sys.argv[1]
ChannelState(url); ConsoleStore(url); HandoffStore(url); ReviewLog(url).engine
DossierService(url, Hasher(b"k" * 32), WorkingCalendar.load()).engine
print("ok")
"""


def test_processes_starting_together_all_get_their_tables(new_db):
    for round_ in range(3):
        url = new_db(f"fresh{round_}")
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_ALL, url], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
        results = [p.communicate(timeout=120) for p in procs]
        assert all(out.strip() == "ok" for out, _ in results), [err[-800:] for out, err in results if "ok" not in out]
