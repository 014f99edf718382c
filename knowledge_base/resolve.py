"""The one answer to "which procedure does this message mean?" (no Rasa imports).

``resolve(kb, text, context)`` weighs what the conversation already knows (``Context``: the procedure
under discussion, the aspect asked, a code a button carries, the choices offered) against the message's
own words and the search, and says one of three things (``Resolution``): answer (one procedure, with a
confidence), choices (2-3 close procedures to offer) or none (why, with the procedures considered, for
the review log). The search's thresholds decide between them; nothing here sets a threshold of its own.

The same message means different things at different points of a dialogue, so the context names its
``policy``: a question about a procedure (``QUESTION``), a pick among offered choices (``PICK``), a
message the classifier could not place, which only a sure match may answer (``SURE``), and a question
about something else that keeps the procedure under discussion unless its words name another one
(``KEEP``, e.g. "nộp hôm nay thì bao giờ có kết quả?").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence, Tuple

from knowledge_base.catalogue import Catalogue
from knowledge_base.limits import Limit
from knowledge_base.retrieval.hybrid import Hit, SearchResult
from knowledge_base.text import ordinal_in, reply_to_offer


class KnowledgeBase(Protocol):
    """What resolving needs of the knowledge base (knowledge_base.service.KnowledgeBase has it)."""

    @property
    def catalogue(self) -> Catalogue: ...

    def search(self, question: str, top_k: int = 5, mode: str = "hybrid") -> SearchResult: ...

    def mentions_procedure(self, question: str) -> bool: ...

    def other_agency(self, question: str) -> Optional[str]: ...

    def names_nothing(self, question: str) -> bool: ...

    def says_only_who(self, question: str) -> bool: ...

    def asks_of(self, code: str, aspect: str, question: str) -> bool: ...

    def within(self, code: str, question: str) -> bool: ...

    def limit_for(self, question: str) -> Optional[Limit]: ...

ANSWER, CHOICES, NONE = "answer", "choices", "none"
QUESTION, PICK, SURE, KEEP = "question", "pick", "sure", "keep"
POLICIES = (QUESTION, PICK, SURE, KEEP)
TOP_K = 3  # hits searched, offered as choices and logged as considered



@dataclass(frozen=True)
class Context:
    """What the conversation already knows when the message arrives."""

    current: Optional[str] = None  # the procedure under discussion (slot procedure_code)
    aspect: str = "general"  # the aspect asked: one asked of the current procedure keeps it when no other is found
    chosen: Optional[str] = None  # a code a button or an entity carries
    offered: Sequence[str] = ()  # the codes the bot's last message offered ("số 2", "cái cuối" pick among them)
    policy: str = QUESTION

    def __post_init__(self) -> None:
        """Refuse an unknown policy (a typo would silently resolve as a question)."""
        if self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r} (one of {', '.join(POLICIES)})")


@dataclass(frozen=True)
class Resolution:
    """One procedure (answer), procedures to offer (choices), or none with the reason and what was considered."""

    kind: str  # ANSWER | CHOICES | NONE
    code: Optional[str] = None  # ANSWER: the procedure
    confidence: float = 0.0  # ANSWER: the search's calibrated confidence; 1.0 when the conversation settled it
    via: str = ""  # ANSWER: "chosen", "offered", "current" or "search"
    choices: Tuple[Hit, ...] = ()  # CHOICES: the procedures to offer, best first
    considered: Tuple[Hit, ...] = ()  # the hits the search weighed (for the review log)
    reason: str = ""  # NONE: "other_agency", "limit", "nothing_named", "refused" (an offer), "no_match", "not_chosen"
    # or "unknown_code"
    agency: Optional[str] = None  # reason "other_agency": the agency whose service the message names
    limit: Optional[Limit] = None  # reason "limit": the part of a case another agency decides (tax, notary…)

    @property
    def found(self) -> bool:
        """Whether one procedure was resolved."""
        return self.kind == ANSWER


def _answer(code: str, via: str, confidence: float = 1.0, considered: Sequence[Hit] = ()) -> Resolution:
    return Resolution(ANSWER, code=code, confidence=confidence, via=via, considered=tuple(considered))


def _none(reason: str, considered: Sequence[Hit] = (), agency: Optional[str] = None) -> Resolution:
    return Resolution(NONE, reason=reason, considered=tuple(considered), agency=agency)


def pick_by_ordinal(text: str, candidates: Sequence[str]) -> Optional[str]:
    """'cái thứ hai' / 'so 2' / 'cái cuối' -> the matching candidate code."""
    index = ordinal_in(text, len(candidates))
    return candidates[index - 1] if index else None


def resolve(kb: KnowledgeBase, text: str, context: Optional[Context] = None) -> Resolution:
    """Which procedure ``text`` means, given ``context`` (see the module's docstring for the policies)."""
    context = context or Context()
    if context.policy == PICK:
        return _pick(kb, text, context)
    if context.policy == KEEP:
        return _keep(kb, text, context)
    if context.policy == QUESTION and context.chosen and kb.catalogue.get(context.chosen) is not None:
        return _answer(context.chosen, "chosen")  # a button under an answer ("📄 other case")
    agency = kb.other_agency(text)
    if agency is not None:
        return _none("other_agency", agency=agency)
    limit = kb.limit_for(text)  # "có phải nộp thuế không": the tax office's, not the current procedure's fee
    if limit is not None:
        return Resolution(NONE, reason="limit", limit=limit)
    if context.policy == SURE:
        return _sure(kb, text)
    return _question(kb, text, context)


def _question(kb: KnowledgeBase, text: str, context: Context) -> Resolution:
    """A question about a procedure: a follow-up stays on the current one unless it names another. Right after
    procedures were offered (``context.offered``: the bot's last message offered them), an aspect asked alone
    ("mất bao lâu") is about the one offered, or asks again which of several; anything else is searched anew,
    not answered for the procedure discussed before. When the search finds nothing close, words that are all an
    offered procedure's own ask the aspect of it ("mất bao lâu thì có sổ"), or again which when several offered hold
    them; a message the search cannot place whose closest hit is one of those offered asks again which too."""
    current = context.current
    offered = [str(code) for code in context.offered]
    refused, asked = False, text
    if offered:
        refused, asked = reply_to_offer(text)
        if refused and kb.names_nothing(asked):  # "không phải, mất bao lâu": what they mean is still to be said
            return _none("refused")
        if not refused and kb.names_nothing(asked) and context.aspect != "general":
            if len(offered) == 1 and kb.catalogue.get(offered[0]) is not None:
                # "Có phải bạn hỏi về …?" then "(đúng rồi,) mất bao lâu": asked on about the one offered
                return _answer(offered[0], "offered")
            return _none("nothing_named")
        current = None
    if current:
        # "còn lệ phí thì sao", or "phí thẩm định an toàn dịch bệnh" where the current procedure's fee is one
        if not kb.mentions_procedure(text) or kb.asks_of(current, context.aspect, text):
            return _answer(current, "current")
    elif kb.names_nothing(text):  # "nộp ở đâu?" before any procedure: ask which one
        return _none("nothing_named")
    result = kb.search(text, top_k=TOP_K)
    considered = result.hits[:TOP_K]
    best = result.best
    if result.decision == "answer" and best is not None:
        return _answer(best.code, "search", best.confidence, considered)
    if result.decision == "unknown" and offered and not refused and context.aspect != "general":
        # "mất bao lâu thì có sổ" right after "Có phải bạn hỏi về … (sổ đỏ)?": the search finds nothing close, and
        # every word the message names beyond the aspect is the offered procedure's own: asked of it (of several
        # offered that all hold them, asked again which); a sibling the search finds close is offered instead
        holding = [code for code in offered if kb.within(code, asked)]
        if len(holding) == 1 and kb.catalogue.get(holding[0]) is not None:
            return _answer(holding[0], "offered", considered=considered)
        if holding:
            return _none("nothing_named", considered)
    if result.decision == "choose" and best is not None:
        choices = tuple(result.choices(TOP_K))
        if current and any(h.code == current for h in choices):
            # not sure which, but the one under discussion is among the close ones: the conversation settles it
            return _answer(current, "current", considered=considered)
        # not sure: offered, even when only one is close ("Có phải bạn hỏi về …?"), never answered as if sure
        return Resolution(CHOICES, choices=choices, considered=tuple(considered))
    if current and context.aspect != "general":  # no other procedure found: the aspect is asked of the current one
        return _answer(current, "current", considered=considered)
    if offered and not refused and context.aspect != "general" and considered and considered[0].code in offered:
        # "bao lâu thì có xác nhận" right after choices: the search cannot place it but finds one of those offered
        # closest, so the aspect is asked of the ones still offered (asked again which), not logged as a question
        # nobody could answer; a "no", or a new subject whose closest is another procedure, is not
        return _none("nothing_named", considered)
    return _none("no_match", considered)


def _sure(kb: KnowledgeBase, text: str) -> Resolution:
    """A message the classifier could not place: only a sure match of the search answers it."""
    if not text.strip() or kb.says_only_who(text):  # "tôi là người nước ngoài" says who, not which procedure
        return _none("nothing_named")
    result = kb.search(text, top_k=TOP_K)
    considered = result.hits[:TOP_K]
    if result.decision == "answer" and result.best is not None:
        return _answer(result.best.code, "search", result.best.confidence, considered)
    return _none("no_match", considered)


def _pick(kb: KnowledgeBase, text: str, context: Context) -> Resolution:
    """A pick among the offered choices: the button's code, else an ordinal ("số 2"); never a new search."""
    code = context.chosen
    via = "chosen"
    if not code and context.offered:
        code, via = pick_by_ordinal(text, context.offered), "offered"
    if not code:
        return _none("not_chosen")
    if kb.catalogue.get(str(code)) is None:
        return _none("unknown_code")
    return _answer(str(code), via)


def _keep(kb: KnowledgeBase, text: str, context: Context) -> Resolution:
    """A question about something else: a procedure the message's words name (the search's best, even when
    unsure), else the current one. A button payload ("/intent{...}") names none."""
    considered: Sequence[Hit] = ()
    if not text.startswith("/") and kb.mentions_procedure(text):
        result = kb.search(text, top_k=TOP_K)
        considered = result.hits[:TOP_K]
        best = result.best
        if best is not None and result.decision in ("answer", "choose"):
            return _answer(best.code, "search", best.confidence, considered)
    if context.current:
        return _answer(context.current, "current", considered=considered)
    return _none("no_match" if considered else "nothing_named", considered)
