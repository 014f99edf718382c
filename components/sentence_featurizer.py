"""Rasa dense featurizer: one sentence embedding per message, which the search may then reuse.

The count-vector features only know the words of the training examples; a phrasing that shares
few words with them ("hồ sơ em tới đâu rồi" against "tra cứu tình trạng hồ sơ") leaves the
classifier guessing. A multilingual sentence embedding carries what the words mean.

The message is prepared as the search prepares a query (shorthand expanded, accents restored on
unaccented text by the restorer of the deployment's procedures) and embedded on the knowledge base's
loader (knowledge_base.retrieval.dense.Embedder, ONNX Runtime by default). The model is config.yml's
``model``: ``base`` (the settings' base model, MOTCUA_EMBEDDING_BASE_MODEL), ``search`` (the search's
fine-tuned model, MOTCUA_EMBEDDING_MODEL) or a model folder or name; ``layer`` takes the sentence vector
of that hidden layer (mean-pooled) instead of the model's output.

With the search's own model, the output vector goes with the parse result (knowledge_base.retrieval.handover;
the tracker store drops it before writing) and the action server's search does not encode the message a
second time: one encoder pass per new message. The output of the fine-tuned model keeps less of what tells
chat turns apart, so config.yml takes layer 6 for the classifier: fine-tuning leaves the lower six layers
as the base model's, and the same pass gives both vectors (figures in config.yml).

A fingerprint of the embedding model is stored with the trained model: a server configured with another
model stops at load with a clear message instead of feeding the classifier vectors it was not trained on.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Text, Tuple

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
from components.linear_intent_classifier import skipped
from knowledge_base.retrieval import handover
from knowledge_base.text import DATA_DIR

# Embedded at training and at load: the same model gives (nearly) the same vector.
FINGERPRINT_TEXT = "làm lại sổ đỏ bị mất cần giấy tờ gì"
SAME_MODEL_COSINE = 0.98


def configured_model(config: Dict[Text, Any], settings: Any) -> str:
    """The model config.yml's ``model`` names: ``base`` (or nothing), ``search``, or a folder or name."""
    model = config.get("model") or "base"
    if model == "base":
        return settings.knowledge.embedding_base_model
    if model == "search":
        return settings.knowledge.embedding_model
    return str(model)


