"""The citizen texts (bot/texts.yml and the domain's responses), the code that uses them, and the one formatter."""
from __future__ import annotations

import ast
import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest
import yaml

from core import formatting, texts
from core.vocabulary import CHANNELS, FILING_CHANNELS, FINAL_STATUSES, NO_RESULT, STATUS_NAMES, WEEKDAYS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("actions", "bot", "channels", "components", "console", "core", "dossiers", "knowledge_base", "motcua")
# Groups whose entries are not whole sentences: button titles, and pieces put inside another text.
FRAGMENT_GROUPS = ("buttons", "phrases")
# Where a key is computed on purpose: the channels' wrapper adds its group.
DYNAMIC_KEY_OK = {("channels/text.py", "channel_text"), ("core/texts.py", "text")}

VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
CLOSING = "\"'”’)»"


def ends_complete(template: str) -> bool:
    """A whole text ends a sentence: punctuation (before closing quotes), an emoji, or a placeholder."""
    body = template.rstrip()
    if body.endswith("}"):
        return True
    body = body.rstrip(CLOSING) if body[-1:] in "\"'”’»" else body
    last = body[-1:]
    return bool(last) and (last in ".?!:…" or unicodedata.category(last) == "So")


def problems(entries: Dict[str, str]) -> List[str]:
    """What is wrong with texts ("group.name" -> template): no Vietnamese diacritics, a cut-off ending."""
    found = []
    for key, template in entries.items():
        words = re.sub(r"\{[^}]*\}", "", template)
        if re.search(r"[^\W\d_]", words) and not VIETNAMESE.search(words):
            found.append(f"{key}: no Vietnamese diacritics: {template!r}")
        if key.split(".", 1)[0] not in FRAGMENT_GROUPS and not ends_complete(template):
            found.append(f"{key}: does not end a sentence: {template!r}")
    return found


def domain_responses() -> Dict[str, str]:
    """Every text of the domain's responses, as "responses.<name>[i]" -> text."""
    found = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).items():
            for i, variant in enumerate(variants):
                if "text" in variant:
                    found[f"responses.{name}[{i}]"] = variant["text"]
    return found


class Use:
    """One call of text()/channel_text() in the code: the keys it may ask for and the values it passes."""

    def __init__(self, where: str, keys: Optional[Tuple[str, ...]], values: Optional[Set[str]]):
        self.where, self.keys, self.values = where, keys, values


def _keys(node: ast.expr) -> Optional[Tuple[str, ...]]:
    """The keys a call's first argument can be: a string, or a conditional between strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _function_of(tree: ast.AST) -> Dict[ast.AST, str]:
    owner = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                owner[node] = function.name  # breadth first: an inner function's nodes end up its own
    return owner


def _imported(tree: ast.AST) -> Set[str]:
    """Which of text (core.texts), the module texts (core) and channel_text (channels.text) a module imports."""
    wanted = {("core.texts", "text"), ("core", "texts"), ("channels.text", "channel_text")}
    found = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             for alias in node.names if (node.module, alias.name) in wanted}
    return found | ({"channel_text"} if any(isinstance(n, ast.FunctionDef) and n.name == "channel_text"
                                            for n in ast.walk(tree)) else set())


def uses() -> Iterator[Use]:
    """Every call of core.texts.text (as ``text(...)`` or ``texts.text(...)``) and channels' ``channel_text``."""
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            owner = _function_of(tree)
            names = _imported(tree) | ({"text"} if relative == "core/texts.py" else set())
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                if isinstance(func, ast.Name) and func.id in names:
                    name = func.id
                elif isinstance(func, ast.Attribute) and func.attr == "text" and isinstance(func.value, ast.Name) \
                        and func.value.id == "texts" and "texts" in names:
                    name = "text"
                else:
                    continue
                keys = _keys(node.args[0])
                if keys is not None and name == "channel_text":
                    keys = tuple(f"channels.{key}" for key in keys)
                if keys is None and (relative, owner.get(node)) in DYNAMIC_KEY_OK:
                    continue
                spread = any(k.arg is None for k in node.keywords)
                yield Use(f"{relative}:{node.lineno}", keys, None if spread else {k.arg for k in node.keywords})


