"""What a custom component's output depends on beyond its config and training data.

Rasa's training cache keys a component's output on its class, its config and its inputs. The
tokenizer also reads the knowledge base's tables and normaliser, and the sentence featurizer
the catalogue and the embedding model: without their content in the key (a component's
``fingerprint_addon``), `make train` after editing synonyms.yml would reuse the classifier
trained on the old tokens and report success.

Plain module, no Rasa imports.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent


def files_digest(paths: Iterable[Path], *extra: str) -> str:
    """SHA-256 over the names and contents of the files (folders: every file below them) and ``extra``."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        files = sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(path.parent) if path.is_dir() else file.name).encode())
            digest.update(file.read_bytes() if file.exists() else b"(missing)")
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()

