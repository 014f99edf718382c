"""The citizen's situation, read from their words, and the situations a document item is for.

One table (``data/situations.yml``) reads both sides: "bố tôi mất để lại mảnh đất" says
``inheritance``; a record's "đối với trường hợp chuyển đổi, chuyển nhượng, thừa kế" is for
``exchange``, ``sale`` and ``inheritance``. Words go through the same normaliser as the NLU and the
search (shorthand expanded, accents folded, an accented word must be the phrase's own).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set, Tuple, cast

import yaml

from core.text import fold
from knowledge_base.text import DATA_DIR, NORMALIZED_LONGEST, PhraseTable, TextNormalizer, words

CASE, CONDITION, APPLICANT, CHANNEL, LAND = "case", "condition", "applicant", "channel", "land"
_IMPLIED = "~implied"  # suffix of a group read from a citizen-only phrase ("nhà tôi"): said by implication
FIRST_REQUEST = "first"  # Situation.request of a message asking for a first paper ("xin cấp", "cấp mới", "lần đầu")
UNCLEAR_REQUEST = "unclear"  # … of one asking several actions at once ("hết hạn": extended or issued again)
FOREIGNER = "foreigner"
_NATIONAL = frozenset({"individual", "organisation"})  # kinds of applicant a condition about foreigners goes on about
MAX_SAID = 16  # condition keys a conversation keeps (the latest)
_KEY = re.compile(r"[0-9a-f]{8}")
# Folded words that may stand beside what says who the citizen is in a message saying only that ("dạ, tôi là việt
# kiều ạ"): pronouns, "là", politeness
_SELF_WORDS = frozenset({"toi", "la", "minh", "em", "chung", "ben", "thi", "a", "nhe", "nha", "day", "da", "vang",
                        "oi", "ad", "admin", "ma", "con", "chau", "anh", "chi", "cua"})
MAX_SLOT = 2000  # characters of a situation slot: anything longer is no situation this assistant wrote
# Whose kind a message names: "công ty chúng tôi", "hộ gia đình tôi", "cty mình", "công ty của tôi" are the citizen's
# own (the first person right after); "… của một cá nhân", "bán cho công ty" name the other party (a preposition
# right before)
_FIRST_PERSON = {"toi": "tôi", "minh": "mình", "em": "em", "tui": "tui"}
_WE = {"chung": "chúng", "bon": "bọn", "ben": "bên"}  # before one of those: "chúng tôi", "bọn em", "bên mình"
_OTHER_PARTY = frozenset({"cua", "tu", "cho", "voi"})  # not "đối với" ("đối với cá nhân": for individuals)
_ARTICLES = frozenset({"mot", "cac", "nhung"})


@dataclass(frozen=True)
class _Message:
    """A message's words as the applicant reading needs them: folded, as typed after the normaliser, whether the
    citizen typed accents (before shorthand is expanded: "ko" becomes "không"), and the kind of applicant named from
    each word where one starts."""

    folded: List[str]
    typed: List[str]
    accented: bool
    kinds: Dict[int, str]

    def whose(self, start: int, end: int) -> str:
        """Whose kind of applicant ``folded[start:end]`` names: "own" when the first person follows it (``owned``),
        "other" when a preposition leads to it ("của một cá nhân"), else ""."""
        if self.owned(start, end):
            return "own"
        before = start - 1
        if before >= 0 and self.folded[before] in _ARTICLES:
            before -= 1
        if before >= 0 and self.folded[before] in _OTHER_PARTY \
                and self.folded[before - 1:before + 1] != ["doi", "voi"]:
            return "other"
        return ""

    def owned(self, start: int, end: int) -> bool:
        """Whether the first person follows the kind at ``start:end`` ("của" between them allowed), typed with its
        accent when the citizen typed accents ("công ty Minh Phát" is a name), and not then saying they are another
        kind (", tôi là cá nhân"; "công ty tôi là công ty TNHH" stays the company's)."""
        pronoun = end + 1 if self.folded[end:end + 1] == ["cua"] else end
        if self._said(pronoun, _WE):  # "chúng tôi", "bên em"; "công ty bên cạnh" is next door
            pronoun += 1
        if not self._said(pronoun, _FIRST_PERSON):
            return False
        if self.folded[pronoun + 1:pronoun + 2] != ["la"]:
            return True
        named = pronoun + 2  # "… tôi là [một] cá nhân": the kind said after "là", if any
        if self.folded[named:named + 1] and self.folded[named] in _ARTICLES:
            named += 1
        return self.kinds.get(named, self.kinds[start]) == self.kinds[start]

    def _said(self, i: int, spelt: Dict[str, str]) -> bool:
        return i < len(self.folded) and self.folded[i] in spelt \
            and (not self.accented or self.typed[i] == spelt[self.folded[i]])


def latest(keys: Tuple[str, ...]) -> Tuple[str, ...]:
    """Each key once where it was last said, the latest ``MAX_SAID``."""
    return tuple(dict.fromkeys(reversed(keys)))[::-1][-MAX_SAID:]

EXCEPTION = re.compile(r"\b(?:trừ|ngoại trừ|không bao gồm|không áp dụng)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Situation:
    """What the citizen has said about themselves; None where they have not said it."""

    case: Optional[str] = None  # inheritance, gift, sale, exchange, capital, lease
    applicant: Optional[str] = None  # individual, household, organisation, overseas, foreigner
    channel: Optional[str] = None  # online, postal, direct
    conditions: Tuple[str, ...] = ()  # mortgage, representative, split_merge, several_recipients…
    applicant_implied: bool = False  # the applicant was read from family words only ("nhà tôi"), not said
    # what the citizen asks to do with the paper, as the action table names it ("reissue" for "cấp lại", "renew"…),
    # FIRST_REQUEST when they ask for a first one in so many words, UNCLEAR_REQUEST for several; None: not said
    request: Optional[str] = None
    # cases the citizen's words make likely without saying which ("đất ông bà để lại": inheritance or gift): their
    # papers come first among the "Nếu …" groups; they settle nothing
    likely: Tuple[str, ...] = ()
    # conditions of a record's alternatives their words named (``conditions.condition_key`` of each: "đang hoạt
    # động", "8 m3 mỗi ngày"), never the words themselves
    said: Tuple[str, ...] = ()
    # the kinds of land the citizen has spoken of as theirs ("đất vườn": garden), all of them: a paper for another
    # kind only is not theirs (``SituationTable.land_for``, ``checklist.other_land``)
    land: Tuple[str, ...] = ()

    def merged(self, newer: Situation) -> Situation:
        """This situation updated by what the citizen said since (a new word replaces an old one, the kinds of land
        add up; family words never replace an applicant the citizen named: "tôi là việt kiều" … "nhà tôi" stays
        overseas)."""
        keep = not newer.applicant or (newer.applicant_implied and bool(self.applicant) and not self.applicant_implied)
        applicant, implied = (self.applicant, self.applicant_implied) if keep \
            else (newer.applicant, newer.applicant_implied)
        # a request said replaces the one before: "cấp lại" after "xin cấp" is a reissue, "hết hạn" after either
        # unclear; a message asking nothing of the paper ("tàu dài 15 mét thì cần gì") keeps it
        return Situation(case=newer.case or self.case, applicant=applicant, channel=newer.channel or self.channel,
                         conditions=tuple(dict.fromkeys(self.conditions + newer.conditions)),
                         applicant_implied=implied, request=newer.request or self.request,
                         likely=tuple(dict.fromkeys(newer.likely + self.likely)),
                         said=latest(self.said + newer.said), land=tuple(dict.fromkeys(self.land + newer.land)))

    def without_case(self) -> Situation:
        """The same situation with no transfer case, said or likely, and no kind of land (the case or the land
        said for one procedure is not another field's)."""
        return replace(self, case=None, likely=(), land=())

    def with_request(self, request: Optional[str]) -> Situation:
        """The same situation asking ``request`` (None: nothing said)."""
        return replace(self, request=request)

    def to_json(self) -> Optional[str]:
        """For a conversation slot; None when nothing is known."""
        data = {k: v for k, v in asdict(self).items() if v}
        return json.dumps(data, sort_keys=True) if data else None

    @classmethod
    def from_json(cls, value: Optional[str]) -> Situation:
        """Read a slot value back; anything malformed is an unknown situation (slots come from trackers)."""
        if isinstance(value, str) and len(value) > MAX_SLOT:
            return cls()
        try:
            data = json.loads(value) if value else {}
        except (TypeError, ValueError, RecursionError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        table = SituationTable.default()

        def known(value, names) -> Optional[str]:
            return value if isinstance(value, str) and value in names else None

        listed = data.get("conditions")
        conditions = tuple(c for c in listed if known(c, table.conditions)) if isinstance(listed, list) else ()
        applicant = known(data.get("applicant"), table.labels[APPLICANT])
        request = data.get("request")
        hinted = data.get("likely")
        likely = tuple(dict.fromkeys(c for c in hinted if known(c, table.labels[CASE]))) \
            if isinstance(hinted, list) else ()
        kinds = data.get("land")
        land = tuple(dict.fromkeys(k for k in kinds if known(k, table.land))) if isinstance(kinds, list) else ()
        keys = data.get("said")
        said = latest(tuple(k for k in keys if isinstance(k, str) and _KEY.fullmatch(k))) \
            if isinstance(keys, list) else ()
        return cls(case=known(data.get("case"), table.labels[CASE]), applicant=applicant, likely=likely, said=said,
                   land=land,
                   channel=known(data.get("channel"), table.channels), conditions=conditions,
                   applicant_implied=bool(applicant) and data.get("applicant_implied") is True,
                   request=request if isinstance(request, str) and request in known_requests() else None)

    def with_said(self, keys: Tuple[str, ...]) -> Situation:
        """The same situation with the conditions ``keys`` named (``conditions.conditions_said``, which works them out
        from those known before)."""
        return replace(self, said=latest(keys))

    def with_applicant(self, applicant: Optional[str]) -> Situation:
        """The same situation for ``applicant`` (a known applicant tag, said by the citizen), or unchanged."""
        return replace(self, applicant=applicant, applicant_implied=False) \
            if isinstance(applicant, str) and applicant in SituationTable.default().labels[APPLICANT] else self

    def with_land(self, land: Optional[str]) -> Situation:
        """The same situation with land of the kind ``land`` too (a known tag, from a checklist's button), or
        unchanged."""
        return replace(self, land=tuple(dict.fromkeys(self.land + (land,)))) \
            if isinstance(land, str) and land in SituationTable.default().land else self

    def with_case(self, case: Optional[str]) -> Situation:
        """The same situation in ``case`` (a known case tag), or unchanged."""
        return replace(self, case=case) if isinstance(case, str) and case in SituationTable.default().labels[CASE] \
            else self


class SituationTable:
    """Phrases of cases, conditions, applicants and channels, found leftmost-longest."""

    def __init__(self, data: Dict):
        """Build from the YAML structure of ``data/situations.yml``."""
        entries: List[Tuple[str, Tuple[str, str]]] = []
        record_only: List[Tuple[str, Tuple[str, str]]] = []
        citizen_only: List[Tuple[str, Tuple[str, str]]] = []
        paper: List[Tuple[str, str]] = []
        self.labels: Dict[str, Dict[str, str]] = {CASE: {}, APPLICANT: {}}
        for group in (CASE, APPLICANT):
            for tag, spec in (data.get(group) or {}).items():
                self.labels[group][str(tag)] = str(spec.get("label") or tag)
                entries += [(str(p), (group, str(tag))) for p in spec.get("phrases") or ()]
                record_only += [(str(p), (group, str(tag))) for p in spec.get("record_phrases") or ()]
                citizen_only += [(str(p), (group + _IMPLIED, str(tag))) for p in spec.get("citizen_phrases") or ()]
                paper += [(str(p), str(tag)) for p in spec.get("paper_phrases") or ()]
        self.conditions = [str(tag) for tag in data.get(CONDITION) or {}]
        self.seldom = frozenset(str(tag) for tag in data.get("seldom") or ())
        self._unread: Dict[str, int] = {}  # condition -> unread syllables: the checklist asks for every paper
        self.channels = [str(tag) for tag in data.get(CHANNEL) or {}]
        land = data.get(LAND) or {}
        self.land = [str(tag) for tag in land]
        self.land_labels = {str(tag): str(spec.get("label") or tag) for tag, spec in land.items()}
        self.land_table = PhraseTable([(str(p), str(tag)) for tag, spec in land.items()
                                       for p in spec.get("phrases") or ()], strict_words=True)  # a citizen's words
        self.land_record_table = PhraseTable([(str(p), str(tag)) for tag, spec in land.items()
                                              for p in spec.get("record_phrases") or ()], strict_words=True)
        for group in (CONDITION, CHANNEL):
            for tag, phrases in (data.get(group) or {}).items():
                entries += [(str(p), (group, str(tag))) for p in phrases or ()]
        self.umbrellas = [(words(fold(str(phrase))), frozenset(str(t) for t in tags or ()))
                          for phrase, tags in (data.get("umbrella") or {}).items()]
        self.table = PhraseTable(entries + citizen_only, strict_words=True)  # a citizen's words
        # what makes cases likely; read apart, since its words overlap the others' ("ông bà để lại")
        self.likely_table = PhraseTable([(str(phrase), tuple(str(t) for t in tags or () if str(t) in self.labels[CASE]))
                                         for phrase, tags in (data.get("likely") or {}).items()], strict_words=True)
        self.record_table = PhraseTable(entries + record_only, strict_words=True)  # a record's conditions
        self.paper_table = PhraseTable(paper, strict_words=True)  # a paper's own words naming who it is for
        self.normalizer = TextNormalizer.default()

    @classmethod
    def load(cls, path: Path) -> SituationTable:
        """Read a table file."""
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh) or {})

    @classmethod
    def default(cls) -> SituationTable:
        """The table shipped in knowledge_base/data."""
        return _default()

    def _words(self, text: str) -> Tuple[List[str], List[str]]:
        """``text``'s words, folded and as typed, after the normaliser (shorthand expanded)."""
        norm = self.normalizer.normalize(text or "")
        return words(fold(norm)), words(norm)

    def tags(self, text: str, record: bool = False) -> List[Tuple[str, str]]:
        """(group, tag) of every phrase in ``text``, left to right; a ``record``'s wording also by its own
        one-word phrases ("bán hoặc tặng cho")."""
        table = self.record_table if record else self.table
        return [value for _, _, value in table.find(*self._words(text))]  # type: ignore[misc]

    def says_only_who(self, text: str) -> bool:
        """Whether ``text`` only tells who the citizen is ("tôi là người nước ngoài", "công ty tôi ạ"): words of an
        applicant (said, or implied by family words), and beside them only pronouns and politeness, no question
        ("việt kiều có được ủy quyền không" is one)."""
        folded, typed = self._words(text)
        covered = self._applicant_words(folded, typed)
        return bool(covered) and all(word in _SELF_WORDS for i, word in enumerate(folded) if i not in covered)

    def applicant_words(self, text: str) -> FrozenSet[str]:
        """The folded words (shorthand expanded) by which ``text`` says what kind of applicant the citizen is:
        "công ty tôi làm mất sổ" -> {"cong", "ty"}."""
        folded, typed = self._words(text)
        return frozenset(folded[i] for i in self._applicant_words(folded, typed))

    def _applicant_words(self, folded: List[str], typed: List[str]) -> Set[int]:
        """Positions of the words of an applicant's phrases (said, or implied by family words)."""
        return {i for start, end, value in self.table.find(folded, typed)
                if str(cast(Tuple[str, str], value)[0]).startswith(APPLICANT) for i in range(start, end)}

    def read(self, text: str) -> Situation:
        """What a citizen's message says about their situation (the last case named wins); family words
        ("nhà tôi") say a household only when no other kind of applicant is named ("công ty nhà tôi"); a kind of
        applicant the citizen calls their own ("công ty chúng tôi") outweighs the others, and one named as the other
        party ("… của một cá nhân") yields to any other named (``_Message.whose``)."""
        return self._reading(text)[0]

    def own_applicant(self, text: str) -> Optional[str]:
        """The kind of applicant ``text`` says the citizen is as their own ("công ty tôi", "hộ gia đình tôi"), or by
        family words alone ("nhà tôi": a household, no kind named); None otherwise: a kind merely named ("tôi là cán
        bộ công ty, nhà tôi …") may be someone else's."""
        situation, own = self._reading(text)
        return situation.applicant if situation.applicant_implied else (own[-1] if own else None)

    def _reading(self, text: str) -> Tuple[Situation, Tuple[str, ...]]:
        """``_read`` of ``text``, kept for a short text: the search (``own_applicant``) and the action (``read``) read
        the same message once between them."""
        return _read_kept(self, text) if len(text or "") <= NORMALIZED_LONGEST else self._read(text)

    def _read(self, text: str) -> Tuple[Situation, Tuple[str, ...]]:
        """``read``'s situation, and the kinds of applicant the message names as the citizen's own."""
        folded, typed = self._words(text)  # read once for both tables: this runs on every message
        matches = [(start, end, cast(Tuple[str, str], value)) for start, end, value in self.table.find(folded, typed)]
        aligned = len(typed) == len(folded)  # a rare sign folds into a word boundary ("nhà΅x"): accents unread then
        message = _Message(folded, typed if aligned else folded,
                           accented=aligned and fold(text or "") != (text or "").lower(),
                           kinds={start: tag for start, _, (group, tag) in matches if group == APPLICANT})
        found: Dict[str, List[str]] = {}
        whose: Dict[str, List[str]] = {"own": [], "": [], "other": []}  # kinds of applicant named, by whose they are
        for start, end, (group, tag) in matches:
            found.setdefault(group, []).append(tag)
            if group == APPLICANT:
                whose[message.whose(start, end)].append(tag)
        if found.get(APPLICANT):  # the citizen's own, else any not the other party's, else what was named
            found[APPLICANT] = whose["own"] or whose[""] or whose["other"]
        said = {g: (found[g][-1] if found.get(g) else None) for g in (CASE, APPLICANT, CHANNEL)}
        last = {g: said[g] or (found[g + _IMPLIED][-1] if found.get(g + _IMPLIED) else None) for g in said}
        implied = said[APPLICANT] is None and last[APPLICANT] is not None
        likely = [tag for _, _, tags in self.likely_table.find(folded, typed) for tag in cast(Tuple[str, ...], tags)]
        return Situation(case=last[CASE], applicant=last[APPLICANT], channel=last[CHANNEL],
                         conditions=tuple(dict.fromkeys(found.get(CONDITION, []))), applicant_implied=implied,
                         likely=() if last[CASE] else tuple(dict.fromkeys(likely)),
                         land=self._own_land(folded, typed)), tuple(whose["own"])

    def _own_land(self, folded: List[str], typed: List[str]) -> Tuple[str, ...]:
        """The kinds of land a message names as the citizen's: not a target or a neighbour ("sang đất vườn",
        "cạnh đất rừng")."""
        return tuple(dict.fromkeys(str(value) for start, _, value in self.land_table.find(folded, typed)
                                   if not (start and folded[start - 1] in _NOT_OWN_LAND)))

    def land_for(self, condition: str) -> FrozenSet[str]:
        """The kinds of land a record's paper condition says the paper is for ("chuyển mục đích sử dụng đất chuyên
        trồng lúa": rice); what follows "trừ" (an exception) is not read."""
        return _land_for(self, condition)

    def about(self, condition: str) -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
        """The cases, applicants and other conditions a record's condition wording names; what follows
        "trừ" (an exception) names who is left out, so it is not read."""
        groups: Dict[str, set] = {CASE: set(), APPLICANT: set(), CONDITION: set(), CHANNEL: set()}
        condition = EXCEPTION.split(condition or "", maxsplit=1)[0]
        for group, tag in self.tags(condition, record=True):
            if group == APPLICANT and FOREIGNER in groups[APPLICANT] and tag in _NATIONAL:
                continue  # "tổ chức nước ngoài; … nơi cá nhân mang quốc tịch": the individual is the foreign one
            groups[group].add(tag)
        return frozenset(groups[CASE]), frozenset(groups[APPLICANT]), frozenset(groups[CONDITION])


    def paper_for(self, paper: str) -> FrozenSet[str]:
        """The applicants a paper without a condition is issued to, by its own words ("… cho đơn vị quân đội")."""
        return frozenset(str(value) for _, _, value in self.paper_table.find(*self._words(paper)))

    def label(self, applicant: str) -> str:
        """What a kind of applicant is called ("Đơn vị, doanh nghiệp thuộc quân đội, công an")."""
        return self.labels[APPLICANT].get(applicant, applicant)

    def unread(self, condition: str) -> int:
        """How many of a record condition's syllables no phrase of the table reads, function words aside: "là tổ
        chức" leaves none, "là công ty trực thuộc tập đoàn, tổng công ty" says more than who files."""
        known = self._unread.get(condition)
        if known is None:
            known = self._unread[condition] = self._count_unread(condition)
        return known

    def _count_unread(self, condition: str) -> int:
        folded, typed = self._words(condition)
        covered: Set[int] = set()
        for start, end, _ in self.record_table.find(folded, typed):
            covered.update(range(start, end))
        for phrase in _APPLICANT_FILLER:  # "cộng đồng dân cư", "tại Việt Nam" say no more than who files
            for i in range(len(folded) - len(phrase) + 1):
                if tuple(folded[i:i + len(phrase)]) == phrase:
                    covered.update(range(i, i + len(phrase)))
        return sum(1 for i, w in enumerate(folded) if i not in covered and w not in _CONDITION_FILLER)

    def widen(self, paper: str, cases: FrozenSet[str]) -> FrozenSet[str]:
        """The cases of a paper whose condition names ``cases``: every case of an umbrella word ("chuyển quyền sử
        dụng đất") its title uses, when the condition lists two or more of them (one is a deliberate choice)."""
        folded = f" {' '.join(self._words(paper)[0])} "
        for phrase, umbrella in self.umbrellas:
            if f" {' '.join(phrase)} " in folded and len(cases) >= 2 and cases <= umbrella:
                return cases | umbrella
        return cases


# Words of a condition that say nothing beyond who files ("đối với trường hợp là tổ chức", "hộ gia đình đang sử dụng
# đất"), folded
_CONDITION_FILLER = frozenset("la doi voi truong hop neu cua cac nhung va hoac dang su dung dat co".split())
_APPLICANT_FILLER = (("cong", "dong", "dan", "cu"), ("tai", "viet", "nam"), ("trong", "nuoc"))


def known_requests() -> FrozenSet[str]:
    """What ``Situation.request`` may hold: an action of the action table, a first request, an unclear one."""
    from knowledge_base.retrieval.actions import ActionTable

    try:
        actions = ActionTable.default().actions
    except (OSError, ValueError):  # a broken table: no remembered action is trusted
        actions = frozenset()
    return actions | {FIRST_REQUEST, UNCLEAR_REQUEST}


@functools.lru_cache(maxsize=1)
def _default() -> SituationTable:
    return SituationTable.load(DATA_DIR / "situations.yml")


# a word before a kind of land that makes it not the citizen's own: a target ("sang đất vườn") or a neighbour
_NOT_OWN_LAND = frozenset({"sang", "len", "thanh", "canh", "gan", "giap", "ben", "ke"})


@functools.lru_cache(maxsize=1024)
def _read_kept(table: SituationTable, text: str) -> Tuple[Situation, Tuple[str, ...]]:
    return table._read(text)


@functools.lru_cache(maxsize=4096)
def _land_for(table: SituationTable, condition: str) -> FrozenSet[str]:
    condition = EXCEPTION.split(condition or "", maxsplit=1)[0]
    return frozenset(str(value) for _, _, value in table.land_record_table.find(*table._words(condition)))


def read_situation(text: str) -> Situation:
    """``SituationTable.default().read``."""
    return SituationTable.default().read(text)
