"""Guards for the independent retrieval dev set and the out-of-catalogue question set.

benchmarks/dev_questions_2026.yml and benchmarks/out_of_catalogue.yml were written from the
official records only. These checks keep them honest and useful: real in-scope codes, no
duplicates, the spelling citizens really use, fields covered in proportion to the department's
procedures, and no phrase borrowed from the curated aliases of the same procedure (a set that
echoes the aliases would measure the aliases, not retrieval). Plain YAML, no model: fast.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Dict, List, Set, Tuple

import pytest
import yaml

from core.text import fold, nfc
from knowledge_base.text import phrases, words
from tests.conftest import ROOT

DEV = ROOT / "benchmarks/dev_questions_2026.yml"
DEV_B = ROOT / "benchmarks/dev_questions_2026b.yml"  # the fresh set written after DEV was tuned on
DEV_C = ROOT / "benchmarks/dev_questions_2026c.yml"  # written after B was looked at to choose fine-tuning settings
DEV_D = ROOT / "benchmarks/dev_questions_2026d.yml"  # written before stop 47 read set C's misses
DEV_SETS = (DEV, DEV_B, DEV_C, DEV_D)
OUT = ROOT / "benchmarks/out_of_catalogue.yml"
OUT_B = ROOT / "benchmarks/out_of_catalogue_2026b.yml"  # written after OUT was tuned on for one question
# the kinds each out-of-catalogue set holds at least 20 of
OUT_KINDS = {OUT: {"other_agency", "near_miss", "unknown"}, OUT_B: {"other_agency", "near_miss"}}
CALIBRATION = ROOT / "knowledge_base/data/calibration_questions.yml"
CALIBRATION_OUTSIDE = ROOT / "knowledge_base/data/calibration_outside.yml"
ALIASES = ROOT / "knowledge_base/data/aliases.yml"
SCOPE_LEVELS = {"province", "commune"}
KINDS = {"other_agency", "near_miss", "unknown"}
NGRAM = 4


def _load(path) -> List[dict]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, list), f"{path.name}: expected a YAML list"
    return data


def _folded_words(text: str) -> List[str]:
    return words(fold(nfc(text).lower()))


def _unaccented(text: str) -> bool:
    """No diacritic at all (đ counts as one): what a phone keyboard without Telex produces."""
    return nfc(text).lower() == fold(text)


def _official_name(name: str) -> str:
    """Procedure name without a trailing level or code note such as "(cấp Tỉnh)"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()


@pytest.fixture(scope="module", params=DEV_SETS, ids=lambda p: p.stem)
def dev(request) -> List[dict]:
    return _load(request.param)


@pytest.fixture(scope="module")
def all_dev() -> List[dict]:
    return [item for path in DEV_SETS for item in _load(path)]


@pytest.fixture(scope="module")
def calibration() -> List[dict]:
    return _load(CALIBRATION)


@pytest.fixture(scope="module")
def out_of_catalogue() -> List[dict]:
    return [item for path in OUT_KINDS for item in _load(path)]


@pytest.fixture(scope="module")
def in_scope(catalogue) -> Dict[str, object]:
    """The department's procedures: level includes province or commune (342 of 537)."""
    return {p.code: p for p in catalogue if set(p.levels) & SCOPE_LEVELS}


