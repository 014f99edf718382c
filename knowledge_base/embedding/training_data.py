"""Training questions for the embedding model: generated from the catalogue, and written by citizens' wording.

Generated ones are built from a procedure's name or one of its aliases, an aspect template, and a surface
variant: accented, without diacritics, or with common shorthand. They teach the official vocabulary, not
what citizens say ("tàu cá bị chìm", "trại heo 500 con"): ``training_questions.yml`` holds questions written
in citizens' words from the official records, apart from the calibration and development sets (a test keeps
them apart: no shared question, no six-word phrase shared with a held question of the same code).
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import List, Sequence, Tuple

from core.text import fold
from knowledge_base.retrieval.examples import written_questions
from knowledge_base.retrieval.texts import display_name
from knowledge_base.schema import Procedure
from knowledge_base.text import TRAINING_QUESTIONS

TEMPLATES = (
    "{x}",
    "thủ tục {x}",
    "{x} cần những giấy tờ gì",
    "hồ sơ {x} gồm những gì",
    "{x} mất bao lâu",
    "lệ phí {x} là bao nhiêu",
    "nộp hồ sơ {x} ở đâu",
    "{x} có nộp online được không",
    "muốn {x} thì làm thế nào",
    "cho hỏi về việc {x}",
    "tôi cần {x}",
    "điều kiện để {x}",
)

SHORTHAND = (
    ("giấy chứng nhận quyền sử dụng đất", "gcn qsdd"),
    ("giấy chứng nhận", "gcn"),
    ("quyền sử dụng đất", "qsdđ"),
    ("đánh giá tác động môi trường", "đtm"),
    ("không", "ko"),
    ("được", "dc"),
    ("thủ tục hành chính", "tthc"),
    ("ủy ban nhân dân", "ubnd"),
)

_CUT = re.compile(r"\s*(?:;|\(| đối với | trong các trường hợp | trong trường hợp | theo quy định ).*$")


def subjects(proc: Procedure) -> List[str]:
    """Short ways to name the procedure: its name cut at the first qualifier, and its aliases."""
    name = display_name(proc.name)
    short = _CUT.sub("", name).strip() or name
    out = [short.lower()]
    if name.lower() != short.lower() and len(name) < 140:
        out.append(name.lower())
    out.extend(a.lower() for a in proc.aliases)
    return list(dict.fromkeys(out))


def shorthand(text: str) -> str:
    """Replace official words with the shorthand citizens type."""
    for long, short in SHORTHAND:
        text = text.replace(long, short)
    return text


def generate(procs: Sequence[Procedure], per_procedure: int = 24, seed: int = 13) -> List[Tuple[str, str]]:
    """(question, code) pairs: about ``per_procedure`` per procedure, half without diacritics."""
    rng = random.Random(seed)
    pairs: List[Tuple[str, str]] = []
    for proc in procs:
        subs = subjects(proc)
        for i in range(per_procedure):
            x = subs[i % len(subs)]
            q = rng.choice(TEMPLATES).format(x=x)
            variant = i % 4
            if variant == 1:
                q = fold(q)
            elif variant == 2:
                q = shorthand(q)
            elif variant == 3:
                q = fold(shorthand(q))
            pairs.append((q, proc.code))
    rng.shuffle(pairs)
    return pairs


def citizen_pairs(procs: Sequence[Procedure], path: Path = TRAINING_QUESTIONS) -> List[Tuple[str, str]]:
    """(question, code) pairs of the written questions whose procedure is among ``procs``."""
    codes = {p.code for p in procs}
    return [(q, code) for code, questions in written_questions(path).items() if code in codes for q in questions]
