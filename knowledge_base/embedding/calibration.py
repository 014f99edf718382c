"""Fit the retriever's confidence: P(top hit is right) from ranking features, on generated questions."""
from __future__ import annotations

import logging
from typing import List

import numpy as np

from knowledge_base.embedding.training_data import generate
from knowledge_base.retrieval.hybrid import Calibration, HybridRetriever

log = logging.getLogger(__name__)


def fit_calibration(retriever: HybridRetriever, per_procedure: int = 3, seed: int = 29) -> Calibration:
    """Logistic regression of 'top-1 correct' on the top hit's features (generated questions only)."""
    from sklearn.linear_model import LogisticRegression

    pairs = generate(retriever.procedures, per_procedure=per_procedure, seed=seed)
    X: List[List[float]] = []
    y: List[int] = []
    for question, code in pairs:
        lex = retriever.lexical_scores(question)
        den = retriever.dense_scores(question)
        result = retriever.rank(lex, den, top_k=3)
        if not result.hits:
            continue
        # every shown hit: lower hits teach what a wrong-but-close candidate looks like
        for i, hit in enumerate(result.hits):
            X.append(retriever.features(result.hits, i, lex, den))
            y.append(int(hit.code == code))
    if len(set(y)) < 2:
        log.warning("calibration skipped: generated questions were all right or all wrong")
        return Calibration()
    model = LogisticRegression(C=1.0, max_iter=1000).fit(np.asarray(X), np.asarray(y))
    return Calibration(weights=[float(w) for w in model.coef_[0]], bias=float(model.intercept_[0]))
