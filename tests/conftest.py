"""Shared fixtures: the official records in ../shared, the committed catalogue, a small model and index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.backends", "tests.running"]  # storage back end; the running assistant and the browser
RECORDS = ROOT.parent / "shared/data/dvc-bnnmt-2026/records"
BASE_MODEL = ROOT / "models/embeddings/multilingual-e5-small"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def record(code: str) -> dict:
    """One official record from ../shared (the tests never copy them into the repo)."""
    path = RECORDS / f"{code}.json"
    if not path.exists():
        pytest.fail(f"official records not found at {RECORDS}: CI needs ../shared beside the clone")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def server_clock_on_utc(monkeypatch):
    """A server whose own clock runs on UTC, as many cloud images do."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def catalogue():
    """The committed catalogue."""
    from knowledge_base.catalogue import Catalogue

    return Catalogue.load(ROOT / "knowledge_base/catalogue")


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    """The converted (not fine-tuned) multilingual-e5-small; converted here on first use (~10 s)."""
    if not (BASE_MODEL / "model.safetensors").exists():
        from knowledge_base.embedding.model_tools import convert_default

        convert_default(BASE_MODEL)
    return BASE_MODEL


@pytest.fixture(scope="session")
def land_scope(catalogue):
    """A small scope for fast index builds: land procedures at province and commune level."""
    return catalogue.in_scope(["Đất đai"], ["province", "commune"])


@pytest.fixture(scope="session")
def embedder(base_model_dir):
    """Embedder over the converted model."""
    from core.settings import Settings
    from knowledge_base.retrieval.dense import Embedder

    return Embedder.configured(Settings(), str(base_model_dir), threads=2)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, land_scope, embedder):
    """An index over the land scope, built once for the session (with calibration)."""
    from knowledge_base.embedding.calibration import fit_calibration
    from knowledge_base.retrieval.store import build_index, scope_of

    index_dir = tmp_path_factory.mktemp("index")
    manifest = build_index(land_scope, embedder, index_dir, scope_of(["Đất đai"], ["province", "commune"]),
                           calibrate=fit_calibration)
    return index_dir, manifest


@pytest.fixture(scope="session")
def retriever(built_index, land_scope, embedder):
    """Hybrid retriever over the land scope."""
    from knowledge_base.retrieval.store import load_retriever

    return load_retriever(land_scope, embedder, built_index[0])


RASA = str(Path(sys.executable).parent / "rasa")


def rasa(*args, timeout=1800):
    """Run the rasa CLI from the repository root. The tests' search model is the base model (a fine-tuned one need
    not exist), so the featurizer (on the base model) and the search share one model and its vector is handed
    over, as with config.yml's ``model: search``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MOTCUA_EMBEDDING_MODEL=str(BASE_MODEL))
    return subprocess.run([RASA, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def rasa_model(tmp_path_factory, base_model_dir):
    """Train the assistant once per test session (minutes on 2 cores) into a temporary folder.

    The NLU pipeline's sentence featurizer reads the base embedding model, hence the dependency.
    """
    prebuilt = os.environ.get("MOTCUA_TEST_RASA_MODEL")  # development loops: a model trained from this tree
    if prebuilt and Path(prebuilt).exists():
        return Path(prebuilt)
    out = tmp_path_factory.mktemp("rasa-model")
    result = rasa("train", "--domain", "domain", "--data", "data", "--config", "config.yml", "--out", str(out),
                  "--fixed-model-name", "motcua", "--quiet")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "motcua.tar.gz"
