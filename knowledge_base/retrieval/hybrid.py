"""Hybrid retriever: lexical BM25 + dense FAISS, fused by reciprocal rank, with a calibrated confidence.

The confidence also weighs how close the question is to the citizen-worded questions known for each
candidate (``training_questions.yml``, embedded at index build): a question worded as citizens word one
procedure is surer of it than the official name alone can make it.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import numpy as np

from knowledge_base.diacritics import DiacriticRestorer, corpus_texts
from knowledge_base.retrieval.actions import ActionTable, ProcedureActions
from knowledge_base.retrieval.dense import Embedder
from knowledge_base.retrieval.levels import LevelTable, ProcedureLevels
from knowledge_base.retrieval.lexical import LexicalIndex, doc_tokens, query_tokens
from knowledge_base.retrieval.texts import dense_text, display_name, lexical_texts
from knowledge_base.schema import Procedure
from knowledge_base.text import TextNormalizer, clean_space, phrasing_key

RRF_K = 20
CANDIDATES = 30
# Confidence bands: answer directly, offer 2-3 choices, or admit not knowing.
# Answer from here unless the fit chose its own threshold (Calibration.answer_at, see embedding.calibration)
ANSWER_AT = 0.7
RERANK_POOL = 8  # fused candidates the calibrated confidence reranks, whatever the caller shows
# Citizen-worded questions nearest a question that vote for their procedure (a confidence feature, weighed by the
# coverage). Chosen on the calibration set, cross-validated (5/12/2026): with 3, 5, 7 or 10 of them, held out, the
# fit answered 60, 64, 65 and 65 % of the citizen questions at 97 % right, against 56 % without the vote; with the
# nearest one alone, 51 %. Weighed by the coverage, 63 %: the vote alone made the tests' index (the base model, land
# only) as sure of "sổ tiết kiệm bị mất thì làm lại thế nào" as of a lost land certificate, all of whose nearest
# questions are about one, and its fit then answered only from 0.9.
NEAREST = 7
# Offer choices from here: in `make bench-calibration`, held-out citizen questions whose top confidence was
# 0.10-0.20 had the right procedure among the three offered for 83-100 % of them.
CHOOSE_AT = 0.1



@dataclass
class Hit:
    """One ranked procedure."""

    code: str
    name: str
    score: float  # the rank fusion's score (a feature of the confidence)
    confidence: float = 0.0  # calibrated P(this is the procedure asked about): the ranking
    dense: float = 0.0
    lexical: float = 0.0
    dense_rank: Optional[int] = None
    lexical_rank: Optional[int] = None

    def to_json(self) -> dict:
        """The CLI contract's fields; ``score`` is what the hits are ranked by (the calibrated confidence)."""
        return {"code": self.code, "name": self.name, "score": round(self.confidence, 4)}


@dataclass
class SearchResult:
    """Ranked hits plus the decision a caller should take."""

    hits: List[Hit]
    decision: str  # "answer" | "choose" | "unknown"

    @property
    def best(self) -> Optional[Hit]:
        """The top hit, if any."""
        return self.hits[0] if self.hits else None

    def choices(self, n: int = 3) -> List[Hit]:
        """Hits worth offering when the decision is 'choose'."""
        if not self.hits:
            return []
        floor = self.hits[0].confidence * 0.25
        return [h for h in self.hits[:n] if h.confidence >= floor]


@dataclass
class QueryScores:
    """What ranking a question takes: per-procedure lexical, dense and example scores (None where the mode
    leaves them out), the question's content words and the actions it asks for (see ``actions``)."""

    lex: Optional[np.ndarray]
    den: Optional[np.ndarray]
    ex: Optional[np.ndarray] = None
    content: FrozenSet[str] = frozenset()
    asked: FrozenSet[str] = frozenset()
    nearest: Optional[np.ndarray] = None  # the procedures (indices) of the NEAREST examples, nearest first
    level: Optional[str] = None  # the administrative level the question names ("ubnd xã"), if one
    said: FrozenSet[str] = frozenset()  # the actions the question names in its own words ("cấp lại"), of ``asked``
    applicant: Optional[str] = None  # the kind of applicant the citizen calls their own ("nhà tôi": household), if any