class EmbeddingModelMismatch(RuntimeError):
    """The configured embedding model is not the one the assistant's NLU was trained with."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the message's sentence embedding as a dense sentence feature of its text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults: the settings' base model, its output; accents restored on unaccented text."""
        return {**DenseFeaturizer.get_default_config(), "model": "base", "layer": None, "restore_diacritics": True}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """``layer``: nothing (the model's output) or a hidden layer's number."""
        layer = config.get("layer")
        if layer is not None and (isinstance(layer, bool) or not isinstance(layer, int) or layer < 1):
            raise ValueError(f"{cls.__name__}: layer must be a hidden layer's number (1, 2, ...) or empty, "
                             f"not {layer!r}")

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        """Resolve the model setting; the model itself loads on first use."""
        super().__init__(name, config)
        from core.settings import get_settings
        from knowledge_base.retrieval.dense import Embedder

        settings = get_settings()  # the environment's: the server's threads, the operator's model
        self.model_name = configured_model(config, settings)
        self.embedder = Embedder.configured(settings, self.model_name)
        # the search's own model: its vectors are handed over, the search need not encode the message again
        self.hands_over = self.model_name == settings.knowledge.embedding_model
        self.restore = bool(config.get("restore_diacritics", True))
        self.layer: Optional[int] = config.get("layer")
        self.settings = settings
        self._handover_key: Optional[bytes] = None
        self._model_storage = model_storage
        self._resource = resource
        self._prepare = None

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The catalogue and tables the restorer learns from, its code, and the embedding model, for
        Rasa's training cache: a new catalogue or model must re-embed the examples."""
        from core.settings import get_settings
        from knowledge_base.retrieval.dense import model_fingerprint

        settings = get_settings()
        model = configured_model(config, settings)
        return files_digest([settings.knowledge.catalogue_dir, DATA_DIR, ROOT / "knowledge_base/diacritics.py",
                             ROOT / "knowledge_base/retrieval/texts.py", ROOT / "knowledge_base/text.py",
                             ROOT / "core/text.py", ROOT / "knowledge_base/case_wording.py"],
                            model, model_fingerprint(model), str(bool(config.get("restore_diacritics", True))),
                            f"layer={config.get('layer')}",
                            ",".join(settings.knowledge.scope_fields), ",".join(settings.knowledge.scope_levels))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEmbeddingFeaturizer:
        """A component not trained yet."""
        return cls(config, execution_context.node_name, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Keep the model's fingerprint."""
        fingerprint = self._vectors([FINGERPRINT_TEXT])[1][0]
        with self._model_storage.write_to(self._resource) as folder:
            (folder / "sentence_featurizer.json").write_text(json.dumps(
                {"model": self.embedder.identity, "fingerprint": fingerprint.tolist()}, ensure_ascii=False),
                encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> SentenceEmbeddingFeaturizer:
        """The trained component; stops with a clear message if the embedding model changed since."""
        with model_storage.read_from(resource) as folder:
            stored = json.loads((folder / "sentence_featurizer.json").read_text(encoding="utf-8"))
        component = cls(config, execution_context.node_name, model_storage, resource)
        now = component._vectors([FINGERPRINT_TEXT])[1][0]
        if (
            now.shape[0] != len(stored["fingerprint"])
            or float(now @ np.asarray(stored["fingerprint"])) < SAME_MODEL_COSINE
        ):
            raise EmbeddingModelMismatch(
                f"the assistant's NLU was trained with the embedding model {stored['model']}, but "
                f"{component.embedder.identity} is configured: retrain it (make train) or set "
                "MOTCUA_EMBEDDING_BASE_MODEL / MOTCUA_EMBEDDING_MODEL back")
        component._prepared(FINGERPRINT_TEXT)  # build the restorer now, not on a citizen's first message
        return component

    def _prepared(self, text: str) -> str:
        """The text as the search embeds it (``HybridRetriever.dense_query`` over the deployment's scope)."""
        if self._prepare is None:
            from knowledge_base.catalogue import Catalogue
            from knowledge_base.diacritics import DiacriticRestorer, corpus_texts
            from knowledge_base.retrieval.texts import dense_text
            from knowledge_base.text import TextNormalizer

            normalizer = TextNormalizer.default()
            if self.restore:
                procedures = Catalogue.load(self.settings.knowledge.catalogue_dir).in_scope(
                    self.settings.knowledge.scope_fields, self.settings.knowledge.scope_levels)
                restorer = DiacriticRestorer(corpus_texts(procedures))
                self._prepare = lambda t: dense_text(normalizer, restorer, t)
            else:
                self._prepare = normalizer.normalize
        return self._prepare(text)

    @property
    def handover_key(self) -> bytes:
        """The key handed vectors are signed with (from the secret the action server shares)."""
        if self._handover_key is None:
            self._handover_key = handover.key_of(self.settings)
        return self._handover_key

    def _vectors(self, texts: List[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(the model's query embeddings, the classifier's features) of prepared texts: the same vectors, or
        with ``layer`` that hidden layer's sentence vectors, taken from the same encoder pass."""
        if self.layer is None:
            vectors = self.embedder.embed_queries(texts)
            return vectors, vectors
        return self.embedder.embed_queries_with_layer(texts, self.layer)

    def _featurize(self, messages: List[Message], hand_over: bool) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        texts = [self._prepared(m.get(TEXT)) for m in todo]
        vectors, features = self._vectors(texts)
        for message, text, vector, feature in zip(todo, texts, vectors, features):
            self.add_features_to_message(sequence=None, sentence=feature[np.newaxis, :], attribute=TEXT,
                                         message=message)
            if hand_over and self.hands_over:
                message.set(handover.KEY, handover.pack(self.embedder.signature, text, vector, self.handover_key),
                            add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurize messages at inference, and hand each vector over to the search; small talk the gate
        before it classified (``small_talk_gate``) is not encoded."""
        self._featurize([m for m in messages if not skipped(m)], hand_over=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples."""
        self._featurize(training_data.training_examples, hand_over=False)
        return training_data

    @staticmethod
    def required_packages() -> List[Text]:
        """sentence-transformers loads the model."""
        return ["sentence_transformers"]
