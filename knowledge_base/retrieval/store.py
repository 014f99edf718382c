"""Build, save and load the search index, with a manifest so a stale index is never used.

The folder (git-ignored, ``build/index`` by default) holds ``index.faiss`` (one normalised
vector per passage), ``ids.json`` (the procedure code and text of each vector), ``examples.npy``
and ``examples.json`` (one query vector per citizen-worded question of ``training_questions.yml``,
and its code and text) and ``manifest.json`` (model, model fingerprint, catalogue hash, scope,
build time, calibration).
The lexical index is rebuilt in memory at load: it takes milliseconds and is deterministic.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from core.clock import now_local
from knowledge_base.catalogue import Catalogue, catalogue_hash
from knowledge_base.retrieval.actions import ACTIONS
from knowledge_base.retrieval.dense import Embedder, model_fingerprint, one_blas_thread
from knowledge_base.retrieval.examples import written_questions
from knowledge_base.retrieval.hybrid import Calibration, HybridRetriever
from knowledge_base.retrieval.levels import LEVELS
from knowledge_base.retrieval.texts import indexed_passages
from knowledge_base.schema import Procedure
from knowledge_base.text import CALIBRATION_OUTSIDE, CALIBRATION_QUESTIONS, DATA_DIR, TRAINING_QUESTIONS

log = logging.getLogger(__name__)
FORMAT = 13  # 3: a coverage feature, fitted on outside questions too; 4: and on citizen-worded questions;
# 5: the citizen-worded training questions embedded as examples, two confidence features from them;
# 6: each fit's own answer threshold; 7: two features from the actions asked and named (actions.yml);
# 8: the example cosine squared; 9: the example scores a third ranking of the fusion (its scores, the gap feature);
# 10: the nearest examples' vote; 11: each fit's lone-candidate rule; 12: a level the question names rules out a
# twin at the other level (levels.yml); 13: the lead a top answered must have over the next (hybrid.lead)
FILES = ("index.faiss", "ids.json", "examples.npy", "examples.json")


def expected_manifest(procs: Sequence[Procedure], model: str, scope: dict) -> dict:
    """What a fresh index for these procedures, model identity and scope must say in its manifest."""
    model_name = model.split("#", 1)[0]
    fitted_on = hashlib.sha256()
    # the confidence is fitted on the first two; the third gives the examples, the fourth two of its features; the
    # next two say which questions a conversation routes before searching (not counted when the threshold is chosen);
    # the next four prepare every question (shorthand, synonyms, the diacritic restorer's everyday phrases, a case told
    # in everyday words), and the last rules candidates out
    for path in (CALIBRATION_OUTSIDE, CALIBRATION_QUESTIONS, TRAINING_QUESTIONS, ACTIONS, DATA_DIR / "limits.yml",
                 DATA_DIR / "other_domains.yml", DATA_DIR / "synonyms.yml", DATA_DIR / "abbreviations.yml",
                 DATA_DIR / "common_phrases.txt", DATA_DIR / "case_wording.yml", LEVELS):
        fitted_on.update(path.read_bytes() if path.exists() else b"-")
    return {"format": FORMAT, "model": model, "model_fingerprint": model_fingerprint(model_name),
            "catalogue_hash": catalogue_hash(procs), "scope": scope,
            "calibration_questions": fitted_on.hexdigest()[:16]}


def stale_reason(index_dir: Path, expected: dict) -> Optional[str]:
    """Why the index in ``index_dir`` cannot be used for ``expected``, or None when it is current."""
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        return "no index built yet"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return f"manifest unreadable: {exc}"
    for key, value in expected.items():
        if manifest.get(key) != value:
            return f"{key} changed"
    for name in FILES:
        if not (Path(index_dir) / name).exists():
            return f"{name} missing"
    return None


def build_index(procs: Sequence[Procedure], embedder: Embedder, index_dir: Path, scope: dict,
                calibrate: Optional[Callable[[HybridRetriever], Calibration]] = None,
                progress: bool = False) -> dict:
    """Embed every passage, write the FAISS index, id map and manifest; return the manifest."""
    import faiss

    from knowledge_base.retrieval.dense import build_faiss

    start = time.perf_counter()
    indexed = indexed_passages(procs)
    texts = [text for _, text in indexed]
    ids = [{"code": procs[i].code, "owner": i, "text": text} for i, text in indexed]
    vectors = embedder.embed_passages(texts, progress=progress)
    index = build_faiss(vectors)
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(index_dir / "index.faiss"))
    (index_dir / "ids.json").write_text(json.dumps(ids, ensure_ascii=False))
    retriever = HybridRetriever(procs, embedder, index, [i for i, _ in indexed])
    examples, known = embed_examples(retriever, progress)
    np.save(index_dir / "examples.npy", examples)
    (index_dir / "examples.json").write_text(json.dumps(known, ensure_ascii=False))
    retriever.set_examples(examples if len(examples) else None, [r["owner"] for r in known])
    calibration = Calibration()
    if calibrate is not None:
        calibration = calibrate(retriever)
    manifest = dict(expected_manifest(procs, embedder.identity, scope))
    manifest.update({
        "procedures": len(procs), "passages": len(texts), "examples": len(known), "dimension": int(vectors.shape[1]),
        "built_at": now_local().isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - start, 2), "calibration": asdict(calibration),
    })
    (index_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def embed_examples(retriever: HybridRetriever, progress: bool = False) -> Tuple[np.ndarray, List[dict]]:
    """The query vectors of the citizen-worded questions of the retriever's procedures, embedded as the
    search embeds a question (shorthand expanded, accents restored), and each one's code, owner and text."""
    owner_of = {p.code: i for i, p in enumerate(retriever.procedures)}
    known = [{"code": code, "owner": owner_of[code], "text": q}
             for code, questions in written_questions().items() if code in owner_of for q in questions]
    if not known or retriever.embedder is None:
        return np.zeros((0, 1), np.float32), []
    vectors = retriever.embedder.embed_examples([retriever.dense_query(str(k["text"])) for k in known], progress)
    return np.ascontiguousarray(vectors, dtype=np.float32), known


