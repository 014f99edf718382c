"""Time answers: what a record says of how long its procedure takes, in the citizen's words.

The time column of a record's channels first ("10 ngày làm việc"); where it gives a bare number, the limits the steps
state beside it (``step_times``); where it gives none, what the channels' descriptions say.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence

from core.texts import text
from knowledge_base.schema import Channel, Procedure, TimeUnit
from knowledge_base.step_times import StepLimit, adding_up, step_limits
from knowledge_base.text import DURATION, bare_step_name, clean_space


def unit_name(unit: str, default: str = "") -> str:
    """A time limit's unit in words ("ngày làm việc"); ``default`` for an unknown or unspecified one."""
    names = {"working_day": text("phrases.answer_unit_working_day"), "day": text("phrases.answer_unit_day"),
             "hour": text("phrases.answer_unit_hour"), "working_hour": text("phrases.answer_unit_working_hour"),
             "week": text("phrases.answer_unit_week"), "month": text("phrases.answer_unit_month"),
             "year": text("phrases.answer_unit_year")}
    return names.get(unit, default)


def number(value: Optional[float]) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def time_text(ch: Channel) -> str:
    if ch.time.value is None:
        return text("phrases.answer_no_time")
    unit = unit_name(ch.time.unit)
    value = number(ch.time.value)
    if unit and ch.time.unit_from == "steps":  # the cell gives only the number; the steps give its unit
        return text("phrases.answer_time_unit_from_steps", value=value, unit=unit)
    return f"{value} {unit}".strip() if unit else text("phrases.answer_time_no_unit", value=value)


def vague_time(proc: Procedure) -> List[StepLimit]:
    """The time limits the record's steps state, when a time cell gives a number alone and the steps state other
    numbers too (1.002338: "1", and the steps 1 working day to check the file, 5 after a quarantine or 1 for animals
    of a disease-free farm): that number may not be the citizen's time, and the time answer lists them after it.
    Empty otherwise, and when the steps' limits add up to it."""
    alone = {c.time.value for c in proc.channels
             if c.time.value is not None and (c.time.unit_from == "steps" or c.time.unit == TimeUnit.unspecified)}
    if not alone:
        return []
    limits = step_limits(proc)
    if all(adding_up(limits, value) is not None for value in alone):
        return []
    return limits if {limit.value for limit in limits} - alone else []


# A channel's description, in pieces: its sentences, the items of a list ("…; - Thời hạn thẩm định …") and its lines
_DESCRIPTION_PIECE = re.compile(r"(?<=\.)\s+(?=[A-ZĐ(*+-])|;\s+(?=[-+*])|\s*\n\s*")
# a case's heading, up to the colon that opens what it says ("(1) Trường hợp … đã được chấp thuận: * Cách …"), a
# filing method's name a table row glued before it aside ("Trực tiếp(2) Trường hợp …")
_DESCRIBED_CASE = re.compile(r"^(?:trực tiếp|trực tuyến|dịch vụ bưu chính)?\s*((?:\(\d{1,2}\)|[a-zđ]\))\s*"
                             r"(?:trường hợp|đối với)\b[^:*]*?)\s*[:*]", re.IGNORECASE)
DESCRIBED_TIMES = 420  # characters of the times a description gives that a time answer says (its budget is 700)
_TIME_LABEL = re.compile(r"^[-+*\s]*(?:thời (?:hạn|gian) giải quyết\s*:?\s*[-+*]?\s*)?", re.IGNORECASE)


def described_times(proc: Procedure) -> List[str]:
    """The times a record gives only in its channels' descriptions, each case's under its heading ("28 ngày làm việc
    (đối với trường hợp cấp mới), 02 ngày làm việc (đối với trường hợp cấp lại) …"), or when they are too long for a
    time answer, how many cases they give a time for (the mine closure 1.014278: "(1) Trường hợp …: … - Thời hạn thẩm
    định hồ sơ: 40 ngày …", then (2) and (3)); nothing when a channel gives a time, or no description does."""
    if any(c.time.value is not None for c in proc.channels):
        return []
    told: List[List[str]] = []
    for description in dict.fromkeys(c.description for c in proc.channels if c.description.strip()):
        lines: List[str] = []
        for piece in _DESCRIPTION_PIECE.split(description):
            case = _DESCRIBED_CASE.match(piece.strip())
            if case:
                lines.append(f"{clean_space(case.group(1))}:")
            elif DURATION.search(piece):
                lines.append(f"- {clean_space(_TIME_LABEL.sub('', piece)).rstrip(' ;.')}.")
        # a heading with no time under it says nothing here
        lines = [line for i, line in enumerate(lines)
                 if line.startswith("- ") or (i + 1 < len(lines) and lines[i + 1].startswith("- "))]
        if lines and lines not in told:
            told.append(lines)
    said = [line for lines in told for line in lines]
    if not said:
        return []
    if sum(len(line) + 1 for line in said) <= DESCRIBED_TIMES:
        return [text("answers.time_described")] + said
    cases = sum(1 for line in said if not line.startswith("- "))
    return [text("answers.time_described_by_case", cases=cases) if cases > 1 else text("answers.time_described_long")]


# the steps' limits are listed step by step up to so many steps and characters; beyond, each unit's range
STEPS_LISTED = 3
STEP_LIMITS = 240
STEP_NAME = 50  # a step's name said beside its limits up to so long ("Tiếp nhận và kiểm tra hồ sơ")
_ALL_STEPS = re.compile(r"trình tự|các bước", re.IGNORECASE)  # "1. Trình tự thực hiện": the heading of them all


def step_limits_said(proc: Procedure, limits: Sequence[StepLimit]) -> str:
    """The sentence after a time answer saying the limits the steps state, each with its step's short name when it
    has one ("Tiếp nhận và kiểm tra hồ sơ: 1 ngày làm việc; Nội dung kiểm dịch: 5 ngày làm việc, 1 ngày làm việc"),
    or when that is long, from the least to the most of each unit ("từ 1 đến 5 ngày làm việc; từ 15 đến 45 ngày").
    The record's steps may follow one another or be alternatives: the sentence says neither."""
    by_step: Dict[int, List[str]] = {}
    for limit in limits:
        one = f"{number(limit.value)} {unit_name(limit.unit.value)}"
        if one not in by_step.setdefault(limit.step, []):
            by_step[limit.step].append(one)
    parts = []
    for n, said in by_step.items():
        name = bare_step_name(proc.steps[n - 1].name).strip(" :.")
        named = len(name) <= STEP_NAME and not DURATION.search(name) and not _ALL_STEPS.match(name)
        parts.append(f"{name}: {', '.join(said)}" if named and name else ", ".join(said))
    listed = "; ".join(parts)
    if len(by_step) <= STEPS_LISTED and len(listed) <= STEP_LIMITS:
        return text("answers.time_steps", limits=listed)
    by_unit: Dict[TimeUnit, List[float]] = {}
    for limit in limits:
        by_unit.setdefault(limit.unit, []).append(limit.value)
    ranges = [text("phrases.answer_limit_range", low=number(min(values)), high=number(max(values)),
                   unit=unit_name(unit.value)) if min(values) < max(values)
              else f"{number(values[0])} {unit_name(unit.value)}" for unit, values in by_unit.items()]
    return text("answers.time_steps", limits="; ".join(ranges))
