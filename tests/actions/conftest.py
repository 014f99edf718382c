"""Fixtures for action tests: a knowledge base over the land scope and a temporary review log."""
import pytest

import actions.context as context
from actions.services.review_log import ReviewLog
from knowledge_base.service import KnowledgeBase
from motcua.settings import Settings


@pytest.fixture
def kb(catalogue, retriever, base_model_dir):
    """Knowledge base wired to the session's land-scope retriever (no index rebuild)."""
    kb = KnowledgeBase(Settings(hotline="0123 456 789"))
    kb._catalogue = catalogue
    kb._retriever = retriever
    return kb


@pytest.fixture
def log(tmp_path):
    return ReviewLog(f"sqlite:///{tmp_path / 'review.db'}")


@pytest.fixture(autouse=True)
def wire(monkeypatch, kb, log):
    """Actions get the test knowledge base and review log."""
    monkeypatch.setattr(context, "knowledge_base", lambda: kb)
    monkeypatch.setattr(context, "review_log", lambda: log)
    import actions.feedback
    import actions.procedures

    for module in (actions.procedures, actions.feedback):
        for name, value in (("knowledge_base", lambda: kb), ("review_log", lambda: log)):
            if hasattr(module, name):  # patch the names each module imported
                monkeypatch.setattr(module, name, value)


def make_tracker(text, intent, slots=None, entities=None, sender="c1", channel="rest"):
    """A rasa-sdk tracker whose latest message is ``text`` with ``intent``."""
    from rasa_sdk import Tracker

    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    return Tracker(sender, slots or {}, latest, events, False, None, {"name": "action_listen"}, "action_listen")
