"""NLU evaluation on a held-out split: intent macro-F1 and entity F1, accented vs unaccented.

Trains an NLU-only model on 80% of data/nlu (stratified by intent, fixed seed) with config.yml
and evaluates the other 20%. Prints training time too. Run: `make bench-nlu`; `--seeds 42,7,1`
repeats it over several splits and prints the mean and the worst.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent


def entity_set(entities) -> set:
    """(entity, start, end) triples."""
    return {(e["entity"], e["start"], e["end"]) for e in entities or []}


def evaluate(data, config: str, seed: int) -> Dict[str, float]:
    """Train on 80 % (stratified, ``seed``), evaluate the other 20 %; print; {subset: intent macro-F1}."""
    from rasa.core.agent import Agent
    from sklearn.metrics import f1_score

    from knowledge_base.text import fold

    train, test = data.train_test_split(train_frac=0.8, random_seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        nlu_dir = Path(tmp) / "nlu"
        nlu_dir.mkdir()
        (nlu_dir / "train.yml").write_text(train.nlu_as_yaml(), encoding="utf-8")
        start = time.perf_counter()
        rasa = str(Path(sys.executable).parent / "rasa")
        result = subprocess.run([rasa, "train", "nlu", "--nlu", str(nlu_dir), "--config", config,
                                 "--out", tmp, "--fixed-model-name", "nlu", "--quiet"], cwd=ROOT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True)
        train_s = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(result.stderr[-2000:])
        agent = Agent.load(str(Path(tmp) / "nlu.tar.gz"))

        async def parse_all(texts: List[str]) -> List[dict]:
            return [await agent.parse_message(t) for t in texts]

        examples = [m for m in test.intent_examples]
        parsed = asyncio.run(parse_all([m.get("text") for m in examples]))

    rows: Dict[str, List[Tuple[str, str]]] = {"all": [], "accented": [], "unaccented": []}
    ent = {"all": [0, 0, 0], "accented": [0, 0, 0], "unaccented": [0, 0, 0]}  # tp, fp, fn
    entity_errors = []
    for msg, out in zip(examples, parsed):
        text = msg.get("text")
        subset = "unaccented" if fold(text) == text.lower() else "accented"
        pair = (msg.get("intent"), (out.get("intent") or {}).get("name"))
        gold, pred = entity_set(msg.get("entities")), entity_set(out.get("entities"))
        if gold != pred:
            entity_errors.append((text, sorted(gold), sorted(pred)))
        for key in ("all", subset):
            rows[key].append(pair)
            ent[key][0] += len(gold & pred)
            ent[key][1] += len(pred - gold)
            ent[key][2] += len(gold - pred)
    print(f"\nsplit seed {seed}: {len(train.intent_examples)} training / {len(examples)} test examples, "
          f"{len(data.intents)} intents; training time {train_s:.0f} s")
    print(f"{'subset':<12}{'n':>5}{'intent macro-F1':>18}{'accuracy':>10}{'entity F1':>11}")
    scores = {}
    for key, pairs in rows.items():
        if not pairs:
            continue
        gold = [g for g, _ in pairs]
        pred = [p or "none" for _, p in pairs]
        scores[key] = f1_score(gold, pred, average="macro", labels=sorted(set(gold)), zero_division=0)
        acc = sum(g == p for g, p in zip(gold, pred)) / len(pairs)
        tp, fp, fn = ent[key]
        ef1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        print(f"{key:<12}{len(pairs):>5}{scores[key]:>18.3f}{acc:>10.3f}{ef1:>11.3f}")
    errors = [(m.get("text"), g, p) for m, (g, p) in zip(examples, rows["all"]) if g != p]
    if errors:
        print("misclassified:")
        for text, g, p in errors:
            print(f"  {text!r}: expected {g}, got {p}")
    for text, gold, pred in entity_errors:
        print(f"  entities of {text!r}: expected {gold}, got {pred}")
    return scores


def main() -> None:
    """Split, train, evaluate, print; over several splits, the mean and the worst."""
    import argparse

    from rasa.shared.nlu.training_data.loading import load_data

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(ROOT / "config.yml"), help="Rasa config to evaluate")
    parser.add_argument("--seeds", default="42", help="seeds of the stratified 80/20 splits, comma-separated")
    args = parser.parse_args()
    data = load_data(str(ROOT / "data/nlu"))
    runs = [evaluate(data, args.config, int(seed)) for seed in args.seeds.split(",")]
    if len(runs) > 1:
        print(f"\nover {len(runs)} splits: intent macro-F1 mean / worst")
        for key in runs[0]:
            values = [r[key] for r in runs if key in r]
            print(f"  {key:<12}{sum(values) / len(values):.3f} / {min(values):.3f}")
    print("\ntarget: intent macro-F1 >= 0.95 on accented and on unaccented")

if __name__ == "__main__":
    main()
