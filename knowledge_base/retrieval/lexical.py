"""Lexical index: BM25 over diacritic-folded syllables and syllable pairs."""
from __future__ import annotations

import functools
from collections import Counter
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import yaml
from scipy import sparse

from core.text import fold
from knowledge_base.text import DATA_DIR, TextNormalizer, words


def _phrases(name: str) -> Tuple[Tuple[str, ...], ...]:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        phrases = yaml.safe_load(fh) or []
    return tuple(sorted({tuple(words(fold(p))) for p in phrases}, key=lambda p: -len(p)))


@functools.lru_cache(maxsize=1)
def query_stopphrases() -> Tuple[Tuple[str, ...], ...]:
    """Folded aspect / politeness phrases removed from queries, longest first."""
    return _phrases("query_stopwords.yml")


@functools.lru_cache(maxsize=1)
def followup_phrases() -> Tuple[Tuple[str, ...], ...]:
    """Folded words that mark a follow-up rather than a procedure (see followup_words.yml)."""
    return _phrases("followup_words.yml")


@functools.lru_cache(maxsize=1)
def content_stopphrases() -> Tuple[Tuple[str, ...], ...]:
    """Aspect and follow-up phrases together, longest first: what is left names a procedure."""
    return tuple(sorted(set(query_stopphrases()) | set(followup_phrases()), key=lambda p: (-len(p), p)))


def strip_phrases(tokens: List[str], phrases: Sequence[Tuple[str, ...]]) -> List[str]:
    """Remove every occurrence of each phrase (token sequence) from ``tokens``."""
    present = set(tokens)
    for phrase in phrases:
        if not present.issuperset(phrase):  # the tokens only lose words: a phrase with a word not in them never matches
            continue
        k = len(phrase)
        i, out = 0, []
        while i < len(tokens):
            if tuple(tokens[i:i + k]) == phrase:
                i += k
            else:
                out.append(tokens[i])
                i += 1
        tokens = out
    return tokens


SEPARATOR = "|"


def terms(tokens: List[str]) -> List[str]:
    """Syllables plus adjacent syllable pairs ("so do" -> so, do, so_do); no pair spans a SEPARATOR."""
    unigrams = [t for t in tokens if t != SEPARATOR]
    pairs = [f"{a}_{b}" for a, b in zip(tokens, tokens[1:]) if SEPARATOR not in (a, b)]
    return unigrams + pairs


class LexicalIndex:
    """BM25 (k1, b) over folded syllables and pairs of a list of documents."""

    def __init__(self, docs: Sequence[Iterable[str]], k1: float = 1.2, b: float = 0.5):
        """Index ``docs``: each a list of folded tokens."""
        vocab: Dict[str, int] = {}
        rows, cols, vals, lengths = [], [], [], []
        for i, doc in enumerate(docs):
            counts = Counter(terms(list(doc)))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                rows.append(i)
                cols.append(vocab.setdefault(term, len(vocab)))
                vals.append(tf)
        n = len(lengths)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float32)
        df = np.bincount(tf.indices, minlength=len(vocab))
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        doc_lengths = np.asarray(lengths, dtype=np.float32)
        norm = k1 * (1 - b + b * doc_lengths / max(float(doc_lengths.mean()) if n else 1.0, 1e-6))
        tf = tf.tocoo()
        weights = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * idf[tf.col]
        self.matrix = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=(n, len(vocab)))
        self.vocab = vocab
        self.idf = idf
        self.size = n

    def weight(self, term: str) -> float:
        """How much a term says (its IDF); a term no document has says the most."""
        i = self.vocab.get(term)
        return float(self.idf[i]) if i is not None else float(self.idf.max(initial=1.0))

    def scores(self, query_tokens: List[str]) -> np.ndarray:
        """BM25 score of every document for the (already folded) query tokens."""
        ids = [self.vocab[t] for t in set(terms(query_tokens)) if t in self.vocab]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.matrix[:, ids].sum(axis=1)).ravel()


def query_tokens(normalizer: TextNormalizer, question: str) -> List[str]:
    """Folded tokens of a question with synonyms expanded and aspect phrases removed."""
    return strip_phrases(normalizer.folded_tokens(question), query_stopphrases())


def doc_tokens(texts: Iterable[str]) -> List[str]:
    """Folded tokens of a procedure's searchable texts (official wording: no expansion)."""
    out: List[str] = []
    for text in texts:
        out.extend(words(fold(text)))
        out.append(SEPARATOR)
    return out
