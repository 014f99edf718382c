"""Fixtures for action tests: a knowledge base over the land scope and a temporary review log."""
import pytest

import actions.context as context
from core.settings import Settings
from core.stores.review_log import ReviewLog
from knowledge_base.service import KnowledgeBase


@pytest.fixture
def kb(catalogue, retriever, base_model_dir):
    """Knowledge base wired to the session's land-scope retriever (never the index a `make run` built)."""
    return KnowledgeBase.over(catalogue, retriever, Settings.of(hotline="0123 456 789"))


@pytest.fixture
def log(tmp_path):
    return ReviewLog(f"sqlite:///{tmp_path / 'review.db'}")


@pytest.fixture
def dossier_store(tmp_path, catalogue):
    """A dossier service over a temporary SQLite file, with the catalogue's time limits and a fixed clock."""
    import datetime as dt

    from core.privacy import Hasher
    from dossiers.calendar import WorkingCalendar
    from dossiers.procedures import CatalogueLimits
    from dossiers.service import DossierService

    service = DossierService(f"sqlite:///{tmp_path / 'core.db'}", Hasher(b"action-tests-key-0123456789"),
                             WorkingCalendar.load(), time_limits=CatalogueLimits(catalogue),
                             clock=lambda: dt.datetime(2026, 11, 20, 10))
    yield service
    service.close()


@pytest.fixture(autouse=True)
def wire(monkeypatch, kb, log, dossier_store):
    """Actions get the test knowledge base, review log and dossier service."""
    monkeypatch.setattr(context, "knowledge_base", lambda: kb)
    monkeypatch.setattr(context, "review_log", lambda: log)
    monkeypatch.setattr(context, "dossier_service", lambda: dossier_store)
    from core.stores.faq import StaffAnswers
    from core.stores.handoff import HandoffStore

    staff = StaffAnswers(log.url, ttl_s=0)
    handoffs = HandoffStore(log.url)
    monkeypatch.setattr(context, "staff_answers", lambda: staff)
    monkeypatch.setattr(context, "handoffs", lambda: handoffs)
    import actions.contact
    import actions.dossiers
    import actions.feedback
    import actions.procedures

    for module in (actions.procedures, actions.feedback, actions.dossiers, actions.contact):
        for name, value in (("knowledge_base", lambda: kb), ("review_log", lambda: log),
                            ("dossier_service", lambda: dossier_store), ("staff_answers", lambda: staff),
                            ("handoffs", lambda: handoffs)):
            if hasattr(module, name):  # patch the names each module imported
                monkeypatch.setattr(module, name, value)


def make_tracker(text, intent, slots=None, entities=None, sender="c1", channel="rest", active_loop=None,
                 metadata=None):
    """A rasa-sdk tracker whose latest message is ``text`` with ``intent`` (and the channel's ``metadata``)."""
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(sender, slots or {}, latest, events, False, None, loop, "action_listen")