def lead(top: float, second: float) -> float:
    """How far the top candidate leads the next: the chance that it is the right one of the two if one of them is,
    each confidence taken on its own (``top * (1 - second)`` against ``second * (1 - top)``). Two procedures at 0.89
    and 0.88 ("công nhận nghề truyền thống" and "công nhận làng nghề truyền thống") lead 0.51: a coin to toss, not an
    answer to give."""
    ahead, behind = top * (1.0 - second), second * (1.0 - top)
    return ahead / (ahead + behind) if ahead + behind > 0 else 0.0


@dataclass
class Calibration:
    """Logistic map from ranking features to P(top hit is right), fitted at build time."""

    # dense cosine, lexical share, fused gap, agreement, coverage, example cosine, example margin, example cosine
    # squared, action mismatch, unasked action, nearest examples' vote times coverage
    weights: List[float] = field(default_factory=lambda: [6.0, 2.0, 1.5, 1.0, 2.0, 0.0, 0.0, 0.0, -1.0, -1.0, 0.0])
    bias: float = -4.0
    answer_at: float = ANSWER_AT  # the confidence from which the search answers, chosen with the fit
    # below it, a lone candidate is answered too: from ``alone_at`` when no other candidate is above ``alone_second``
    # (chosen with the fit, see embedding.calibration.lone_rule; by default never: no confidence reaches 1)
    alone_at: float = 1.0
    alone_second: float = 0.0
    # from ``answer_at`` on, the top is answered only when it leads the next candidate by this much (``lead``; chosen
    # with the fit, see embedding.calibration.LEAD_AT; 0, no lead asked, for an index built before it)
    lead_at: float = 0.0

    def answers(self, top: float, second: float) -> bool:
        """Whether a search whose best candidates have these confidences answers, not asks."""
        return (top >= self.answer_at and lead(top, second) >= self.lead_at) \
            or (top >= self.alone_at and second <= self.alone_second)

    def probability(self, features: Sequence[float]) -> float:
        """Calibrated probability for one feature vector."""
        z = self.bias + sum(w * x for w, x in zip(self.weights, features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _content(tokens: Sequence[str]) -> FrozenSet[str]:
    """The words of a question's ``query_tokens`` that say what it is about (one-letter words say nothing)."""
    return frozenset(t for t in tokens if len(t) > 1)


class HybridRetriever:
    """Searches procedures by a citizen's question; lexical-only or dense-only modes for benchmarks."""

    def __init__(self, procedures: Sequence[Procedure], embedder: Optional[Embedder],
                 faiss_index=None, passage_owner: Optional[Sequence[int]] = None,
                 normalizer: Optional[TextNormalizer] = None, calibration: Optional[Calibration] = None,
                 examples: Optional[np.ndarray] = None, example_owner: Optional[Sequence[int]] = None,
                 actions: Optional[ActionTable] = None, levels: Optional[LevelTable] = None):
        """``faiss_index`` (one vector per passage) and ``passage_owner`` come from ``store``, and so do
        ``examples`` (one query vector per citizen-worded question) and ``example_owner``."""
        self.procedures = list(procedures)
        self.normalizer = normalizer or TextNormalizer.default()
        docs = [doc_tokens(lexical_texts(p)) for p in self.procedures]
        self.lexical = LexicalIndex(docs)
        self.words_of = [frozenset(doc) for doc in docs]  # each procedure's folded words (the coverage feature)
        self._index_of = {p.code: i for i, p in enumerate(self.procedures)}
        self.embedder = embedder
        self.restorer = DiacriticRestorer(corpus_texts(self.procedures))
        # read with the index, not once per process: a rebuild after staff edit actions.yml loads both anew
        names = [p.name for p in self.procedures]
        self.actions = ProcedureActions.of(names, actions or ActionTable.load())
        self.level_table = levels or LevelTable.load()
        self.levels = ProcedureLevels.of(names, [p.levels for p in self.procedures])
        # the kinds of applicant each procedure is for (``admit``); None: a twin is never ruled out by them
        self.admits: Optional[Tuple[FrozenSet[str], ...]] = None
        self.calibration = calibration or Calibration()
        self.faiss = faiss_index
        self.owner = np.asarray(passage_owner if passage_owner is not None else [], dtype=np.int64)
        self.examples: Optional[np.ndarray] = None
        self.set_examples(examples, example_owner)
        self._prepared = functools.lru_cache(maxsize=4096)(self._prepare)
        # a phrasing staff mapped to one procedure (its alias) is that procedure's, however sure the fit would be
        said: Dict[str, Set[int]] = {}
        for i, proc in enumerate(self.procedures):
            for alias in proc.aliases:
                said.setdefault(phrasing_key(alias), set()).add(i)
        self._alias_of = {key: next(iter(owners)) for key, owners in said.items() if key and len(owners) == 1}

    def set_examples(self, examples: Optional[np.ndarray], owner: Optional[Sequence[int]]) -> None:
        """Use ``examples`` (one unit vector per known question; None: none) owned by procedure ``owner[i]``.
        They are kept grouped by procedure, so a search takes each one's best with one reduction."""
        owners = np.asarray(owner if owner is not None else [], dtype=np.int64)
        if examples is None or not len(examples):
            self.examples, self.example_owner = None, owners
            return
        order = np.argsort(owners, kind="stable")
        self.examples, self.example_owner = np.ascontiguousarray(examples[order]), owners[order]
        self._example_procs, self._example_starts = np.unique(self.example_owner, return_index=True)

    def own_words(self, code: str) -> Optional[FrozenSet[str]]:
        """The folded words the lexical index holds for a procedure (None for a code not indexed)."""
        index = self._index_of.get(code)
        return self.words_of[index] if index is not None else None

    # ------------------------------------------------------------------ scoring
    def lexical_scores(self, question: str) -> np.ndarray:
        """BM25 score per procedure."""
        return self.lexical.scores(query_tokens(self.normalizer, question))

    def dense_query(self, question: str) -> str:
        """The text embedded for a question (see ``dense_text``), prepared once per recent question: the
        handover check and the search that follows it ask for the same one."""
        return self._prepared(question)

    def forget_prepared(self) -> None:
        """Drop the prepared questions (a benchmark measuring questions never seen)."""
        self._prepared.cache_clear()

    def _prepare(self, question: str) -> str:
        return dense_text(self.normalizer, self.restorer, question)

    def query_vector(self, question: str) -> Optional[np.ndarray]:
        """The question's embedding (1 x dimension; cached by the embedder), or None without a dense index."""
        if self.faiss is None or self.embedder is None:
            return None
        return self.embedder.embed_queries([self.dense_query(question)])

    def embed_ahead(self, questions: Sequence[str]) -> None:
        """Embed ``questions`` in batches of like length into the query cache before they are searched one by one
        (the index build's calibration questions: on 5/12/2026, 1,151 in 16 s instead of 22 one pass each)."""
        if self.faiss is not None and self.embedder is not None:
            self.embedder.embed_queries([self.dense_query(q) for q in questions])

    def dense_scores(self, question: str, vector: Optional[np.ndarray] = None) -> np.ndarray:
        """Best passage cosine per procedure (0 where no passage was retrieved); ``vector`` is the question's
        ``query_vector`` when the caller has it."""
        scores = np.zeros(len(self.procedures), dtype=np.float32)
        vec = vector if vector is not None else self.query_vector(question)
        if vec is None:
            return scores
        k = min(len(self.owner), CANDIDATES * 4)
        sims, idx = self.faiss.search(vec, k)
        for sim, i in zip(sims[0], idx[0]):
            if i < 0:
                continue
            owner = self.owner[i]
            if sim > scores[owner]:
                scores[owner] = sim
        return scores

    def example_scores(self, vector: Optional[np.ndarray]) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """Per procedure, the best cosine between the question's vector and its citizen-worded questions (0 for a
        procedure without any), and the procedures of the ``NEAREST`` of those questions, nearest first; (None, None)
        without examples."""
        if vector is None or self.examples is None:
            return None, None
        scores = np.zeros(len(self.procedures), dtype=np.float32)
        cosines = self.examples @ vector[0]
        best = np.maximum.reduceat(cosines, self._example_starts)
        scores[self._example_procs] = np.maximum(best, 0.0)
        k = min(NEAREST, len(cosines))
        near = np.argpartition(-cosines, k - 1)[:k]
        return scores, self.example_owner[near[np.argsort(-cosines[near], kind="stable")]]

    def admit(self, admits: Sequence[FrozenSet[str]]) -> None:
        """The kinds of applicant each procedure is for, in index order (empty where its record names none): of two
        twins, the one not for the kind a question says is no candidate (``ProcedureLevels.not_for``)."""
        if len(admits) != len(self.procedures):
            raise ValueError(f"{len(admits)} procedures' applicants for {len(self.procedures)} procedures")
        self.admits = tuple(admits)

    def search(self, question: str, top_k: int = 5, mode: str = "hybrid",
               applicant: Optional[str] = None) -> SearchResult:
        """Rank procedures for ``question``; ``mode`` is 'hybrid', 'lexical' or 'dense'; ``applicant``: the kind of
        applicant the citizen says they are, which rules out a twin not for them (see ``admit``)."""
        if not clean_space(question) or not self.procedures:
            return SearchResult([], "unknown")
        scores = self.scores(question, mode)
        result = self.rank(replace(scores, applicant=applicant) if applicant else scores, top_k)
        staff = self._alias_of.get(phrasing_key(question)) if mode == "hybrid" else None
        if staff is not None and result.hits and result.hits[0].code == self.procedures[staff].code:
            # "cho tôi hỏi vụ làm giấy cho cái ao cá", which staff mapped to 1.013978 from the review queue: answered,
            # though its only known question is the alias itself (no citizen-worded question votes for it)
            return SearchResult(result.hits, "answer")
        return result

    def scores(self, question: str, mode: str = "hybrid") -> QueryScores:
        """What ``rank`` and ``features`` take for ``question`` in ``mode``."""
        tokens = query_tokens(self.normalizer, question)  # once: the lexical scores and the content words read them
        lex = self.lexical.scores(tokens) if mode in ("hybrid", "lexical") else None
        vec = self.query_vector(question) if mode in ("hybrid", "dense") else None
        den = self.dense_scores(question, vec) if mode in ("hybrid", "dense") else None
        ex, nearest = self.example_scores(vec) if mode == "hybrid" else (None, None)
        normalized = self.normalizer.normalize(question)
        asked, said = self.actions.table.requests_in(normalized)
        return QueryScores(lex, den, ex, _content(tokens), asked, nearest, self.level_table.named_in(normalized), said)

    def content_words(self, question: str) -> FrozenSet[str]:
        """The question's folded words that say what it is about (aspect phrases removed: ``query_tokens``)."""
        return _content(query_tokens(self.normalizer, question))

    def rank(self, scores: QueryScores, top_k: int = 5) -> SearchResult:
        """Fuse per-procedure lexical, dense and example scores (any may be None) into ranked hits, then rerank
        them by the calibrated confidence.

        The content words give the coverage feature: a match that leaves half the question unexplained
        ("nuôi chim yến" read as "nhận chìm") is not a sure one. The example scores give the example features,
        the asked actions the action features.
        """
        lex, den = scores.lex, scores.den
        ranks: Dict[int, float] = {}
        lex_rank = self._ranks(lex)
        den_rank = self._ranks(den)
        # the procedures whose citizen-worded questions come nearest join the pool too: a citizen's situation is
        # often closer to how others asked about it than to the official name (5/12/2026, on set D, never tuned
        # on, with one fit: hit@1 0.860 -> 0.869, hit@3 0.955 -> 0.974; chosen on set C: 0.976 -> 0.991)
        for table in (lex_rank, den_rank, self._ranks(scores.ex)):
            for i, r in table.items():
                ranks[i] = ranks.get(i, 0.0) + 1.0 / (RRF_K + r)
        order = sorted(ranks, key=lambda i: -ranks[i])[:max(top_k, RERANK_POOL)]
        # of one procedure at two levels, the one not handled at the level the question names is no candidate (its
        # closeness then says nothing against the other's confidence)
        ruled_out = self.levels.ruled_out(order, scores.level)
        order = [i for i in order if i not in ruled_out]
        # of the twins left whose records name different applicants, the one not for the kind of applicant the citizen
        # says they are, likewise ("nhà tôi"; docs/answers.md): after the level, so that the two never rule out both
        not_for = self.levels.not_for(order, scores.applicant, self.admits)
        order = [i for i in order if i not in not_for]
        hits = [Hit(code=self.procedures[i].code, name=display_name(self.procedures[i].name), score=ranks[i],
                    dense=float(den[i]) if den is not None else 0.0,
                    lexical=float(lex[i]) if lex is not None else 0.0,
                    dense_rank=den_rank.get(i), lexical_rank=lex_rank.get(i)) for i in order]
        for i, hit in enumerate(hits):
            hit.confidence = self.calibration.probability(self.features(hits, i, scores))
        # rerank the fused candidates by calibrated confidence: it weighs agreement, the gap and how much of
        # the question each procedure's own text explains, which the rank fusion alone does not
        hits.sort(key=lambda h: -h.confidence)
        decision = self._decide(hits, self.calibration)
        if decision == "answer" and self.actions.contradicts(scores.said, self._index_of[hits[0].code]):
            # a sure match on the paper, for another thing done with it: the citizen picks (on set D, 7/12/2026, this
            # turned no answer into a choice; "cấp lại giấy phép hành nghề khoan" was answered with its return)
            decision = "choose"
        if decision == "unknown" and not_for and hits:
            # the pair was close enough to offer before one of them was ruled out: the other is offered still
            decision = "choose" if self.rank(replace(scores, applicant=None), top_k).decision != "unknown" else decision
        return SearchResult(hits[:top_k], decision)

    @staticmethod
    def _ranks(scores: Optional[np.ndarray]) -> Dict[int, int]:
        if scores is None:
            return {}
        top = np.argsort(-scores, kind="stable")[:CANDIDATES]
        return {int(i): r + 1 for r, i in enumerate(top) if scores[i] > 0}

    def features(self, hits: List[Hit], i: int, scores: QueryScores) -> List[float]:
        """Features of hit ``i``: dense cosine, lexical share, fused gap to the best other hit, agreement,
        the share of the question's content words the procedure's own text holds, the best cosine to the
        procedure's citizen-worded questions, its margin over the best other hit's (after ``rank``) and its
        square (a near-copy of a citizen's question says more than a linear step up), and whether the
        procedure does what the question asks (``actions.features``), and the share of the ``NEAREST`` citizen-worded
        questions that are the procedure's (several near ones agreeing say more than the nearest alone) times the
        coverage (a vote for a procedure whose own words leave half the question unexplained counts for little)."""
        lex, ex, content = scores.lex, scores.ex, scores.content
        hit = hits[i]
        lex_max = float(lex.max()) if lex is not None and lex.size and lex.max() > 0 else 1.0
        best_other = max((h.score for j, h in enumerate(hits) if j != i), default=0.0)
        gap = (hit.score - best_other) * (RRF_K + 1)
        agree = float(hit.dense_rank == 1) + float(hit.lexical_rank == 1)
        index = self._index_of.get(hit.code)
        covered = 1.0
        if content and index is not None:  # weighted by what each word says: "có" little, "yến" much
            total = sum(self.lexical.weight(w) for w in content)
            covered = sum(self.lexical.weight(w) for w in content & self.words_of[index]) / max(total, 1e-6)
        example = margin = 0.0
        if ex is not None and index is not None:
            example = float(ex[index])
            others = [float(ex[self._index_of[h.code]]) for j, h in enumerate(hits)
                      if j != i and h.code in self._index_of]
            margin = example - max(others, default=0.0)
        actions = self.actions.features(scores.asked, index) if index is not None else [0.0, 0.0]
        near = scores.nearest
        vote = float(np.sum(near == index)) / NEAREST if near is not None and index is not None else 0.0
        return [hit.dense, hit.lexical / lex_max if lex is not None else 0.0, gap, agree, covered, example, margin,
                example * example, *actions, vote * covered]

    @staticmethod
    def _decide(hits: List[Hit], calibration: Calibration) -> str:
        if not hits:
            return "unknown"
        top = hits[0].confidence
        if calibration.answers(top, hits[1].confidence if len(hits) > 1 else 0.0):
            return "answer"
        if top >= CHOOSE_AT or sum(h.confidence for h in hits[:3]) >= calibration.answer_at:
            return "choose"
        return "unknown"
