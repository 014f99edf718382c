"""Grouping of unanswered questions: precision and recall of "same group" on a labelled sample, by meaning
(the search encoder, ``knowledge_base.grouping.group_by_meaning``) at several thresholds and by shared words (the
earlier ``group_questions``). The threshold is chosen on the tuning sample (the highest recall with precision at
least 0.95) and reported on the held-out sample, which is never used to choose.

    python -m benchmarks.bench_grouping [--model DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import yaml

from knowledge_base.grouping import content_of, group_by_meaning, group_questions, question_encoder

DATA = Path(__file__).resolve().parent / "data"
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]
PRECISION_TARGET = 0.95


def load(name: str) -> Tuple[List[str], List[int]]:
    """Questions of a sample and their cluster numbers, shuffled (staff see them in arrival order, not by
    cluster) with a fixed seed."""
    clusters = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["clusters"]
    pairs = [(q, i) for i, c in enumerate(clusters) for q in c["questions"]]
    random.Random(7).shuffle(pairs)
    return [q for q, _ in pairs], [i for _, i in pairs]


def pair_scores(truth: Sequence[int], found: Sequence[int]) -> Tuple[float, float]:
    """Precision and recall of "these two are in the same group" over all pairs."""
    both = same_found = same_truth = 0
    for a, b in itertools.combinations(range(len(truth)), 2):
        t, f = truth[a] == truth[b], found[a] == found[b]
        both += t and f
        same_found += f
        same_truth += t
    return (both / same_found if same_found else 1.0), (both / same_truth if same_truth else 1.0)


def separability(texts: Sequence[str], truth: Sequence[int], embed) -> Tuple[float, float, float]:
    """What any threshold on the encoder's similarity could reach: over all pairs, ranked by the centred cosine
    of their contents (as the console compares them), the AUC of "same meaning", the best precision at recall
    >= 0.8, and the best recall at precision >= 0.95: what a threshold on the pairwise similarity reaches. (The
    console compares a question with a group's mean, online, and merges the same content outright, so its own
    figures differ; it does not turn a poor ranking of pairs into a good one.)"""
    vectors = np.asarray(embed([content_of(t) or t for t in texts]), np.float64)
    vectors -= vectors.mean(axis=0)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    upper = np.triu_indices(len(texts), 1)
    scores = (vectors @ vectors.T)[upper]
    labels = (np.asarray(truth)[:, None] == np.asarray(truth)[None, :])[upper]
    from scipy.stats import rankdata

    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    # a threshold keeps all pairs of one score or none: precision and recall at the last pair of each score
    ends = np.r_[np.nonzero(np.diff(scores[order]))[0], len(order) - 1]
    precision, recall = hits[ends] / (ends + 1), hits[ends] / max(int(labels.sum()), 1)
    ranks = rankdata(scores)  # tied pairs share their average rank: a tie counts a half in the AUC
    positives, negatives = int(labels.sum()), int((~labels).sum())
    auc = (ranks[labels].sum() - positives * (positives + 1) / 2) / max(positives * negatives, 1)
    at_recall = float(precision[recall >= 0.8].max()) if (recall >= 0.8).any() else 0.0
    at_precision = float(recall[precision >= PRECISION_TARGET].max()) if (precision >= PRECISION_TARGET).any() else 0.0
    return float(auc), at_recall, at_precision


def by_words(texts: Sequence[str]) -> List[int]:
    start = dt.datetime(2026, 1, 1)
    groups = group_questions([{"text": t, "asked_at": start + dt.timedelta(seconds=i), "n": i}
                              for i, t in enumerate(texts)])
    where: Dict[int, int] = {}
    for n, group in enumerate(groups):
        for row in group.rows:
            where[row["n"]] = n
    return [where[i] for i in range(len(texts))]


def main(argv=None) -> int:
    from core.settings import Settings
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.retrieval.dense import Embedder

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="embedding model folder (default: the configured search encoder)")
    args = parser.parse_args(argv)
    settings = Settings()
    embedder = Embedder.configured(settings, args.model)
    embed = question_encoder(embedder, Catalogue.load(settings.knowledge.catalogue_dir))  # as the console does
    print(f"encoder: {embedder.model_name} (accents restored first)")
    samples = {name: load(f"question_groups_{name}.yml") for name in ("tune", "held")}
    table: Dict[Tuple[str, float], Tuple[float, float]] = {}
    ceilings: Dict[str, Tuple[float, float, float]] = {}
    for name, (texts, truth) in samples.items():
        start = time.perf_counter()
        ceilings[name] = separability(texts, truth, embed)
        table[(name, -1.0)] = pair_scores(truth, by_words(texts))
        for threshold in THRESHOLDS:
            table[(name, threshold)] = pair_scores(truth, group_by_meaning(texts, embed, threshold))
        print(f"{name}: {len(texts)} questions in {len(set(truth))} meanings ({time.perf_counter() - start:.1f} s)")
    print(f"\n{'grouping':<22}{'tune P':>8}{'tune R':>8}{'held P':>8}{'held R':>8}")
    for threshold in [-1.0] + THRESHOLDS:
        label = "shared words (before)" if threshold < 0 else f"meaning @ {threshold:.2f}"
        (tp, tr), (hp, hr) = table[("tune", threshold)], table[("held", threshold)]
        print(f"{label:<22}{tp:>8.3f}{tr:>8.3f}{hp:>8.3f}{hr:>8.3f}")
    print("\nthe encoder's similarity over all pairs (what a threshold on it reaches):")
    for name, (auc, at_recall, at_precision) in ceilings.items():
        print(f"  {name}: AUC of same meaning {auc:.3f}; best precision at recall >= 0.8: {at_recall:.3f}; "
              f"best recall at precision >= {PRECISION_TARGET}: {at_precision:.3f}")
    fitting = [t for t in THRESHOLDS if table[("tune", t)][0] >= PRECISION_TARGET]
    if fitting:
        best = max(fitting, key=lambda t: (table[("tune", t)][1], -t))
        hp, hr = table[("held", best)]
        print(f"\nchosen on tune: {best:.2f} (precision >= {PRECISION_TARGET}, highest recall); "
              f"held-out: precision {hp:.3f}, recall {hr:.3f} (target precision >= 0.95 at recall >= 0.8)")
    else:
        best = max(THRESHOLDS, key=lambda t: (table[("tune", t)][0], table[("tune", t)][1]))
        hp, hr = table[("held", best)]
        print(f"\nno threshold reaches precision {PRECISION_TARGET} on the tuning sample; the most precise there: "
              f"{best:.2f}; held-out: precision {hp:.3f}, recall {hr:.3f} (target precision >= 0.95 at recall >= 0.8)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
