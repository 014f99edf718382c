"""The Rasa project: data validates, a model trains, and the test stories pass."""
from tests.conftest import ROOT, rasa


def test_data_validates_without_warnings():
    result = rasa("data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml",
                  "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_conversation_stories_pass(rasa_model, tmp_path):
    result = rasa("test", "core", "--model", str(rasa_model), "--stories", "tests/conversations",
                  "--fail-on-prediction-errors", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in (tmp_path / "failed_test_stories.yml").read_text()


def test_every_intent_has_25_examples_half_unaccented():
    import yaml

    from core.text import fold

    counts = {}
    for path in (ROOT / "data/nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                examples = [e[2:].strip() for e in item["examples"].splitlines() if e.strip().startswith("- ")]
                counts.setdefault(item["intent"], []).extend(examples)  # an intent may span files
    assert len(counts) >= 24
    for intent, examples in counts.items():
        assert len(examples) >= 25, intent
        unaccented = sum(fold(e) == e.lower() for e in examples)
        assert unaccented >= len(examples) // 2 - 1, intent


def test_nlu_benchmark_never_splits_accent_twins():
    # The NLU benchmark's folds must keep "giúp được tôi nhiều" and "giup duoc toi nhieu" together,
    # else a model is scored on a phrasing it was trained on.
    from benchmarks.bench_nlu import grouped_folds, twin_key

    texts = ["Giúp được tôi nhiều", "giup duoc toi nhieu", "chào bạn", "chao ban!", "xin chào", "alo",
             "không", "ko phải", "sai rồi", "sai roi", "tệ", "te qua"]
    intents = ["fb"] * 2 + ["greet"] * 4 + ["deny"] * 4 + ["fb"] * 2
    folds = grouped_folds(texts, intents, k=2, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(len(texts)))  # each example scored once
    for fold in folds:
        keys = {twin_key(texts[i]) for i in fold}
        assert all(twin_key(texts[j]) not in keys for other in folds if other is not fold for j in other)
