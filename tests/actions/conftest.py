"""Fixtures for action tests: a knowledge base over the land scope and a temporary review log."""
import pytest

from actions.context import ActionContext, installed
from core.settings import Settings
from core.stores.review_log import ReviewLog
from knowledge_base.service import KnowledgeBase


@pytest.fixture
def kb(catalogue, retriever, base_model_dir):
    """Knowledge base wired to the session's land-scope retriever (never the index a `make run` built)."""
    return KnowledgeBase.over(catalogue, retriever, Settings.of(hotline="0123 456 789"))


@pytest.fixture
def log(new_db):
    return ReviewLog(new_db("review"))


@pytest.fixture
def dossier_store(new_db, catalogue):
    """A dossier service over a temporary SQLite file, with the catalogue's time limits and a fixed clock."""
    import datetime as dt

    from core.privacy import Hasher
    from dossiers.calendar import WorkingCalendar
    from dossiers.procedures import CatalogueLimits
    from dossiers.service import DossierService

    service = DossierService(new_db("core"), Hasher(b"action-tests-key-0123456789"),
                             WorkingCalendar.load(), time_limits=CatalogueLimits(catalogue),
                             clock=lambda: dt.datetime(2026, 11, 20, 10))
    yield service
    service.close()


@pytest.fixture(autouse=True)
def ctx(kb, log, dossier_store):
    """Actions get the test knowledge base, review log, dossier service and stores; tests set ``ctx.clock``."""
    from core.stores.handoff import HandoffStore
    from dossiers.calendar import WorkingCalendar
    from knowledge_base.staff_answers import StaffAnswers

    context = ActionContext(knowledge_base=kb, review_log=log, dossier_service=dossier_store,
                            staff_answers=StaffAnswers(log.url, ttl_s=0), handoffs=HandoffStore(log.url),
                            working_calendar=WorkingCalendar.load(kb.settings.office.calendar_file))
    with installed(context):
        yield context


def make_tracker(text, intent, slots=None, entities=None, sender="c1", channel="rest", active_loop=None,
                 metadata=None, after=None, asked=None, history=()):
    """A rasa-sdk tracker whose latest message is ``text`` with ``intent`` (and the channel's ``metadata``),
    sent ``after`` a bot message (a dispatcher message: {"text", "buttons"}) that answered ``asked``, if given,
    and after the earlier events of ``history``."""
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "metadata": metadata or {}}
    before = list(history) + ([{"event": "user", "text": asked}] if asked else [])
    before += [{"event": "bot", "text": after.get("text"), "data": {"buttons": after.get("buttons")}}] if after else []
    events = before + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(sender, slots or {}, latest, events, False, None, loop, "action_listen")
