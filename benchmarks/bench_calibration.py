"""Calibration check: is the search's confidence right on citizen wording it was not fitted on?

Five-fold cross-validation over the calibration set (knowledge_base/data/calibration_questions.yml)
and the outside questions: each fold is scored by a fit on the other four (plus the generated
questions), through the same `fit_rows` the index build uses; each question's rows are computed
once. Prints, per variant of the fit, the expected calibration error of the top hit, and per
threshold the share answered (from the threshold, a top leading the next candidate by the fit's LEAD_AT), the share
of those right, and the share of outside questions answered;
then, for the configured fit, how often the right procedure is among the choices below the threshold.
It never reads a development set: choosing a variant here leaves them untouched.
Run: `make bench-calibration` (or `python -m benchmarks.bench_calibration`).
"""
from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import List, Sequence

import numpy as np


def _ece(confidences: Sequence[float], right: Sequence[bool], bins: int = 5) -> float:
    total = 0.0
    for b in range(bins):
        chosen = [(c, r) for c, r in zip(confidences, right) if min(bins - 1, int(c * bins)) == b]
        if chosen:
            total += abs(sum(c for c, _ in chosen) - sum(r for _, r in chosen))
    return total / max(len(confidences), 1)


def main() -> None:
    """Cross-validate each variant of the fit and print the figures."""
    from core.settings import get_settings
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.embedding import calibration as fit
    from knowledge_base.retrieval.dense import Embedder
    from knowledge_base.retrieval.hybrid import ANSWER_AT, CHOOSE_AT
    from knowledge_base.retrieval.store import build_index, load_retriever, scope_of

    s = get_settings()
    procs = Catalogue.load(s.knowledge.catalogue_dir).in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels)
    embedder = Embedder.configured(s)
    with tempfile.TemporaryDirectory() as tmp:
        build_index(procs, embedder, Path(tmp), scope_of(s.knowledge.scope_fields, s.knowledge.scope_levels))
        retriever = load_retriever(procs, embedder, Path(tmp))
    in_scope = {p.code for p in procs}
    # as each fit chooses its threshold: outside questions a conversation routes before searching are left out,
    # citizen ones routed so count as not answered (calibration.held_out_tops)
    citizen = [(q, c) for q, c in fit.citizen_questions() if c & in_scope]
    routed = {q for q, _ in citizen if fit.routed_before_search(q)}
    outside = [(q, None) for q in fit.outside_questions() if not fit.routed_before_search(q)]
    rng = random.Random(7)
    rng.shuffle(citizen)
    rng.shuffle(outside)
    folds = 5
    print(f"calibration set: {len(citizen)} citizen questions ({len(routed)} routed before any search), "
          f"{len(outside)} outside ones that reach the search; {folds}-fold; each fit chooses its threshold on "
          f"{fit.THRESHOLDS} (default {ANSWER_AT})")
    thresholds = tuple(sorted({0.55, 0.6, 0.65, ANSWER_AT, 0.75, 0.775, 0.8, 0.825, 0.85, 0.9}))
    variants = (("generated only (3 per procedure)", 3, False, 1.0),
                ("citizen + generated (1)", 1, True, 1.0),
                ("citizen only", 0, True, 1.0),
                ("citizen only, outside x2", 0, True, 2.0),
                ("citizen only, outside x5", 0, True, 5.0))
    generated = {n: [(q, frozenset([c])) for q, c in fit.generate(procs, per_procedure=n, seed=29)]
                 for n in {v[1] for v in variants} if n}
    # Each question's rows once, ranked as at index build (the default confidence), whatever fold uses them.
    cached = {pair: fit.feature_rows(retriever, [pair])
              for pair in citizen + outside + [p for pairs in generated.values() for p in pairs]}

    def rows(pairs) -> tuple:
        parts = [cached[p] for p in pairs]
        return tuple(np.concatenate([part[j] for part in parts]) for j in range(3))

    bands: list = []
    print(f"{'variant':<40}{'ECE':>7}" + "".join(f"{'answered/right/outside @' + str(t):>32}" for t in thresholds))
    for name, per_procedure, use_citizen, outside_weight in variants:
        conf: List[float] = []
        seconds: List[float] = []  # the next candidate's confidence: an answer must lead it (fit.LEAD_AT)
        right: List[bool] = []
        among: List[bool] = []  # the right procedure among the three offered
        out_conf: List[float] = []
        out_seconds: List[float] = []
        for k in range(folds):
            train = generated.get(per_procedure, []) + [x for i, x in enumerate(outside) if i % folds != k]
            if use_citizen:
                train += [x for i, x in enumerate(citizen) if i % folds != k]
            retriever.calibration = fit.fit_rows(rows(train), outside_weight)
            for q, codes in [x for i, x in enumerate(citizen) if i % folds == k]:
                result = retriever.search(q, top_k=3)
                best = result.best
                conf.append(best.confidence if best and q not in routed else 0.0)
                seconds.append(_second(result))
                right.append(best is not None and best.code in codes)
                among.append(any(h.code in codes for h in result.hits[:3]))
            for q, _ in [x for i, x in enumerate(outside) if i % folds == k]:
                result = retriever.search(q, top_k=3)
                out_conf.append(result.best.confidence if result.best else 0.0)
                out_seconds.append(_second(result))
        cells = []
        for t in thresholds:
            answered = np.asarray([fit.answered_from(c, s, t) for c, s in zip(conf, seconds)])
            precision = np.asarray(right)[answered].mean() if answered.any() else 0.0
            outside_answered = np.mean([fit.answered_from(c, s, t) for c, s in zip(out_conf, out_seconds)])
            cells.append(f"{answered.mean():.0%} / {precision:.1%} / {outside_answered:.1%}")
        print(f"{name:<40}{_ece(conf, right):>7.3f}" + "".join(f"{c:>32}" for c in cells))
        if outside_weight == fit.OUTSIDE_WEIGHT and not per_procedure:  # the configured fit: below the answer band
            bands.append((name, conf, among, out_conf))
    for name, conf, among, out_conf in bands:
        print(f"\n{name}, below the answer threshold: where should choices start (hybrid.CHOOSE_AT = {CHOOSE_AT})?")
        edges = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, ANSWER_AT)
        for low, high in zip(edges, edges[1:]):
            inside = [(c >= low) & (c < high) for c in conf]
            n = sum(inside)
            hit = sum(a for a, i in zip(among, inside) if i)
            out = sum(low <= c < high for c in out_conf)
            print(f"  top confidence {low:.2f}-{high:.2f}: {n / len(conf):>5.1%} of citizen questions, the right "
                  f"procedure among three for {hit / max(n, 1):>5.1%} of them; "
                  f"{out / len(out_conf):>5.1%} of outside ones")


def _second(result) -> float:
    """The confidence of the candidate after the best one (0 when there is none)."""
    return result.hits[1].confidence if len(result.hits) > 1 else 0.0


if __name__ == "__main__":
    main()