@pytest.fixture(scope="module")
def aliases_by_code(catalogue) -> Dict[str, List[str]]:
    """Curated aliases per code, from aliases.yml and from the catalogue files."""
    merged: Dict[str, List[str]] = defaultdict(list)
    if ALIASES.exists():
        with open(ALIASES, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for code, phrases in data.items():
            merged[str(code)].extend(str(a) for a in (phrases or []))
    for proc in catalogue:
        merged[proc.code].extend(str(a) for a in (proc.aliases or []))
    return {code: list(dict.fromkeys(phrases)) for code, phrases in merged.items()}


# --- dev_questions_2026.yml ---------------------------------------------------------------

def test_dev_entries_are_well_formed(dev):
    for item in dev:
        assert isinstance(item, dict) and set(item) == {"q", "codes"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        codes = item["codes"]
        assert isinstance(codes, list) and codes, item
        assert all(isinstance(c, str) for c in codes), f"quote the codes: {item}"
        assert len(set(codes)) == len(codes), f"code listed twice: {item}"


def test_dev_set_is_large_and_broad(dev):
    codes = {c for item in dev for c in item["codes"]}
    assert len(dev) >= 300, len(dev)
    assert len(codes) >= 120, len(codes)


def test_dev_codes_exist_and_are_in_the_department_scope(dev, catalogue, in_scope):
    assert len(in_scope) == 342
    missing = sorted({c for item in dev for c in item["codes"] if catalogue.get(c) is None})
    assert not missing, f"codes not in the catalogue: {missing}"
    out = sorted({c for item in dev for c in item["codes"] if c not in in_scope})
    assert not out, f"codes whose levels include neither province nor commune: {out}"


def test_dev_questions_are_distinct_even_without_accents(dev):
    counts = Counter(" ".join(_folded_words(item["q"])) for item in dev)
    dupes = [q for q, n in counts.items() if n > 1]
    assert not dupes, f"duplicate questions (folded): {dupes}"


def test_dev_questions_are_spelt_like_citizens_write(dev):
    unaccented = sum(_unaccented(item["q"]) for item in dev)
    assert unaccented >= 0.4 * len(dev), f"only {unaccented}/{len(dev)} questions without diacritics"
    accented = len(dev) - unaccented
    assert accented >= 0.2 * len(dev), f"only {accented}/{len(dev)} questions with diacritics"


def test_dev_questions_do_not_paste_the_official_name(dev, in_scope):
    pasted = []
    for item in dev:
        q = " " + " ".join(_folded_words(item["q"])) + " "
        for code in item["codes"]:
            name = _folded_words(_official_name(in_scope[code].name))
            if len(name) >= 4 and " " + " ".join(name) + " " in q:
                pasted.append((item["q"], code))
    assert not pasted, f"questions repeating the official name: {pasted}"


@pytest.mark.parametrize("path", (DEV_C, DEV_D), ids=lambda p: p.stem)
def test_sets_c_and_d_repeat_no_four_words_of_their_official_name(in_scope, path):
    """Their writers promised it (the headers): a citizen describes the situation, not the title."""
    echoes = [(item["q"], code) for item in _load(path) for code in item["codes"]
              if phrases(item["q"], NGRAM) & phrases(_official_name(in_scope[code].name), NGRAM)]
    assert not echoes, echoes


def test_dev_questions_share_no_four_word_phrase_with_an_alias_of_their_code(dev, aliases_by_code):
    overlaps = []
    for item in dev:
        grams = phrases(item["q"], NGRAM)
        for code in item["codes"]:
            for alias in aliases_by_code.get(code, ()):
                shared = grams & phrases(alias, NGRAM)
                if shared:
                    overlaps.append(f"{code}: question {item['q']!r} ~ alias {alias!r} "
                                    f"(shared: {' '.join(sorted(shared)[0])!r})")
    assert not overlaps, "dev questions echo curated aliases; reword them:\n" + "\n".join(overlaps)


def test_dev_fields_are_covered_in_proportion_to_the_department_scope(dev, in_scope):
    procedures = Counter(p.field for p in in_scope.values())
    questions = Counter(in_scope[item["codes"][0]].field for item in dev)
    covered: Dict[str, Set[str]] = defaultdict(set)
    for item in dev:
        for code in item["codes"]:
            covered[in_scope[code].field].add(code)
    total, scope = len(dev), len(in_scope)
    problems = []
    for field, n in sorted(procedures.items()):
        got = questions[field]
        if n >= 4:
            expected = total * n / scope
            if not expected / 2 <= got <= 2 * expected + 2:
                problems.append(f"{field}: {got} questions, expected about {expected:.0f} "
                                f"({n} of {scope} procedures)")
        elif n >= 2 and got == 0:
            problems.append(f"{field}: no question for its {n} procedures")
        if n >= 9 and len(covered[field]) < n / 3:
            problems.append(f"{field}: only {len(covered[field])} of {n} procedures asked about")
    assert not problems, "\n".join(problems)


# --- out_of_catalogue.yml -----------------------------------------------------------------

@pytest.mark.parametrize("path", list(OUT_KINDS), ids=lambda path: path.name)
def test_out_of_catalogue_entries_are_well_formed(path):
    out_of_catalogue = _load(path)
    assert len(out_of_catalogue) >= 100, len(out_of_catalogue)
    for item in out_of_catalogue:
        assert isinstance(item, dict) and {"q", "kind"} <= set(item) <= {"q", "kind", "agency"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        assert item["kind"] in KINDS, item
        if item["kind"] == "other_agency":
            assert isinstance(item.get("agency"), str) and item["agency"].strip(), f"who decides it? {item}"
    kinds = Counter(item["kind"] for item in out_of_catalogue)
    assert all(kinds[k] >= 20 for k in OUT_KINDS[path]), kinds


@pytest.mark.parametrize("path", list(OUT_KINDS), ids=lambda path: path.name)
def test_out_of_catalogue_questions_are_distinct_and_realistic(path, all_dev):
    dev = all_dev
    out_of_catalogue = _load(path)
    folded = [" ".join(_folded_words(item["q"])) for item in out_of_catalogue]
    dupes = [q for q, n in Counter(folded).items() if n > 1]
    assert not dupes, f"duplicate questions (folded): {dupes}"
    in_dev = set(folded) & {" ".join(_folded_words(item["q"])) for item in dev}
    assert not in_dev, f"questions in both sets: {sorted(in_dev)}"
    unaccented = sum(_unaccented(item["q"]) for item in out_of_catalogue)
    assert unaccented >= 0.5 * len(out_of_catalogue), f"only {unaccented} without diacritics"


# --- calibration_questions.yml: fits the search's confidence, so it must stay apart from what measures it ----------

def test_calibration_entries_are_well_formed_and_in_scope(calibration, catalogue, in_scope):
    for item in calibration:
        assert isinstance(item, dict) and set(item) == {"q", "codes"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        assert item["codes"] and all(isinstance(c, str) for c in item["codes"]), f"quote the codes: {item}"
    unknown = sorted({c for item in calibration for c in item["codes"] if c not in in_scope})
    assert not unknown, f"codes not in the department's scope: {unknown}"
    assert {c for item in calibration for c in item["codes"]} == set(in_scope), "every procedure once at least"
    unaccented = sum(_unaccented(item["q"]) for item in calibration)
    assert 0.3 * len(calibration) <= unaccented <= 0.7 * len(calibration), unaccented


def test_no_calibration_question_is_a_development_question(calibration, all_dev):
    """The calibration set and development set B were written at the same time by different writers from the
    same official records, so they share official terms ("giấy phép khai thác nước dưới đất"); the fit has six
    weights, not an encoder, and learns nothing about one question from a shared term. A shared question
    would be a leak: none may be in both (compared without diacritics, case or punctuation)."""
    folded_dev = {" ".join(_folded_words(item["q"])) for item in all_dev}
    both = [item["q"] for item in calibration if " ".join(_folded_words(item["q"])) in folded_dev]
    assert not both, f"in a development set too: {both}"


def test_the_fresh_out_of_catalogue_set_echoes_no_question_of_the_first_nor_of_the_fit():
    """Five words in a row: four are the asking itself ("nộp hồ sơ ở đâu", "cần giấy tờ gì")."""
    with open(CALIBRATION_OUTSIDE, encoding="utf-8") as fh:
        held = [str(q) for q in yaml.safe_load(fh)] + [item["q"] for item in _load(OUT)]
    seen = set().union(*(phrases(q, NGRAM + 1) for q in held))
    echoes = [item["q"] for item in _load(OUT_B) if phrases(item["q"], NGRAM + 1) & seen]
    assert not echoes, echoes


def test_the_outside_questions_the_fit_uses_are_not_the_ones_measured(out_of_catalogue):
    with open(CALIBRATION_OUTSIDE, encoding="utf-8") as fh:
        fitted = {" ".join(_folded_words(str(q))) for q in yaml.safe_load(fh)}
    measured = {" ".join(_folded_words(item["q"])) for item in out_of_catalogue}
    assert not fitted & measured, sorted(fitted & measured)


# --- training_questions.yml: the encoder is fine-tuned on it, so nothing measured may echo it ----------------------

TRAINING = ROOT / "knowledge_base/data/training_questions.yml"
TRAINING_ECHO = 6  # words in a row that make a training question an echo of a held one


@pytest.fixture(scope="module")
def training() -> Dict[str, List[str]]:
    from knowledge_base.embedding.training_data import written_questions

    return written_questions(TRAINING)


def test_training_questions_cover_the_scope_in_citizens_spelling(training, in_scope):
    assert set(training) == set(in_scope), sorted(set(training) ^ set(in_scope))
    questions = [q for qs in training.values() for q in qs]
    assert len(questions) >= 3 * len(in_scope), len(questions)
    unaccented = sum(_unaccented(q) for q in questions)
    assert 0.3 * len(questions) <= unaccented <= 0.7 * len(questions), unaccented


def test_training_questions_are_not_questions_that_measure_or_fit(training, all_dev, calibration, out_of_catalogue):
    """A question the encoder learned would measure memory, not retrieval; one the confidence is fitted on would
    look surer than a citizen's own wording makes it."""
    held = {" ".join(_folded_words(item["q"])) for item in [*all_dev, *calibration, *out_of_catalogue]}
    with open(CALIBRATION_OUTSIDE, encoding="utf-8") as fh:
        held |= {" ".join(_folded_words(str(q))) for q in yaml.safe_load(fh)}
    shared = [q for qs in training.values() for q in qs if " ".join(_folded_words(q)) in held]
    assert not shared, shared


def test_training_questions_echo_no_held_question_of_their_code(training, all_dev, calibration):
    """Independent writers of one record share the citizens' four- and five-word terms ("khai thác nước ngầm",
    "gia hạn giấy phép"): that is the wording the encoder must learn, and `make bench-retrieval` reports the
    development questions that share four words with a training question of their code apart. A six-word
    phrase is an echo of the question itself: such a training question is left out."""
    held: Dict[str, Set[Tuple[str, ...]]] = defaultdict(set)
    for item in [*all_dev, *calibration]:
        for code in item["codes"]:
            held[code] |= phrases(item["q"], TRAINING_ECHO)
    overlaps = []
    for code, questions in training.items():
        for q in questions:
            shared = phrases(q, TRAINING_ECHO) & held[code]
            if shared:
                overlaps.append(f"{code}: {q!r} (shared: {' '.join(sorted(shared)[0])!r})")
    assert not overlaps, "\n".join(overlaps)


ANSWER_BENCHMARK = ROOT / "benchmarks/answer_conversations.yml"
BENCH_ECHO = 5  # words in a row, not common to three procedures' training questions, that echo a benchmark turn


def test_training_questions_echo_no_answer_benchmark_turn(training):
    """The answer benchmark plays citizens' conversations the encoder never learned: a training question sharing
    five words with a turn (beyond the phrases any three procedures' questions share, "thì nộp hồ sơ ở đâu") would
    let it remember the turn."""
    with open(ANSWER_BENCHMARK, encoding="utf-8") as fh:
        turns = [t["say"] for c in yaml.safe_load(fh) for t in c["turns"] if "say" in t]
    spread: Counter = Counter()
    for questions in training.values():
        spread.update(set().union(*(phrases(q, BENCH_ECHO) for q in questions)))
    said = set().union(*(phrases(t, BENCH_ECHO) for t in turns)) - {p for p, n in spread.items() if n >= 3}
    echoes = [f"{code}: {q!r}" for code, questions in training.items() for q in questions
              if phrases(q, BENCH_ECHO) & said]
    assert not echoes, "\n".join(echoes)
