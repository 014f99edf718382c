"""Rasa intent classifier: logistic regression over the message's word, character and meaning features.

With 26 intents and a few hundred phrasings each, a regularised linear model over tf-idf-weighted
n-grams plus the sentence embedding generalises to unseen phrasings better than DIET does alone
(make bench-nlu), and replaces it. When another classifier runs before it, its ranking can be
blended in (``diet_weight``); DIET blended in at 0.3 scored no better in grouped cross-validation,
so the default is 0.

The trained model is stored as plain arrays (numpy .npz: idf weights, coefficients, classes), so
loading it never unpickles code.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, vstack

from components import softmax_fit
from components.fingerprint import files_digest

FILE = "linear_intent_classifier.npz"
SKIP = "motcua_small_talk"  # set on a message the small-talk gate classified: no sentence embedding, no other class


def skipped(message: Message) -> bool:
    """Whether the small-talk gate (``components.small_talk_gate``) classified ``message``: the encoder and this
    classifier leave it alone."""
    return bool(message.get(SKIP))


def sentence_features(message: Message, sparse: bool) -> List[Any]:
    """The feature arrays of the message's text at sentence level, sparse or dense, in the order the featurizers
    added them (what ``Message.get_sparse_features(TEXT)[1]`` and ``get_dense_features`` combine)."""
    return [f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse() is sparse]


_ROW = "_motcua_sentence_row"  # on a message: (the feature arrays it was read from, the row)


def sparse_row(message: Message) -> Optional[csr_matrix]:
    """The message's sparse sentence features side by side as one row (``get_sparse_features(TEXT)[1]``), or None.

    Rasa's own combination also stacks the token-level features and deep-copies them, about a millisecond a
    message on the Rasa server's event loop; this reads the sentence level alone, once for the small-talk gate and
    the classifier (kept on the message while its sparse features stay the same)."""
    parts = sentence_features(message, sparse=True)
    kept = message.__dict__.get(_ROW)
    if kept is not None and len(kept[0]) == len(parts) and all(a is b for a, b in zip(kept[0], parts)):
        return kept[1]
    row = None
    if parts:
        pieces = [p.tocoo() for p in parts]
        offsets = np.cumsum([0] + [p.shape[1] for p in pieces])
        row = csr_matrix((np.concatenate([p.data for p in pieces]),
                          (np.zeros(sum(p.nnz for p in pieces), dtype=np.int64),
                           np.concatenate([p.col + offset for p, offset in zip(pieces, offsets)]))),
                         shape=(1, int(offsets[-1])))
    message.__dict__[_ROW] = (parts, row)
    return row


def dense_row(message: Message) -> Optional[np.ndarray]:
    """The message's dense sentence features side by side as one vector (``get_dense_features(TEXT)[1]``), or
    None."""
    parts = sentence_features(message, sparse=False)
    return np.concatenate([np.asarray(d, dtype=np.float32).ravel() for d in parts]) if parts else None


def tfidf_rows(counts: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear tf-idf of each row of n-gram ``counts``, L2-normalised (what ``probabilities`` computes for one
    message over its own columns)."""
    tf = counts.copy().astype(np.float64)
    tf.data = 1.0 + np.log(np.maximum(tf.data, 1e-12))
    tf = tf.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(tf.multiply(1.0 / norms[:, None]))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Multinomial logistic regression on sparse (tf-idf) and dense sentence features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """C: inverse regularisation; dense_weight: scale of the embedding against the n-grams;
        diet_weight: share of an earlier classifier's ranking in the final confidences."""
        return {"C": 30.0, "dense_weight": 2.0, "diet_weight": 0.0, "max_iter": 3000, "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Dict[str, np.ndarray]] = None) -> None:
        """``model``: idf, coef, intercept and classes, once trained."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        """A classifier not trained yet."""
        return cls(config, model_storage, resource)

    uses_dense = True  # the sentence embedding beside the n-grams, when the messages have one

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The fitting code (this module, ``softmax_fit`` and a subclass's own), for Rasa's training cache: a model
        fitted by older code is not reused when only the code changed."""
        return files_digest({Path(__file__), Path(softmax_fit.__file__), Path(inspect.getfile(cls))})

    def _features(self, messages: List[Message]) -> Tuple[csr_matrix, Optional[np.ndarray]]:
        """Sparse and dense sentence features of the messages' text (stacked rows).

        Read at sentence level alone (``sparse_row``, ``sentence_features``): Rasa's own combination also stacks
        the token-level features and deep-copies them: 16 s of a `rasa train` of 2 min 49 s under py-spy (8/12/2026)."""
        sparse, dense = [], []
        for message in messages:
            sparse.append(sparse_row(message))
            vector = dense_row(message) if self.uses_dense else None
            dense.append(vector.reshape(1, -1) if vector is not None else None)
        width = next((s.shape[1] for s in sparse if s is not None), 0)
        rows = vstack([s if s is not None else csr_matrix((1, width)) for s in sparse]).tocsr()
        if all(d is None for d in dense):
            return rows, None
        size = next(d.shape[1] for d in dense if d is not None)
        return rows, np.vstack([d if d is not None else np.zeros((1, size), np.float32) for d in dense])

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the intent examples and store the arrays."""
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and m.get(INTENT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            return self._resource  # nothing to tell apart: the component stays untrained
        sparse, dense = self._features(examples)
        df = np.bincount(sparse.indices, minlength=sparse.shape[1])
        idf = np.log((1 + sparse.shape[0]) / (1 + df)) + 1.0
        coef, intercept, classes = softmax_fit.fit_softmax(
            tfidf_rows(sparse, idf), None if dense is None else dense * float(self.config["dense_weight"]),
            [m.get(INTENT) for m in examples], float(self.config["C"]), int(self.config["max_iter"]))
        self.model = {"idf": idf, "coef": coef, "intercept": intercept, "classes": classes,
                      "dense": np.asarray(dense is not None)}
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / FILE, **self.model)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        """The trained classifier (untrained when training had no intents to tell apart)."""
        try:
            with model_storage.read_from(resource) as folder:
                with np.load(folder / FILE, allow_pickle=False) as arrays:
                    model = {key: arrays[key] for key in arrays.files}
        except (ValueError, FileNotFoundError):
            model = None
        return cls(config, model_storage, resource, model)

    def probabilities(self, messages: List[Message]) -> np.ndarray:
        """Each message's probability of each of the model's classes (rows in the order of ``messages``).

        The same sums as ``tfidf_rows`` and the product with the coefficients, one message at a time over the columns
        it has (a message has tens of n-grams of 10^5): no design matrix is built (the message's own row is, once,
        by ``sparse_row``), which took the Rasa server about 2 ms a message for the gate and the classifier each."""
        if self.model is None:
            raise RuntimeError(f"{type(self).__name__} is not trained")
        idf, coef, intercept = self.model["idf"], self.model["coef"], self.model["intercept"]
        width = idf.shape[0]
        dense_weight = float(self.config["dense_weight"])
        with_dense = bool(self.model["dense"]) and self.uses_dense
        scores = np.tile(np.asarray(intercept, dtype=np.float64), (len(messages), 1))
        for i, message in enumerate(messages):
            row = sparse_row(message)
            if row is not None and row.shape[1] == width and row.nnz:  # else (an empty text) no n-gram known
                tf = (1.0 + np.log(np.maximum(row.data.astype(np.float64), 1e-12))) * idf[row.indices]
                norm = np.sqrt(np.dot(tf, tf))
                scores[i] += coef[:, row.indices] @ (tf / (norm if norm else 1.0))
            vector = dense_row(message) if with_dense else None
            if vector is not None:
                scores[i] += coef[:, width:] @ (vector * dense_weight).astype(np.float64)
        if scores.shape[1] == 1:  # two intents, fitted by scikit-learn before 8/12/2026: one score, the second's
            scores = np.hstack([np.zeros_like(scores), scores])
        return softmax(scores)

    def process(self, messages: List[Message]) -> List[Message]:
        """Set intent and ranking: this model's probabilities, blended with an earlier ranking. Small talk the
        gate before it classified (``small_talk_gate``) keeps the gate's."""
        messages_in = messages
        messages = [m for m in messages if not skipped(m)]
        if self.model is None or not messages:
            return messages_in
        probs = self.probabilities(messages)
        classes = [str(c) for c in self.model["classes"]]
        share = float(self.config["diet_weight"])
        for message, row in zip(messages, probs):
            earlier = {r["name"]: r["confidence"] for r in message.get("intent_ranking") or []}
            if earlier and share > 0:
                row = (1 - share) * row + share * np.array([earlier.get(c, 0.0) for c in classes])
            order = np.argsort(-row)
            ranking = [{"name": classes[i], "confidence": float(row[i])} for i in order]
            if self.config["ranking_length"]:
                ranking = ranking[: int(self.config["ranking_length"])]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages_in
