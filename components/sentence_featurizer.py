"""Rasa dense featurizer: one sentence embedding per message from the knowledge base's embedder.

The count-vector features only know the words of the training examples; a phrasing that shares
few words with them ("hồ sơ em tới đâu rồi" against "tra cứu tình trạng hồ sơ") leaves the
classifier guessing. A multilingual sentence embedding carries what the words mean. The model is
the knowledge base's own loader (knowledge_base.retrieval.dense.Embedder, with its cache of
repeated questions); it is a setting (MOTCUA_EMBEDDING_BASE_MODEL), and its weights ship inside
a package (`make base-model`).

Unaccented messages get their accents restored first, as the search does, because the model
reads "so do" and "sổ đỏ" differently. The restorer learns from the catalogue and, at training,
from the accented training examples too (their everyday chat wording is not in the catalogue);
those texts are stored with the trained model. So is a fingerprint of the embedding model: a
server configured with another model stops at load with a clear message instead of feeding the
classifier vectors it was not trained on.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.fingerprint import ROOT, files_digest
from core.text import fold
from knowledge_base.text import DATA_DIR

# Embedded at training and at load: the same model gives (nearly) the same vector.
FINGERPRINT_TEXT = "làm lại sổ đỏ bị mất cần giấy tờ gì"
SAME_MODEL_COSINE = 0.98


class EmbeddingModelMismatch(RuntimeError):
    """The configured embedding model is not the one the assistant's NLU was trained with."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the message's sentence embedding as a dense sentence feature of its text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults: the settings' base embedding model; accents restored on unaccented text."""
        return {**DenseFeaturizer.get_default_config(), "model": None, "restore_diacritics": True}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to check beyond the types the defaults give."""

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource,
                 phrases: Optional[List[str]] = None) -> None:
        """Resolve the model setting; the model itself loads on first use."""
        super().__init__(name, config)
        from core.settings import get_settings
        from knowledge_base.retrieval.dense import Embedder

        settings = get_settings()  # the environment's: the server's threads, the operator's model
        self.embedder = Embedder.configured(settings, config.get("model") or settings.knowledge.embedding_base_model)
        self.restore = bool(config.get("restore_diacritics", True))
        self.catalogue_dir = settings.knowledge.catalogue_dir
        self.phrases = list(phrases or [])
        self._model_storage = model_storage
        self._resource = resource
        self._prepare = None

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The catalogue and tables the restorer learns from, its code, and the embedding model, for
        Rasa's training cache: a new catalogue or model must re-embed the examples."""
        from core.settings import get_settings
        from knowledge_base.retrieval.store import model_fingerprint

        settings = get_settings()
        model = str(config.get("model") or settings.knowledge.embedding_base_model)
        return files_digest([settings.knowledge.catalogue_dir, DATA_DIR, ROOT / "knowledge_base/diacritics.py",
                             ROOT / "knowledge_base/retrieval/hybrid.py", ROOT / "knowledge_base/text.py",
                             ROOT / "core/text.py"],
                            model, model_fingerprint(model), str(bool(config.get("restore_diacritics", True))))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEmbeddingFeaturizer:
        """A component not trained yet."""
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Keep the accented training examples for the restorer, and the model's fingerprint."""
        self.phrases = sorted({m.get(TEXT) for m in training_data.training_examples
                               if m.get(TEXT) and fold(m.get(TEXT)) != m.get(TEXT).lower()})
        fingerprint = self.embedder.embed_queries([FINGERPRINT_TEXT])[0]
        with self._model_storage.write_to(self._resource) as folder:
            (folder / "sentence_featurizer.json").write_text(json.dumps(
                {"model": self.embedder.identity, "fingerprint": fingerprint.tolist(), "phrases": self.phrases},
                ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentenceEmbeddingFeaturizer:
        """The trained component; stops with a clear message if the embedding model changed since."""
        with model_storage.read_from(resource) as folder:
            stored = json.loads((folder / "sentence_featurizer.json").read_text(encoding="utf-8"))
        component = cls(config, execution_context.node_name, model_storage, resource, stored["phrases"])
        now = component.embedder.embed_queries([FINGERPRINT_TEXT])[0]
        if (
            now.shape[0] != len(stored["fingerprint"])
            or float(now @ np.asarray(stored["fingerprint"])) < SAME_MODEL_COSINE
        ):
            raise EmbeddingModelMismatch(
                f"the assistant's NLU was trained with the embedding model {stored['model']}, but "
                f"{component.embedder.identity} is configured: retrain it (make train) or set "
                "MOTCUA_EMBEDDING_BASE_MODEL back")
        component._prepared(FINGERPRINT_TEXT)  # build the restorer now, not on a citizen's first message
        return component

    def _prepared(self, text: str) -> str:
        """The text as the search embeds it: shorthand expanded, accents restored when none typed."""
        if self._prepare is None:
            from knowledge_base.catalogue import Catalogue
            from knowledge_base.diacritics import DiacriticRestorer, corpus_texts
            from knowledge_base.retrieval.hybrid import dense_text
            from knowledge_base.text import TextNormalizer

            normalizer = TextNormalizer.default()
            if self.restore:
                corpus = corpus_texts(Catalogue.load(self.catalogue_dir).procedures.values()) + self.phrases
                restorer = DiacriticRestorer(corpus)
                self._prepare = lambda t: dense_text(normalizer, restorer, t)
            else:
                self._prepare = normalizer.normalize
        return self._prepare(text)

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        vectors = self.embedder.embed_queries([self._prepared(m.get(TEXT)) for m in todo])
        for message, vector in zip(todo, vectors):
            self.add_features_to_message(sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT,
                                         message=message)

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurize messages at inference."""
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples."""
        self._featurize(training_data.training_examples)
        return training_data

    @staticmethod
    def required_packages() -> List[Text]:
        """sentence-transformers loads the model."""
        return ["sentence_transformers"]
