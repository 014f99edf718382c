"""The citizen-worded questions of ``training_questions.yml`` by procedure code.

The encoder is fine-tuned on them (``embedding.training_data``) and the search embeds them as examples at
index build (``retrieval.store``): one reader for both.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import yaml

from knowledge_base.text import TRAINING_QUESTIONS


def written_questions(path: Path = TRAINING_QUESTIONS) -> Dict[str, List[str]]:
    """The citizen-worded training questions by procedure code (empty when the file is absent)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of quoted procedure codes to lists of questions")
    out: Dict[str, List[str]] = {}
    for code, questions in data.items():
        if not isinstance(code, str):
            raise ValueError(f"{path}: quote the code {code!r} (an unquoted code is read as a number)")
        if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
            raise ValueError(f"{path}: {code}: expected a list of non-empty questions")
        out[code] = [q.strip() for q in questions]
    return out
