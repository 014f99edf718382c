"""Fit the retriever's confidence: P(top hit is right) from ranking features.

The fit needs questions worded as citizens word them. Questions generated from the aliases and names
are what the encoder was fine-tuned on: their right hits look far surer than a citizen's own wording
ever makes them, so a fit on them alone is under-confident on real questions. The calibration set
(``calibration_questions.yml``, written from the official records apart from the aliases and the
development sets, which a test keeps apart) supplies the positives; questions outside the catalogue
(``calibration_outside.yml``) the negatives. Generated questions fill in only for a scope with few
citizen questions.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import FrozenSet, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from knowledge_base.embedding.training_data import generate
from knowledge_base.retrieval.hybrid import RERANK_POOL, Calibration, HybridRetriever
from knowledge_base.text import CALIBRATION_OUTSIDE, CALIBRATION_QUESTIONS

log = logging.getLogger(__name__)
Labelled = Tuple[str, Optional[FrozenSet[str]]]  # a question and its acceptable codes (None: no procedure)
# Chosen by `make bench-calibration` (cross-validated on the calibration set, never on a development set):
# citizen questions alone, the outside ones weighing five times. On 2/12/2026, before the written training
# questions, answering from 0.7 answered 48 % of held-out citizen questions, 97.0 % of them right, and 0.9 % of
# 225 outside ones; with the encoder fine-tuned on them, 60 %, 95.8 % right, 0.9 % outside. On 3/12/2026 two
# features from those questions embedded as examples (hybrid.HybridRetriever.features) made it 69 %, 97.3 %
# right, 0.9 % outside. The coverage feature's weight then fell to about zero (the examples tell a
# half-explained match better): "nuôi chim yến" still finds no procedure surely.
OUTSIDE_WEIGHT = 5.0
MIN_CITIZEN = 20  # fewer citizen questions in scope than this: generated ones fill in
# Each fit chooses where it answers: the lowest confidence on this grid from which, on the questions it was
# fitted on, at least PRECISION of the answered citizen questions are right and at most OUTSIDE_ANSWERED of the
# outside ones are answered. That is in-sample, so optimistic; a logistic fit of eight weights on 700
# questions is little so (cross-validated, `make bench-calibration` finds 97.3 % right at 0.7, where the
# deployment's fit lands). A fit over one field with the base encoder (the tests') tops out near 0.8 on plain
# questions and answers from 0.5.
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
PRECISION = 0.97
OUTSIDE_ANSWERED = 0.005


def outside_questions(path: Path = CALIBRATION_OUTSIDE) -> List[str]:
    """Questions no procedure answers (the fit's negatives)."""
    return [str(q) for q in yaml.safe_load(path.read_text(encoding="utf-8")) or []]


def citizen_questions(path: Path = CALIBRATION_QUESTIONS) -> List[Tuple[str, FrozenSet[str]]]:
    """Citizen-worded questions with every procedure that answers each (none when the file is absent)."""
    if not path.exists():
        return []
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [(str(item["q"]), frozenset(str(c) for c in item["codes"])) for item in items]


def training_pairs(retriever: HybridRetriever, per_procedure: int = 0, seed: int = 29) -> List[Labelled]:
    """The fit's questions for this retriever's procedures: citizen questions whose procedure is in its
    scope (one out of scope is neither right nor wrong here), ``per_procedure`` generated ones (three
    when the scope has too few citizen questions), and the outside ones."""
    in_scope = {p.code for p in retriever.procedures}
    pairs: List[Labelled] = [(q, codes) for q, codes in citizen_questions() if codes & in_scope]
    if len(pairs) < MIN_CITIZEN:
        per_procedure = max(per_procedure, 3)
    pairs += [(q, frozenset([code])) for q, code in generate(retriever.procedures, per_procedure=per_procedure,
                                                             seed=seed)] if per_procedure else []
    pairs += [(q, None) for q in outside_questions()]
    return pairs


Rows = Tuple[np.ndarray, np.ndarray, np.ndarray]  # features, right (1/0), from an outside question (bool)


def feature_rows(retriever: HybridRetriever, pairs: Sequence[Labelled]) -> Rows:
    """Every shown hit's features, whether it is right (lower hits teach what a wrong-but-close candidate
    looks like) and whether its question is an outside one. The hits are ranked with the retriever's own
    confidence: at index build that is the default one, which is what a fit must start from."""
    X: List[List[float]] = []
    y: List[int] = []
    outside: List[bool] = []
    for question, codes in pairs:
        lex, den, ex, content = retriever.scores(question)
        # features over the whole reranked pool, as the search computes them; rows for the three shown
        result = retriever.rank(lex, den, top_k=RERANK_POOL, content=content, ex=ex)
        for i, hit in enumerate(result.hits[:3]):
            X.append(retriever.features(result.hits, i, lex, den, content, ex))
            y.append(int(codes is not None and hit.code in codes))
            outside.append(codes is None)
    width = len(Calibration().weights)
    return np.asarray(X, dtype=np.float64).reshape(len(X), width), np.asarray(y, dtype=int), np.asarray(outside, bool)


def fit_rows(rows: Rows, outside_weight: float = OUTSIDE_WEIGHT) -> Calibration:
    """Logistic regression of 'this hit is right' on the hits' features; outside questions' rows weigh
    ``outside_weight`` times more: a confident answer to them is the worst outcome."""
    from sklearn.linear_model import LogisticRegression

    X, y, outside = rows
    if len(set(y.tolist())) < 2:
        log.warning("calibration skipped: the questions' hits were all right or all wrong")
        return Calibration()
    model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y, sample_weight=np.where(outside, outside_weight, 1.0))
    return Calibration(weights=[float(w) for w in model.coef_[0]], bias=float(model.intercept_[0]))


def answer_threshold(retriever: HybridRetriever, pairs: Sequence[Labelled]) -> float:
    """The lowest of ``THRESHOLDS`` at which the retriever (with its fitted confidence) is right on at least
    ``PRECISION`` of the citizen questions of ``pairs`` it would answer and answers at most ``OUTSIDE_ANSWERED``
    of the outside ones; the highest when none is."""
    citizen: List[Tuple[float, bool]] = []
    outside: List[float] = []
    for question, codes in pairs:
        best = retriever.search(question, top_k=3).best
        confidence = best.confidence if best is not None else 0.0
        if codes is None:
            outside.append(confidence)
        else:
            citizen.append((confidence, best is not None and best.code in codes))
    for threshold in THRESHOLDS:
        answered = [right for confidence, right in citizen if confidence >= threshold]
        wrongly = sum(confidence >= threshold for confidence in outside)
        if answered and sum(answered) >= PRECISION * len(answered) \
                and wrongly <= OUTSIDE_ANSWERED * max(len(outside), 1):
            return threshold
    log.warning("no answer threshold reaches %.0f %% right on the calibration questions: answering from %s",
                100 * PRECISION, THRESHOLDS[-1])
    return THRESHOLDS[-1]


def fit_calibration(retriever: HybridRetriever, per_procedure: int = 0, seed: int = 29,
                    outside_weight: float = OUTSIDE_WEIGHT) -> Calibration:
    """The confidence fitted on ``training_pairs`` (see the module's docstring), with the threshold from which it
    answers chosen on the same questions (``answer_threshold``)."""
    pairs = training_pairs(retriever, per_procedure, seed)
    fitted = fit_rows(feature_rows(retriever, pairs), outside_weight)
    previous, retriever.calibration = retriever.calibration, fitted
    try:
        fitted.answer_at = answer_threshold(retriever, pairs)
    finally:
        retriever.calibration = previous
    return fitted
