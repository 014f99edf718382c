"""Grouping questions that mean the same: the same question asked 40 ways is one row.

Texts are compared on their folded content words (no accents, case or abbreviations, no filler
words such as "cho em hỏi", "ạ", "với"); two phrasings belong together when their word sets
overlap enough (Jaccard). Staff answers (FAQ) are matched the same way.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np

from core.text import fold
from knowledge_base.text import _default_normalizer, words

FILLER = set("""a ad ah ak a~ ba bac ban ban~ bot cho chi chu co con cung da dang day de di duoc em gi giup ha hay hoi
huong i khong ko k la lam lai luon ma minh minh nao nay nhe nhi nho oi o roi sao thi toi tu va ve voi vay xin
u uh ung vang dc dk the anh chau""".split())


def key_of(text: str) -> str:
    """The comparison key of a text: its folded words, filler removed, in order."""
    tokens = words(fold(_default_normalizer().normalize(text or "")))
    content = [t for t in tokens if t not in FILLER]
    return " ".join(content or tokens)


def similarity(a: Set[str], b: Set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class Group:
    """Phrasings that mean the same, with every occurrence (rows of the review log)."""

    key: str
    tokens: Set[str]
    rows: List[dict] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def latest(self):
        return max(r["asked_at"] for r in self.rows)

    @property
    def phrasings(self) -> List[str]:
        seen: Dict[str, int] = {}
        for r in self.rows:
            seen[r["text"]] = seen.get(r["text"], 0) + 1
        return sorted(seen, key=lambda t: (-seen[t], t))

    @property
    def keys(self) -> List[str]:
        return sorted({key_of(r["text"]) for r in self.rows})


def group_questions(rows: Iterable[dict], threshold: float = 0.5) -> List[Group]:
    """Groups of review-log rows (``text``, ``asked_at``...), most asked first, then newest."""
    by_key: Dict[str, List[dict]] = {}
    for row in rows:
        by_key.setdefault(key_of(row["text"]), []).append(row)
    groups: List[Group] = []
    for key in sorted(by_key, key=lambda k: (-len(by_key[k]), k)):
        tokens = set(key.split())
        best: Optional[Group] = None
        best_score = threshold
        for group in groups:
            score = similarity(tokens, group.tokens)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            best = Group(key, tokens)
            groups.append(best)
        best.rows.extend(by_key[key])
    return sorted(groups, key=lambda g: (-g.count, -g.latest.timestamp()))


def best_faq(text: str, faqs: Sequence[dict], threshold: float = 0.6) -> Optional[dict]:
    """The staff answer whose question is closest to ``text`` (None below ``threshold``)."""
    tokens = set(key_of(text).split())
    best, best_score = None, threshold
    for faq in faqs:
        score = similarity(tokens, set(key_of(faq["question"]).split()))
        if score >= best_score:
            best, best_score = faq, score
    return best


# Grouping by meaning -------------------------------------------------------------------------------------
# What staff must not see grouped on: greetings and politeness, where the citizen lives, parcel and other
# numbers. Matched on folded words; the rest of the question is kept whole, question words included ("ở đâu",
# "được không" tell "where to file" from "can I file online").
POLITE = re.compile(r"\b(?:alo+|a lo|hello|hi|xin chao|chao (?:ad|admin|ban|anh|chi|em|so|moi nguoi)|"
                    r"(?:cho|cko|ch) (?:em|e|minh|toi|chau|con|mk|m) (?:xin )?hoi(?: chut| ti| voi)?|"
                    r"(?:em|e|minh|mk|toi|chau|con) (?:muon|can|xin) hoi(?: chut)?|xin hoi|hoi chut|"
                    r"(?:cam on|camon|thank you|thanks|thank|tks|ok|oke)(?: nhieu| nhe| nha| ad| admin| ban| a)*|"
                    r"lam on|vui long|giup (?:em|e|minh|toi|chau|con)(?: voi)?|(?:ad|admin|ban|anh|chi) oi)\b")
PARTICLES = re.compile(r"(?: (?:a|ah|a nhe|nhe|nha|nhi|ha|oi|voi a|vs a|voi|vay a))+ $")  # at the end only
LEADING = re.compile(r"^(?: (?:a|ah|oi|da|vang|ad|admin|ban oi))+ ")  # and at the start
PLACE_WORDS = ("to dan pho", "khu pho", "thi tran", "thi xa", "thanh pho", "xa", "phuong", "huyen", "quan", "tinh",
               "tp", "thon", "ap", "xom", "ban", "khu")
PLACE = re.compile(r"\b(?:(?:nha )?(?:em|e|minh|mk|toi|chau|con|gia dinh|nha) )?(?:o|tai|thuoc|ben) (?:"
                   + "|".join(PLACE_WORDS) + r")(?: cu)?(?: \S+){1,2}")
PARCEL = re.compile(r"\b(?:thua(?: dat)?|to(?: ban do)?|ban do)(?: so)? ?\S*\d\S*")
DOSSIER = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.\w+-\d{6}-\d{4}\b")
NUMBER = re.compile(r"\S*\d\S*")
WEEKDAYS = {"2": "hai", "3": "ba", "4": "tu", "5": "nam", "6": "sau", "7": "bay"}


def content_of(text: str) -> str:
    """The words of a question that carry its meaning: folded, abbreviations expanded, without greetings,
    politeness, places, parcel numbers and other numbers (a dossier code reads 'ma ho so')."""
    folded = fold(_default_normalizer().normalize(text or ""))
    folded = DOSSIER.sub(" ma ho so ", folded)
    folded = re.sub(r"[^\w\s]", " ", folded)
    folded = re.sub(r"\bthu ([2-7])\b", lambda m: "thu " + WEEKDAYS[m.group(1)], folded)  # "thứ 7" is a day
    spaced = " " + " ".join(folded.split()) + " "
    for pattern in (PARCEL, PLACE, POLITE, NUMBER):
        spaced = pattern.sub(" ", spaced)
    spaced = LEADING.sub(" ", PARTICLES.sub(" ", " " + " ".join(spaced.split()) + " "))
    return " ".join(spaced.split())


def without_place(text: str) -> str:
    """``text`` without where the citizen is ("mình ở xã Đông Hải", ``PLACE``) and parcel numbers ("thửa số 1749",
    ``PARCEL``): words that name no procedure. The two are found on the folded text and blanked in the text itself,
    so that the rest reads as the citizen wrote it (its accents tell "sổ" from "số")."""
    text = unicodedata.normalize("NFC", text or "")
    folded = re.sub(r"[^\w\s]|\s", " ", fold(text))
    if len(folded) != len(text):  # a character whose lower case or folding is longer: nothing to align with
        return text
    blank = [False] * len(text)
    for pattern in (PARCEL, PLACE):
        for found in pattern.finditer(folded):
            blank[found.start():found.end()] = [True] * (found.end() - found.start())
    return "".join(" " if gone else c for c, gone in zip(text, blank))


MIN_CENTRED = 30  # questions with content words before vectors may join groups


class MeaningGroups:
    """Online grouping of questions by their encoder vectors: a question joins the group whose mean vector is
    nearest when the cosine reaches ``threshold``, else starts a group. Vectors are compared centred on the mean
    of every question placed so far (sentence encoders put all questions in one narrow cone, where a plain cosine
    says little). The same comparison key (``key_of``) or the same content (``content_of``) always joins its
    group; a question with no content words (a greeting, a thank-you) groups by key only."""

    def __init__(self, threshold: float, dimension: int):
        self.threshold = threshold
        self.ids: List[int] = []
        self.by_key: Dict[str, int] = {}
        self._row: Dict[int, int] = {}
        self._sums = np.zeros((16, dimension), np.float32)  # spare rows: a new group does not copy the matrix
        self._sizes = np.zeros(16, np.float32)

    @property
    def sums(self) -> np.ndarray:
        """Each group's vector sum, one row per id."""
        return self._sums[:len(self.ids)]

    @property
    def sizes(self) -> np.ndarray:
        """How many vectors each group's sum holds."""
        return self._sizes[:len(self.ids)]

    def load(self, ids: Sequence[int], sums: np.ndarray, sizes: Sequence[int], keys: Dict[str, int]) -> None:
        """Start from stored groups: their ids, vector sums (one row each), vector counts and every key's group."""
        self.ids, self.by_key = list(ids), dict(keys)
        self._row = {gid: i for i, gid in enumerate(self.ids)}
        if self.ids:
            rows = np.asarray(sums, np.float32).reshape(len(self.ids), -1)
            self._sums = np.zeros((max(16, 2 * len(self.ids)), rows.shape[1]), np.float32)
            self._sums[:len(self.ids)] = rows
            self._sizes = np.zeros(self._sums.shape[0], np.float32)
            self._sizes[:len(self.ids)] = np.asarray(sizes, np.float32)

    def row_of(self, group: int) -> int:
        return self._row[group]

    def nearest(self, vector: np.ndarray, exclude: int = -1, top: int = 1) -> List[Tuple[int, float]]:
        """The ``top`` groups nearest to ``vector`` (a unit vector), with their centred cosine."""
        sums, sizes = self.sums, self.sizes
        total = float(sizes.sum())
        if not total:
            return []
        mean = sums.sum(axis=0) / total
        query = vector - mean
        # |S - n m|² = |S|² - 2 n S·m + n² |m|², without building the centred matrix
        norms = np.sqrt(np.maximum(np.einsum("ij,ij->i", sums, sums) - 2 * sizes * (sums @ mean)
                                   + sizes ** 2 * float(mean @ mean), 0.0))
        scores = (sums @ query - sizes * float(mean @ query)) / np.maximum(
            norms * max(float(np.linalg.norm(query)), 1e-9), 1e-9)
        scores[sizes == 0] = -1.0
        best = np.argsort(-scores)[:top + 1]
        return [(self.ids[i], float(scores[i])) for i in best if self.ids[i] != exclude][:top]

    def place(self, key: str, content: str, vector: Optional[np.ndarray], new_id: int) -> int:
        """The group of a question with ``key``, ``content`` (``content_of``) and unit ``vector`` (None: no
        content words); ``new_id`` names the group it starts when none is near enough. Vectors decide only once
        ``MIN_CENTRED`` questions give a mean to centre on."""
        content_key = "content:" + content if content else ""
        group = self.by_key.get(key, self.by_key.get(content_key)) if content_key else self.by_key.get(key)
        if group is None:
            enough = float(self.sizes.sum()) >= MIN_CENTRED
            found = self.nearest(vector) if vector is not None and enough else []
            group = found[0][0] if found and found[0][1] >= self.threshold else new_id
        self.by_key[key] = group
        if content_key:
            self.by_key.setdefault(content_key, group)
        self.add(group, vector)
        return group

    def add(self, group: int, vector: Optional[np.ndarray]) -> None:
        """Add ``vector`` (None: nothing, but the group exists) to ``group``'s sum."""
        if vector is not None and vector.shape[0] != self._sums.shape[1] and not self._sums.any():
            self._sums = np.zeros((self._sums.shape[0], vector.shape[0]), np.float32)  # the first vector sets it
        if group not in self._row:
            if len(self.ids) == self._sums.shape[0]:
                self._sums = np.vstack([self._sums, np.zeros_like(self._sums)])
                self._sizes = np.concatenate([self._sizes, np.zeros_like(self._sizes)])
            self._row[group] = len(self.ids)
            self.ids.append(group)
        if vector is not None:
            row = self._row[group]
            self._sums[row] += vector
            self._sizes[row] += 1

    def rename(self, old: int, new: int, keys: Sequence[str]) -> None:
        """Give group ``old`` the id ``new`` (a new group's id from the database); ``keys`` were placed in it."""
        row = self._row.pop(old)
        self.ids[row], self._row[new] = new, row
        for key in keys:
            if self.by_key.get(key) == old:
                self.by_key[key] = new