def load_retriever(procs: Sequence[Procedure], embedder: Embedder, index_dir: Path) -> HybridRetriever:
    """Open a built index; the caller has checked it is current with ``stale_reason``."""
    import faiss

    one_blas_thread()

    index_dir = Path(index_dir)
    ids = json.loads((index_dir / "ids.json").read_text())
    manifest = json.loads((index_dir / "manifest.json").read_text())
    by_code = {p.code: i for i, p in enumerate(procs)}
    owners = [by_code[r["code"]] for r in ids]
    index = faiss.read_index(str(index_dir / "index.faiss"))
    calibration = Calibration(**manifest.get("calibration", {}))
    known = json.loads((index_dir / "examples.json").read_text())
    examples = np.load(index_dir / "examples.npy") if known else None
    if examples is not None and (examples.ndim != 2 or examples.shape[0] != len(known)
                                 or examples.shape[1] != index.d):
        log.warning("search index examples do not match their list (%s for %d): searching without them",
                    examples.shape, len(known))
        examples, known = None, []
    return HybridRetriever(procs, embedder, index, owners, calibration=calibration, examples=examples,
                           example_owner=[by_code[k["code"]] for k in known])


def scope_of(fields: Sequence[str], levels: Sequence[str]) -> dict:
    """The scope as the manifest records it."""
    return {"fields": sorted(fields), "levels": sorted(levels)}


def open_or_build(catalogue: Catalogue, embedder: Embedder, index_dir: Path, fields: Sequence[str],
                  levels: Sequence[str], calibrate=None) -> Tuple[HybridRetriever, Optional[str]]:
    """The retriever over the in-scope procedures, rebuilding the index first when it is stale.

    Returns the retriever and the reason it was rebuilt (None when the index was current).
    """
    procs = catalogue.in_scope(fields, levels)
    scope = scope_of(fields, levels)
    reason = stale_reason(index_dir, expected_manifest(procs, embedder.identity, scope))
    if reason:
        log.warning("search index is stale (%s): rebuilding", reason)
        build_index(procs, embedder, index_dir, scope, calibrate=calibrate)
    return load_retriever(procs, embedder, index_dir), reason