@pytest.fixture(scope="module")
def entries() -> Dict[str, str]:
    return texts.load()


@pytest.fixture(scope="module")
def code_uses() -> List[Use]:
    return list(uses())


def test_the_code_uses_texts(code_uses):
    assert len(code_uses) > 50  # the scan found the calls (a renamed function would hide them all)


def test_every_key_in_the_code_is_in_the_file(entries, code_uses):
    dynamic = [u.where for u in code_uses if u.keys is None]
    assert not dynamic, f"keys not written in the code (write the key, or a conditional between keys): {dynamic}"
    missing = [(u.where, k) for u in code_uses for k in u.keys if k not in entries]
    assert not missing


def test_the_code_passes_each_entry_its_placeholders(entries, code_uses):
    wrong = [(u.where, k, sorted(u.values), sorted(texts.placeholders(entries[k])))
             for u in code_uses if u.values is not None for k in u.keys
             if k in entries and u.values != texts.placeholders(entries[k])]
    assert not wrong


def test_every_entry_is_used(entries, code_uses):
    used = {k for u in code_uses for k in u.keys or ()}
    assert sorted(set(entries) - used) == []


def test_texts_are_vietnamese_and_complete(entries):
    assert problems(entries) == []


def test_domain_responses_are_vietnamese_and_complete():
    responses = domain_responses()
    assert len(responses) > 5 and problems(responses) == []


def test_the_checks_catch_broken_texts():
    broken = {"dossier.no_diacritics": "Ban can hoi them gi khong?", "dossier.cut_off": "Bạn cần hỏi thêm gì",
              "dossier.cut_at_comma": "Hồ sơ {code} đang xử lý,", "phrases.no_diacritics": "theo thong bao"}
    assert [p.split(":")[0] for p in problems(broken)] == [
        "dossier.no_diacritics", "dossier.cut_off", "dossier.cut_at_comma", "phrases.no_diacritics"]
    fine = {"a.quote": 'Ví dụ: "tách thửa cần gì?"', "a.placeholder": "Cần bổ sung: {items}",
            "a.emoji": "Cảm ơn bạn 👍", "buttons.t": "Gặp nhân viên", "buttons.e": "📄 {title}"}
    assert problems(fine) == []


def test_text_fails_loudly(entries):
    assert texts.text("channels.busy", hotline="1900").endswith("gọi tổng đài 1900.")
    with pytest.raises(texts.TextError, match="no text"):
        texts.text("channels.no_such_text")
    with pytest.raises(texts.TextError, match="missing values \\['hotline'\\]"):
        texts.text("channels.busy")
    # a value the entry does not use is dropped: staff may take the hotline out of a text
    assert texts.text("channels.busy", hotline="1900", who="x") == texts.text("channels.busy", hotline="1900")


def test_the_one_formatter():
    at = dt.datetime(2026, 11, 25, 8, 5)
    assert formatting.date(at) == "25/11/2026" and formatting.day(at) == "thứ Tư, 25/11/2026"
    assert formatting.clock(at) == "8h05" and formatting.clock(dt.time(13, 30)) == "13h30"
    assert formatting.moment(at) == "8h05 thứ Tư, 25/11/2026" and formatting.soon(at) == "8h05 thứ Tư, 25/11"
    assert formatting.stamp(at) == "08:05 25/11/2026"
    assert formatting.weekday(dt.date(2026, 11, 29)) == "Chủ nhật" and len(WEEKDAYS) == 7


def test_the_one_vocabulary():
    assert sorted(STATUS_NAMES) == list(range(1, 11)) and FINAL_STATUSES == {3, 7, 8, 9, 10}
    assert NO_RESULT == {3, 7, 8}
    assert CHANNELS == ("direct", "online", "postal")
    assert [FILING_CHANNELS[c].title for c in CHANNELS] == ["Nộp trực tiếp", "Nộp trực tuyến", "Nộp qua bưu chính"]