def group_by_meaning(texts: Sequence[str], embed, threshold: float) -> List[int]:
    """Each text's group number, grouping ``texts`` in order as the console does (``embed``: a list of texts
    to an array of unit vectors)."""
    contents = [content_of(t) for t in texts]
    wanted = sorted({c for c in contents if c})
    vectors = dict(zip(wanted, embed(wanted))) if wanted else {}
    groups = MeaningGroups(threshold, next(iter(vectors.values())).shape[0] if vectors else 1)
    out = []
    for text, content in zip(texts, contents):
        out.append(groups.place(key_of(text), content, vectors.get(content), len(groups.ids)))
    return out


def question_encoder(embedder, procedures: Iterable) -> Callable[[List[str]], np.ndarray]:
    """Texts to unit vectors for grouping: accents restored first (``content_of`` folds them, and the encoder
    reads unaccented Vietnamese poorly: on the labelled sample, restoring them raised the pairwise AUC of
    same-meaning from 0.76 to 0.90 with the model of November; 0.93 / 0.94 with the model of 4/12/2026), then
    the search encoder (``embedder``: a ``retrieval.dense.Embedder``)."""
    from knowledge_base.diacritics import DiacriticRestorer, corpus_texts

    restorer = DiacriticRestorer(corpus_texts(list(procedures)))
    return lambda texts: embedder.embed_queries([restorer.restore(t) for t in texts])
