"""The knowledge base as one plain object: catalogue + retriever + answers (no Rasa imports)."""
from __future__ import annotations

import logging
import re
import threading
from typing import Dict, List, Optional, Sequence, Set

from core.settings import Settings, get_settings
from core.text import fold
from knowledge_base.answers import (
    QUOTED_ASPECTS,
    Answer,
    asked_together,
    compared,
    compose_answer,
    detect_aspect,
    offered_names,
    said_unsure,
    which_offered,
    which_procedure,
)
from knowledge_base.catalogue import Catalogue
from knowledge_base.checklist import admitted, case_in_reply, is_short_reply
from knowledge_base.conditions import conditions_said
from knowledge_base.limits import Limit, Limits
from knowledge_base.record_quotes import RecordQuotes
from knowledge_base.resolve import Context, Resolution, resolve
from knowledge_base.retrieval import handover
from knowledge_base.retrieval.dense import Embedder
from knowledge_base.retrieval.hybrid import HybridRetriever, SearchResult
from knowledge_base.retrieval.store import open_or_build
from knowledge_base.schema import Procedure
from knowledge_base.scope import OtherAgencies
from knowledge_base.situation import (
    FIRST_REQUEST,
    UNCLEAR_REQUEST,
    Situation,
    SituationTable,
    read_situation,
)
from knowledge_base.text import DURATION, words

# A first paper asked for in so many words (folded): "xin cấp giấy phép", "xin giấy phép", "cấp mới", "lần đầu";
# never with "lại" ("xin chứng nhận lại", "cấp lại"), nor "xin phép" (a polite "cho em xin phép hỏi")
_FIRST_WORDS = re.compile(r"\b(?:xin (?:cap|giay|chung|gcn)|cap moi|lan dau|de nghi cap)\b")
_AGAIN = re.compile(r"\blai\b")


log = logging.getLogger(__name__)


def _admitting(retriever: HybridRetriever) -> HybridRetriever:
    """``retriever`` with each procedure's kinds of applicant (``HybridRetriever.admit``), worked out once when the
    index is opened, not on a citizen's first search."""
    if retriever.admits is None:
        retriever.admit([admitted(p.applicants) for p in retriever.procedures])
    return retriever


