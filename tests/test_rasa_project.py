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

    from knowledge_base.text import fold

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
