"""Diacritic restoration for unaccented questions, with a bigram model of the domain's own text.

"lam lai so do bi mat" is the normal case. The lexical index compares folded text and does not
care, but an embedding model reads "so do" very differently from "sổ đỏ". Restoring the accents
before embedding closes most of that gap. The model is built from the catalogue (names,
documents, steps, results), the synonym, abbreviation and alias tables, a list of everyday
citizen phrases and the accented training questions (citizens' own words: "con trai", "đứng
tên"); a Viterbi search picks the likeliest accented form of each syllable given its neighbour.
Syllables the model has never seen are kept as typed.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Tuple

from core.text import fold, nfc
from knowledge_base.text import DATA_DIR, TRAINING_QUESTIONS, words

_START = "<s>"


class DiacriticRestorer:
    """Restores Vietnamese diacritics on folded syllables (bigram Viterbi, add-k smoothing)."""

    def __init__(self, texts: Iterable[str], k: float = 0.1):
        """Learn accented forms and their bigram counts from accented ``texts``."""
        self.unigrams: Counter = Counter()
        self.bigrams: Counter = Counter()
        self.candidates: Dict[str, List[str]] = defaultdict(list)
        for text in texts:
            tokens = [_START] + words(nfc(text.lower()))
            self.unigrams.update(tokens[1:])
            self.bigrams.update(zip(tokens, tokens[1:]))
        for form in self.unigrams:
            self.candidates[fold(form)].append(form)
        self.total = sum(self.unigrams.values()) or 1
        self.k = k
        self.vocab = len(self.unigrams) + 1

    def _logp(self, prev: str, cur: str) -> float:
        uni = (self.unigrams[cur] + self.k) / (self.total + self.k * self.vocab)
        prev_count = self.unigrams[prev] if prev != _START else self.total
        big = self.bigrams[(prev, cur)]
        # interpolate the bigram with the unigram so unseen pairs still rank by frequency
        return math.log(0.8 * big / max(prev_count, 1) + 0.2 * uni)

    def restore_tokens(self, tokens: List[str]) -> List[str]:
        """Accented form of each folded token; accented and unknown tokens stay as they are."""
        lattice: List[List[str]] = [(self.candidates.get(t) or [t]) if fold(t) == t else [t] for t in tokens]
        best: List[Dict[str, Tuple[float, str]]] = []
        prev_states: Dict[str, Tuple[float, str]] = {_START: (0.0, "")}
        for options in lattice:
            states: Dict[str, Tuple[float, str]] = {}
            for cur in options:
                states[cur] = max(((score + self._logp(prev, cur), prev) for prev, (score, _) in prev_states.items()),
                                  key=lambda x: x[0])
            best.append(states)
            prev_states = states
        out: List[str] = []
        state = max(prev_states, key=lambda s: prev_states[s][0]) if prev_states else None
        for states in reversed(best):
            assert state is not None  # best is empty when prev_states is
            out.append(state)
            state = states[state][1]
        return list(reversed(out))

    def restore(self, text: str) -> str:
        """Restore the accents of unaccented words (words already accented anchor their neighbours)."""
        return " ".join(self.restore_tokens(words(nfc(text.lower()))))


def corpus_texts(procedures: Iterable) -> List[str]:
    """Accented domain text: the catalogue, the data tables and everyday citizen phrases."""
    import yaml

    texts: List[str] = []
    for proc in procedures:
        texts.append(proc.name)
        texts.extend(proc.aliases)
        texts.extend(d.name for d in proc.documents)
        texts.extend(s.name for s in proc.steps)
        texts.extend(r.name for r in proc.results)
        if proc.conditions:
            texts.append(proc.conditions[:2000])
    synonyms = yaml.safe_load((DATA_DIR / "synonyms.yml").read_text(encoding="utf-8")) or {}
    texts.extend(f"{k} {v}" for k, v in synonyms.items())
    abbreviations = yaml.safe_load((DATA_DIR / "abbreviations.yml").read_text(encoding="utf-8")) or {}
    texts.extend(str(v) for v in abbreviations.values())  # the keys are shorthand, not Vietnamese
    texts.extend(line.strip() for line in (DATA_DIR / "common_phrases.txt").read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#"))
    if TRAINING_QUESTIONS.exists():  # citizens' own wording ("con trai", "đang đứng tên"), the accented ones
        questions = yaml.safe_load(TRAINING_QUESTIONS.read_text(encoding="utf-8")) or {}
        texts.extend(q for qs in questions.values() for q in qs if isinstance(q, str) and fold(q) != q.lower())
    return texts