class KnowledgeBase:
    """Loads the catalogue and the index lazily; searches and composes answers."""

    def __init__(self, settings: Optional[Settings] = None):
        """Use ``settings`` (default: from the environment)."""
        self.settings = settings or get_settings()
        self._catalogue: Optional[Catalogue] = None
        self._retriever: Optional[HybridRetriever] = None
        self._embedder: Optional[Embedder] = None
        self.rebuilt_because: Optional[str] = None
        self._loaded_manifest: Optional[float] = None
        self._watch_index = True  # reload when another process rebuilds settings.knowledge.index_dir
        self._mismatches: Set[str] = set()
        self._key: Optional[bytes] = None
        self._opening = threading.Lock()  # two first searches at once open (or rebuild) the index once
        self._quotes: Optional[RecordQuotes] = None

    @classmethod
    def over(cls, catalogue: Catalogue, retriever: HybridRetriever,
             settings: Optional[Settings] = None) -> KnowledgeBase:
        """A knowledge base over a catalogue and a retriever built elsewhere (tests, benchmarks).

        It never swaps them for the index in ``settings.knowledge.index_dir``.
        """
        kb = cls(settings)
        kb._catalogue, kb._retriever, kb._watch_index = catalogue, _admitting(retriever), False
        return kb

    def _manifest_mtime(self) -> Optional[float]:
        try:
            return (self.settings.knowledge.index_dir / "manifest.json").stat().st_mtime
        except OSError:
            return None

    def reload_if_rebuilt(self) -> bool:
        """Drop the loaded catalogue and index when another process rebuilt the index (staff changes)."""
        if not self._watch_index or self._retriever is None or self._manifest_mtime() == self._loaded_manifest:
            return False
        log.info("search index rebuilt elsewhere: reloading the catalogue and the index")
        self._catalogue = None
        self._retriever = None
        return True

    @property
    def catalogue(self) -> Catalogue:
        """The whole catalogue (all fields and levels)."""
        if self._catalogue is None:
            self._catalogue = Catalogue.load(self.settings.knowledge.catalogue_dir)
        return self._catalogue

    @property
    def embedder(self) -> Embedder:
        """The embedding model wrapper."""
        if self._embedder is None:
            self._embedder = Embedder.configured(self.settings)
        return self._embedder

    @property
    def retriever(self) -> HybridRetriever:
        """The retriever over the deployment's scope; a stale index is rebuilt first."""
        retriever = self._retriever
        if retriever is not None:
            return retriever
        with self._opening:
            if self._retriever is None:
                from knowledge_base.embedding.calibration import fit_calibration

                s = self.settings
                seen = self._manifest_mtime()  # before reading: an index written meanwhile is reloaded next time
                retriever, self.rebuilt_because = open_or_build(
                    self.catalogue, self.embedder, s.knowledge.index_dir, s.knowledge.scope_fields,
                    s.knowledge.scope_levels, calibrate=fit_calibration)
                self._retriever = _admitting(retriever)
                self._loaded_manifest = self._manifest_mtime() if self.rebuilt_because else seen
            return self._retriever

    def accept_query_vector(self, handed: object, message: str) -> bool:
        """Take the query vector the NLU computed for ``message`` (``retrieval.handover``), so the search does
        not encode it again. Only when signed with the servers' shared key, for this search's model, weights
        and query prefix, and for the text this search would itself embed for ``message``; False otherwise
        (then the search encodes it). Never raises: the handover only saves time.

        A handed vector opens the catalogue and the index if no search has yet (the search that follows needs
        them), never the model it spares; if they cannot be opened it is passed up and the search says why.
        """
        if not handed:
            return False
        try:
            retriever = self.retriever
            embedder = retriever.embedder
            if embedder is None or retriever.faiss is None:
                return False
            # the index's width, not the model's: taking a vector must not load the model it spares
            unpacked = handover.unpack(handed, embedder.signature, int(retriever.faiss.d), self._handover_key())
            if unpacked is None:
                self._note_mismatch("unsigned, for other weights or another prefix, or malformed")
                return False
            text, vector = unpacked
            if text != retriever.dense_query(message):
                self._note_mismatch("the NLU prepared the message unlike the search (restorer data or scope differ)")
                return False
            embedder.remember(text, vector, replace=False)
            return True
        except Exception as exc:  # a missing or broken index, an unreadable model folder or key file
            self._note_mismatch(f"{type(exc).__name__}: {exc}")
            return False

    def _handover_key(self) -> bytes:
        if self._key is None:
            self._key = handover.key_of(self.settings)
        return self._key

    def _note_mismatch(self, why: str) -> None:
        """Warn once per process that handed vectors are not used: each such message is encoded twice."""
        if why not in self._mismatches:
            self._mismatches.add(why)
            log.warning("query vector from the NLU not used (%s): the search encodes the message itself; "
                        "restart the Rasa server after changing the model, catalogue, scope or NLU data", why)

    def search(self, question: str, top_k: int = 5, mode: str = "hybrid") -> SearchResult:
        """Ranked procedures for a citizen's question; of two twins, the one not for the kind of applicant the
        question says the citizen is, as their own ("nhà tôi", "công ty tôi"), is no candidate
        (``HybridRetriever.admit``)."""
        self.reload_if_rebuilt()
        applicant = SituationTable.default().own_applicant(question)  # "công ty tôi", "nhà tôi"; not "cán bộ công ty"
        return self.retriever.search(question, top_k=top_k, mode=mode, applicant=applicant)

    def resolve(self, text: str, context: Optional[Context] = None) -> Resolution:
        """Which procedure ``text`` means given what the conversation knows (see ``knowledge_base.resolve``)."""
        return resolve(self, text, context)

    def mentions_procedure(self, question: str) -> bool:
        """Whether the question names something to search for, beyond aspect words.

        "còn lệ phí thì sao?" does not (a follow-up on the procedure under discussion);
        "lệ phí tách thửa" does.
        """
        vocab = self.retriever.lexical.vocab
        return any(t in vocab for t in self._content_tokens(question))

    def request_in(self, text: str) -> Optional[str]:
        """What ``text`` asks to do with a paper already held (an action of ``actions.yml``: "reissue" for "mất giấy
        phép"), ``UNCLEAR_REQUEST`` when it asks several ("hết hạn": extended or issued again), ``FIRST_REQUEST``
        when it asks for a first one in so many words ("xin cấp", "cấp mới", "lần đầu"), else None: a message that
        only names the paper says nothing of what the citizen holds."""
        if not text or text.startswith("/"):  # a button's payload says nothing in the citizen's words
            return None
        retriever = self.retriever
        normalized = retriever.normalizer.normalize(text)
        asked = retriever.actions.table.asked_in(normalized)
        if asked:
            return next(iter(asked)) if len(asked) == 1 else UNCLEAR_REQUEST
        folded = fold(normalized).lower()
        return FIRST_REQUEST if _FIRST_WORDS.search(folded) and not _AGAIN.search(folded) else None

    def situation_in(self, text: str, code: Optional[str] = None, known: Sequence[str] = ()) -> Situation:
        """What ``text`` says of the citizen's situation (``read_situation``), of their request (``request_in``) and,
        for procedure ``code``, which of its alternative papers' conditions are named, the ``known`` ones updated
        by it (``conditions_said``)."""
        proc = self.catalogue.get(code) if code else None
        said = conditions_said(proc, text, known) if proc is not None else tuple(known)
        return read_situation(text).with_request(self.request_in(text)).with_said(said)

    def _content_tokens(self, question: str) -> List[str]:
        """The question's folded tokens without aspect and follow-up words, where the citizen is and parcel numbers
        ("có mất phí không, mình ở xã Bình Minh" names nothing: the citizen is asked which procedure, not told that
        none was found, and staff are not given it as a gap)."""
        from knowledge_base.grouping import without_place
        from knowledge_base.retrieval.lexical import content_stopphrases, strip_phrases

        # one pass, longest first: "mất bao nhiêu tiền" goes whole, before the aspect phrase
        # "bao nhiêu tiền" alone could leave a bare "mất" that reads as a lost certificate
        tokens = self.retriever.normalizer.folded_tokens(without_place(question))
        return strip_phrases(tokens, content_stopphrases())

    def other_agency(self, question: str) -> Optional[str]:
        """The agency that handles ``question`` when it names another agency's service, else None.

        "làm căn cước mất bao lâu" names the police's service: the police. "sang tên sổ đỏ có cần
        căn cước không" also names something of ours: None. Only the table decides (see
        ``scope``); staff extend its ``ours`` list when the console shows a question of ours
        logged as ``other_agency``. Asking the search whether the rest of the question still
        finds a procedure was tried: generic words ("cấp đổi ở đâu", "đăng ký cần gì") find one
        surely, so 10 of 131 other agencies' questions in the NLU data were kept as ours.
        """
        return OtherAgencies.default().agency_for(question)

    def limit_for(self, question: str) -> Optional[Limit]:
        """The part of a case another agency decides (tax, notarisation…) that ``question`` asks about, if any."""
        return Limits.default().find(question)

    def asks_of(self, code: str, aspect: str, question: str) -> bool:
        """Whether the words the question names are, in their order, what the procedure's record says about
        ``aspect``: every word and every two neighbouring words occur in that part of the record.

        "phí thẩm định an toàn dịch bệnh" about a farm whose fee is a "phí thẩm định đối với cơ sở an toàn dịch
        bệnh" asks that fee, though the search, on its own, reads "thẩm định" as the environmental appraisal.
        Only the aspect's own part of the record counts (fees for a fee question, not the whole record; for a time
        question the time notes and only the sentences that say how long something takes, not the steps' other
        prose, which names other procedures), and pairs of words, not syllables
        alone: "lệ phí tách thửa" during a transfer, or "cấp đổi sổ đỏ nộp ở đâu", still names another one.
        """
        proc = self.catalogue.get(code)
        asked = self._content_tokens(question)
        section = _aspect_text(proc, aspect) if proc is not None else ""
        if not asked or not section:
            return False
        said = self.retriever.normalizer.folded_tokens(section)
        pairs = set(zip(said, said[1:]))
        return set(asked) <= set(said) and all(pair in pairs for pair in zip(asked, asked[1:]))

    def within(self, code: str, question: str) -> bool:
        """Whether the question names something (beyond aspect and follow-up words) and every word of it is one of
        the procedure's own, as the search indexes them (name, aliases, field, result): "mất bao lâu thì có sổ" of
        the transfer procedure, whose aliases say "sổ đỏ"."""
        asked = self._content_tokens(question)
        own = self.retriever.own_words(code)
        return bool(asked) and own is not None and set(asked) <= own

    def record_quote(self, proc: Procedure, question: str) -> Optional[str]:
        """The sentence of ``proc``'s record that answers a pointed question ("có phải niêm yết không"), if one
        does (see ``record_quotes``); the word weights are counted over the scope's records once per index."""
        from knowledge_base.retrieval.lexical import content_stopphrases, strip_phrases

        retriever = self.retriever
        normalizer = retriever.normalizer

        def tokens(text: str) -> List[str]:  # the question's own words, without the synonym table's additions
            return words(fold(normalizer.normalize(text)))

        quotes = self._quotes
        if quotes is None or quotes.procedures is not retriever.procedures:
            quotes = self._quotes = RecordQuotes(retriever.procedures, tokens)
        # who asks is no part of the question unless the record says it: "công ty tôi mất sổ có phải đăng báo hay niêm
        # yết gì không" quotes the record's "Niêm yết công khai …", though no sentence of it says "công ty"
        asked = strip_phrases(tokens(question), content_stopphrases())
        return quotes.quote(proc, asked, SituationTable.default().applicant_words(question)) if asked else None

    def _quote_for(self, proc: Procedure, question: str, aspect: str) -> Optional[str]:
        """The record's sentence an answer on ``aspect`` quotes for ``question`` (``record_quote``): for a time, only
        one that says a time ("gia hạn giấy phép khai thác nhóm IV mất bao lâu" quoted a step sending the file to the
        province's chairman, for its "nhóm IV")."""
        if aspect not in QUOTED_ASPECTS:
            return None
        quote = self.record_quote(proc, question)
        return quote if quote and (aspect != "time" or DURATION.search(quote)) else None

    def says_only_who(self, question: str) -> bool:
        """Whether the message only tells who the citizen is ("tôi là người nước ngoài", "công ty tôi ạ"), nothing
        else: no procedure is sure from it alone. A question beside it ("việt kiều có được ủy quyền không") is not."""
        return SituationTable.default().says_only_who(question)

    def names_nothing(self, question: str) -> bool:
        """Whether the question is only an aspect and follow-up words ("nộp ở đâu?", "mất bao lâu").

        Unlike ``not mentions_procedure``, a word the catalogue does not know ("flycam") counts
        as naming something: that is a gap for staff, not a question to ask back.
        """
        return not self._content_tokens(question)

    def which_procedure(self, aspect: str) -> Answer:
        """Ask which procedure an aspect question is about (see ``answers.which_procedure``)."""
        s = self.settings
        return which_procedure(aspect, self.catalogue.in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels))

    def which_offered(self, aspect: str, codes: Sequence[str], situation: Optional[Situation] = None,
                      question: str = "") -> Optional[Answer]:
        """Offer the procedures just offered again for an aspect asked without a pick, with each one's time, fee,
        place or form where it is brief (see ``answers.which_offered``); None if none is known."""
        procs = self._known(codes)
        return which_offered(aspect, procs, situation, question) if procs else None

    def compared(self, aspect: str, codes: Sequence[str], situation: Optional[Situation] = None,
                 question: str = "") -> Optional[str]:
        """Close procedures first offered for a question about a time, fee, place or form, each with its own (see
        ``answers.compared``); None when no record gives it briefly."""
        return compared(aspect, self._known(codes), situation or Situation(), first=True, question=question)

    def unsure_case_question(self, code: str, question: str, situation: Situation) -> Optional[Answer]:
        """For papers asked of one close procedure the search is not sure of, whose checklist turns on a case the
        citizen has not said: that case question, said unsure, so that one tap both confirms the procedure and says
        the case ("Tôi muốn làm thủ tục sang tên quyền sử dụng đất, hồ sơ gồm những gì?"). None when its checklist
        asks no case: the procedure is offered to confirm as any other."""
        asked = self.answer(question, aspect="documents", code=code, situation=situation)
        return said_unsure(asked) if asked.ask_case else None

    def short_names(self, codes: Sequence[str]) -> Dict[str, str]:
        """The short name a chat shows for each known code offered together ("Đăng ký biến động: chuyển nhượng,
        thừa kế…"), with its level where two share one (``answers.offered_names``)."""
        procs = self._known(codes)
        return {p.code: name for p, name in zip(procs, offered_names(procs))}

    def _known(self, codes: Sequence[str]) -> List[Procedure]:
        """The catalogue's procedures of ``codes`` (slots and buttons may carry a code no longer in it)."""
        return [p for p in (self.catalogue.get(str(c)) for c in codes) if p is not None]

    def case_in_reply(self, code: str, reply: str, by_words: bool = True) -> Optional[int]:
        """The document case of ``code`` (1-based) a reply to "which case is yours?" chooses, if any (see
        ``checklist.case_in_reply``)."""
        proc = self.catalogue.get(code)
        return case_in_reply(proc, reply, by_words=by_words) if proc is not None else None

    def document_case_count(self, code: str) -> int:
        """How many document cases the record of ``code`` lists (0 when unknown)."""
        proc = self.catalogue.get(code)
        return len(proc.document_cases) if proc is not None else 0

    @staticmethod
    def is_short_reply(text: str) -> bool:
        """Whether a message reads as a short answer to the bot's question, not a new question."""
        return is_short_reply(text)

    def same_field(self, code: str, other: str) -> bool:
        """Whether two procedures belong to one field (land, fisheries…); unknown codes belong to none."""
        a, b = self.catalogue.get(code), self.catalogue.get(other)
        return a is not None and b is not None and a.field == b.field

    def answer(self, question: str, aspect: Optional[str] = None, code: Optional[str] = None,
               case: Optional[int] = None, situation: Optional[Situation] = None, page: int = 1) -> Answer:
        """Answer ``question`` (about ``code`` if given) on ``aspect`` (detected if not given).

        ``situation`` is what the citizen said about themselves (read from ``question`` when not
        given); ``case`` (1-based) picks the document case to show when the record has several;
        ``page`` the page of a long checklist.
        """
        aspect, also = asked_together(question, aspect or detect_aspect(question))
        situation = situation if situation is not None else self.situation_in(question, code)
        if code:
            proc = self.catalogue.get(code)
            if proc is None:
                return compose_answer(None, aspect, self.settings, candidates=[])
            quote = self._quote_for(proc, question, aspect) if question else None
            return compose_answer(proc, aspect, self.settings, case=case, situation=situation, page=page,
                                  quote=quote, question=question, also=also)
        # a question with no conversation around it (the CLI): even one close procedure is offered, not answered
        result = self.search(question, top_k=3)
        found = self.catalogue.get(result.best.code) if result.decision == "answer" and result.best else None
        if found is not None:
            situation = situation.with_said(conditions_said(found, question, situation.said))
            quote = self._quote_for(found, question, aspect)
            return compose_answer(found, aspect, self.settings, case=case, situation=situation, quote=quote,
                                  question=question, also=also)
        offered = result.choices(3) if result.decision == "choose" else []
        candidates = [p for p in (self.catalogue.get(h.code) for h in offered) if p is not None]
        return compose_answer(None, aspect, self.settings, candidates=candidates)


def _aspect_text(proc: Procedure, aspect: str) -> str:
    """What the record says about one aspect: its fees, time notes, filing places (where), step names, conditions
    or results; empty for the other aspects (documents, channels, legal, general), whose words are the
    procedure's whole subject or the same for every procedure."""
    if aspect == "fees":
        return " ".join([proc.province_fees, *(f.text for c in proc.channels for f in c.fees)])
    if aspect == "time":  # and what says how long a channel or a step takes ("… thanh toán … trong 07 ngày làm việc")
        timed = [c.description for c in proc.channels] + [s.name for s in proc.steps]
        return " ".join([*(c.time.note for c in proc.channels), *(t for t in timed if DURATION.search(t))])
    if aspect == "where":
        return " ".join(p.where for p in proc.filing_places)
    if aspect == "steps":
        return " ".join(s.name for s in proc.steps)
    if aspect == "conditions":
        return proc.conditions
    if aspect == "result":
        return " ".join(r.name for r in proc.results)
    return ""
