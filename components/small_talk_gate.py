"""Rasa intent classifier that spares small talk the encoder: a greeting, thanks, yes or no needs no search.

It runs before the sentence featurizer, on the word and character n-grams alone (the same logistic regression as
``LinearIntentClassifier``, trained without the sentence embedding). When its best intent is one of the ``intents``
whose replies never search the catalogue, and it is sure of it (``sure_at``), or fairly sure (``empty_at``,
``margin``) and the message holds nothing but greetings, politeness and a place, no digit
(``knowledge_base.grouping.content_of``: "chào ad, mình ở xã Đông Hải"), it sets the message's intent and ranking
and marks it (``SKIP``): the sentence featurizer then does not encode it, and the intent classifier keeps this
ranking. Anything else (a question, or small talk it is not sure of) goes on to the full classifier, encoder
included.

Training examples are never marked: the featurizer embeds them all, and the full classifier learns from them all.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.linear_intent_classifier import SKIP, LinearIntentClassifier
from knowledge_base.grouping import content_of


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SmallTalkGate(LinearIntentClassifier):
    """Classifies sure small talk from n-grams alone and marks it, so that no encoder pass is spent on it."""

    uses_dense = False  # n-grams only, wherever it is placed

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """``intents``: small talk whose replies never search; ``sure_at``: the probability the n-gram model
        must give one of them; ``empty_at`` and ``margin``: the probability, and the lead over the next intent,
        enough when the message holds no content words (above the fallback's threshold and ambiguity)."""
        return {**LinearIntentClassifier.get_default_config(),
                "intents": ["greet", "goodbye", "thank", "affirm", "deny"], "sure_at": 0.9, "empty_at": 0.55,
                "margin": 0.1}

    def _only_pleasantries(self, text: str, row: np.ndarray, best: int) -> bool:
        """Fairly sure (``empty_at``, ahead of the next intent by ``margin``: never a tie the fallback would call
        ambiguous) and nothing in the message but greetings, politeness and a place ("chào ad, mình ở xã Đông
        Hải"). A digit keeps it from the gate: a number is the whole answer of a choice ("dạ 2") or a dossier code
        ("vâng 0361")."""
        second = float(np.partition(row, -2)[-2]) if row.shape[0] > 1 else 0.0
        top = float(row[best])
        if top < float(self.config["empty_at"]) or top - second < float(self.config["margin"]):
            return False
        return not any(ch.isdigit() for ch in text) and not content_of(text)

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark and classify the messages that are surely small talk; leave the others untouched."""
        if self.model is None or not messages:
            return messages
        wanted = set(self.config["intents"])
        sure_at = float(self.config["sure_at"])
        todo = [m for m in messages if (m.get(TEXT) or "").strip() and not (m.get(TEXT) or "").startswith("/")]
        if not todo:
            return messages
        probs = self.probabilities(todo)
        classes = [str(c) for c in self.model["classes"]]
        for message, row in zip(todo, probs):
            best = int(np.argmax(row))
            if classes[best] not in wanted:
                continue
            if float(row[best]) < sure_at and not self._only_pleasantries(message.get(TEXT), row, best):
                continue
            order = np.argsort(-row)[: int(self.config["ranking_length"]) or None]
            ranking = [{"name": classes[i], "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
            message.set(SKIP, True)
        return messages
