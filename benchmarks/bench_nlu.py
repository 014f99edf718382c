"""NLU evaluation by grouped cross-validation: intent macro-F1 and entity F1, accented vs unaccented.

The training data holds most phrasings twice, with and without accents ("giúp được tôi nhiều" /
"giup duoc toi nhieu"). The tokenizer folds accents, so the twins are one example to the model:
a plain random split puts one twin in training and the other in the test part, and the score
then measures memory, not understanding. Here examples that fold to the same text are one group,
and each of K folds (stratified by intent, groups never split) is predicted by a model trained on
the other folds: every example is scored once, by a model that never saw it in any spelling.
``--leaky`` also runs the plain random split, to show what it would have reported.

One fold assignment is one draw: with about 5,000 examples, moving a few dozen phrasings between
folds moves macro-F1 by ±0.005. So the cross-validation is repeated with several seeds (repeated
grouped K-fold); each repetition is reported, and the target is judged on their mean.

Run: `make bench-nlu` (K = NLU_FOLDS, default 5; seeds NLU_SEEDS, default 42 7 1 2). Prints
training time too.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
SUBSETS = ("all", "accented", "unaccented")


def entity_set(entities) -> set:
    """(entity, start, end) triples."""
    return {(e["entity"], e["start"], e["end"]) for e in entities or []}


def twin_key(text: str) -> str:
    """What the model sees of a phrasing, near enough: folded, lower case, no end punctuation."""
    from core.text import fold

    return " ".join(fold(text).split()).strip(" ?.!,")


def subset_of(text: str) -> str:
    """'unaccented' when the text has no diacritics, else 'accented'."""
    from core.text import fold

    return "unaccented" if fold(text) == text.lower() else "accented"


def grouped_folds(texts: Sequence[str], intents: Sequence[str], k: int, seed: int) -> List[List[int]]:
    """Indices of the test part of each of ``k`` folds: stratified by intent, twins together."""
    from sklearn.model_selection import StratifiedGroupKFold

    keys: Dict[str, int] = {}
    groups = [keys.setdefault(twin_key(t), len(keys)) for t in texts]
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [list(test) for _, test in splitter.split(list(texts), list(intents), groups)]


def random_split(n: int, intents: Sequence[str], seed: int) -> List[List[int]]:
    """One stratified 80/20 split that ignores twins (the usual, leaky evaluation)."""
    from sklearn.model_selection import train_test_split

    _, test = train_test_split(list(range(n)), test_size=0.2, stratify=list(intents), random_state=seed)
    return [sorted(test)]


def train_and_parse(data, train_idx: List[int], test_idx: List[int], config: str) -> Tuple[List[dict], float]:
    """Train an NLU model on ``train_idx`` of the intent examples; parse ``test_idx``; (parses, seconds)."""
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = data.intent_examples
    train = TrainingData(training_examples=[examples[i] for i in train_idx],
                         entity_synonyms=data.entity_synonyms, regex_features=data.regex_features,
                         lookup_tables=data.lookup_tables)
    with tempfile.TemporaryDirectory() as tmp:
        nlu_dir = Path(tmp) / "nlu"
        nlu_dir.mkdir()
        (nlu_dir / "train.yml").write_text(train.nlu_as_yaml(), encoding="utf-8")
        start = time.perf_counter()
        rasa = str(Path(sys.executable).parent / "rasa")
        result = subprocess.run([rasa, "train", "nlu", "--nlu", str(nlu_dir), "--config", config,
                                 "--out", tmp, "--fixed-model-name", "nlu", "--quiet"], cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(result.stderr[-2000:])
        agent = Agent.load(str(Path(tmp) / "nlu.tar.gz"))

        async def parse_all() -> List[dict]:
            return [await agent.parse_message(examples[i].get("text")) for i in test_idx]

        return asyncio.run(parse_all()), seconds


def report(title: str, examples, parsed: Dict[int, dict]) -> Dict[str, float]:
    """Print per-subset intent macro-F1, accuracy and entity F1 over the parsed examples; the F1s."""
    from sklearn.metrics import f1_score

    rows: Dict[str, List[Tuple[str, str]]] = {key: [] for key in SUBSETS}
    ent = {key: [0, 0, 0] for key in SUBSETS}  # tp, fp, fn
    entity_errors = []
    misread: Dict[str, Tuple[str, str, str]] = {}  # one spelling of each misclassified phrasing
    for i, out in sorted(parsed.items()):
        text = examples[i].get("text")
        pair = (examples[i].get("intent"), (out.get("intent") or {}).get("name") or "none")
        if pair[0] != pair[1]:
            misread.setdefault(twin_key(text), (text, *pair))
        gold, pred = entity_set(examples[i].get("entities")), entity_set(out.get("entities"))
        if gold != pred:
            entity_errors.append((text, sorted(gold), sorted(pred)))
        for key in ("all", subset_of(text)):
            rows[key].append(pair)
            ent[key][0] += len(gold & pred)
            ent[key][1] += len(pred - gold)
            ent[key][2] += len(gold - pred)
    print(f"\n{title}")
    print(f"{'subset':<12}{'n':>6}{'intent macro-F1':>18}{'accuracy':>10}{'entity F1':>11}")
    scores = {}
    for key, pairs in rows.items():
        if not pairs:
            continue
        gold = [g for g, _ in pairs]
        pred = [p for _, p in pairs]
        scores[key] = f1_score(gold, pred, average="macro", labels=sorted(set(gold)), zero_division=0)
        acc = sum(g == p for g, p in pairs) / len(pairs)
        tp, fp, fn = ent[key]
        ef1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        print(f"{key:<12}{len(pairs):>6}{scores[key]:>18.3f}{acc:>10.3f}{ef1:>11.3f}")
    confusions = Counter(p for p in rows["all"] if p[0] != p[1])
    if confusions:
        print("most confused (expected -> predicted: count):")
        print("  " + ", ".join(f"{g} -> {p}: {n}" for (g, p), n in confusions.most_common(12)))
        print("misclassified (one spelling of each phrasing):")
        for text, gold, pred in misread.values():
            print(f"  {text!r}: expected {gold}, got {pred}")
    for text, gold, pred in entity_errors:
        print(f"  entities of {text!r}: expected {gold}, got {pred}")
    fallbacks = [(examples[i].get("intent"), top_intent(out)) for i, out in parsed.items()
                 if (out.get("intent") or {}).get("name") == "nlu_fallback"]
    if fallbacks:
        right = sum(g == p for g, p in fallbacks)
        print(f"sent to the fallback (confidence below the threshold): {len(fallbacks)} examples; "
              f"the classifier's own first choice was right for {right} of them")
    return scores


def with_fallback(parse: dict, threshold: float, ambiguity: float) -> str:
    """The intent a FallbackClassifier with these settings would give, from the parse's ranking."""
    ranking = classifier_ranking(parse)
    if not ranking:
        return "nlu_fallback"
    first = ranking[0].get("confidence") or 0.0
    second = (ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    return "nlu_fallback" if first < threshold or first - second < ambiguity else ranking[0]["name"]


def threshold_sweep(examples, parsed: Dict[int, dict],
                    thresholds=(0.0, 0.2, 0.3, 0.4, 0.5), ambiguities=(0.0, 0.05, 0.1)) -> None:
    """Print macro-F1 (accented / unaccented) and fallback share for other FallbackClassifier settings.

    The classifier's ranking is the same whatever the fallback does, so one pass over the parses
    shows what each setting would cost: a lower threshold answers more, and more of it wrongly.
    """
    from sklearn.metrics import f1_score

    print("\nfallback settings (same models): threshold, ambiguity -> macro-F1 accented / unaccented, fallbacks")
    for threshold in thresholds:
        for ambiguity in ambiguities:
            cells, sent = [], 0
            for key in ("accented", "unaccented"):
                pairs = [(examples[i].get("intent"), with_fallback(out, threshold, ambiguity))
                         for i, out in parsed.items() if subset_of(examples[i].get("text")) == key]
                gold = [g for g, _ in pairs]
                cells.append(f1_score(gold, [p for _, p in pairs], average="macro", labels=sorted(set(gold)),
                                      zero_division=0))
                sent += sum(p == "nlu_fallback" for _, p in pairs)
            print(f"  {threshold:.2f}, {ambiguity:.2f} -> {cells[0]:.3f} / {cells[1]:.3f}, {sent}")


def classifier_ranking(parse: dict) -> List[dict]:
    """The classifier's own ranking: without the fallback the FallbackClassifier put on top."""
    return [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]


def top_intent(parse: dict) -> str:
    """The classifier's first choice."""
    ranking = classifier_ranking(parse)
    return ranking[0]["name"] if ranking else "none"


def evaluate(data, config: str, test_parts: List[List[int]], title: str,
             dump: Optional[str] = None) -> Dict[str, float]:
    """Train once per test part (on everything else), parse it, report the pooled predictions."""
    examples = data.intent_examples
    parsed: Dict[int, dict] = {}
    times = []
    for n, test_idx in enumerate(test_parts, 1):
        held = set(test_idx)
        train_idx = [i for i in range(len(examples)) if i not in held]
        outputs, seconds = train_and_parse(data, train_idx, test_idx, config)
        times.append(seconds)
        parsed.update(zip(test_idx, outputs))
        print(f"  part {n}/{len(test_parts)}: trained on {len(train_idx)}, tested {len(test_idx)} "
              f"in {seconds:.0f} s", flush=True)
    groups = len({twin_key(examples[i].get("text")) for i in parsed})
    if dump:
        rows = [{"text": examples[i].get("text"), "intent": examples[i].get("intent"),
                 "ranking": out.get("intent_ranking")} for i, out in sorted(parsed.items())]
        Path(dump).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    threshold_sweep(examples, parsed)
    return report(f"{title}: {len(parsed)} examples ({groups} distinct phrasings once accents are folded), "
                  f"{len(data.intents)} intents; training time per model: mean {sum(times) / len(times):.0f} s",
                  examples, parsed)


def main() -> None:
    """Cross-validate (and optionally the leaky split), print, compare with the target."""
    import argparse

    from rasa.shared.nlu.training_data.loading import load_data

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "config.yml"), help="Rasa config to evaluate")
    parser.add_argument("--folds", type=int, default=5, help="folds of the grouped cross-validation")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="seeds of the fold assignments: "
                        "one repetition of the cross-validation each, the target judged on their mean")
    parser.add_argument("--dump", help="write every example's intent ranking to this JSON file")
    parser.add_argument("--leaky", action="store_true", help="also run a plain random 80/20 split, twins ignored")
    args = parser.parse_args()
    data = load_data(str(ROOT / "data/nlu"))
    texts = [m.get("text") for m in data.intent_examples]
    intents = [m.get("intent") for m in data.intent_examples]
    runs = []
    for seed in args.seeds:
        dump = f"{args.dump}.{seed}" if args.dump and len(args.seeds) > 1 else args.dump
        runs.append(evaluate(data, args.config, grouped_folds(texts, intents, args.folds, seed),
                             f"grouped {args.folds}-fold cross-validation (twins never split), seed {seed}", dump))
    if args.leaky:
        evaluate(data, args.config, random_split(len(texts), intents, args.seeds[0]),
                 "plain random 80/20 split (twins split: for comparison only)")
    print("\n" + summary(args.seeds, runs))


def summary(seeds: Sequence[int], runs: List[Dict[str, float]]) -> str:
    """Each repetition's macro-F1 (accented / unaccented), their mean and range, and the verdict on the mean."""
    lines = [f"grouped cross-validation repeated with {len(seeds)} seed(s): intent macro-F1 accented / unaccented"]
    lines += [f"  seed {seed}: {run.get('accented', float('nan')):.3f} / {run.get('unaccented', float('nan')):.3f}"
              for seed, run in zip(seeds, runs)]
    verdicts = []
    for key in ("accented", "unaccented"):
        values = [run.get(key, 0.0) for run in runs]
        mean = sum(values) / len(values)
        verdicts.append(f"{key} {mean:.3f} (range {min(values):.3f}-{max(values):.3f}) "
                        f"{'OK' if mean >= 0.95 else 'MISSED'}")
    lines.append("target: intent macro-F1 >= 0.95 on accented and on unaccented, mean over the repetitions: "
                 + ", ".join(verdicts))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
