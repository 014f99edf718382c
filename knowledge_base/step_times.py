"""The time limits a record's steps state ("Trong thời hạn 05 ngày làm việc kể từ …"), by step.

The importer takes a unit from them for a time cell that gives a number alone; an answer lists them when that
number is not the only limit they state (the quarantine of 1.002338: the cell says "1", the steps 1 day to check the
file, then 5 days after the quarantine, or 1 for animals from a disease-free farm).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from knowledge_base.schema import Procedure, TimeUnit

# "trong thời hạn 05 ngày làm việc" in a step: a time limit said as one, its number and unit (not a date "ngày 05
# tháng 02", a clock time "7 giờ 30" nor a validity "có thời hạn 10 năm")
_STEP_TIME = re.compile(r"(?:trong\s+thời\s+hạn|trong\s+vòng|trong\s+thời\s+gian|không\s+quá|tối\s+đa|"
                        r"thời\s+hạn\s+giải\s+quyết(?:\s+là)?:?)\s+(?:tối\s+đa\s+|không\s+quá\s+)?"
                        r"0*(\d+(?:,\d+)?)\s+(ngày\s+làm\s+việc|ngày|giờ\s+làm\s+việc|giờ)(?!\s*\d)\b",
                        re.IGNORECASE)
_STEP_UNITS = {"ngày làm việc": TimeUnit.working_day, "ngày": TimeUnit.day, "giờ làm việc": TimeUnit.working_hour,
               "giờ": TimeUnit.hour}


@dataclass(frozen=True)
class StepLimit:
    """One time limit a step states: the step's position (1-based), the number and its unit."""

    step: int
    value: float
    unit: TimeUnit


def step_limits(proc: Procedure) -> List[StepLimit]:
    """Every time limit the record's steps state, in the order they say them (repeats kept)."""
    return [StepLimit(n, float(m.group(1).replace(",", ".")), _STEP_UNITS[" ".join(m.group(2).lower().split())])
            for n, step in enumerate(proc.steps, 1)
            for m in _STEP_TIME.finditer(f"{step.name} {step.description or ''}")]


def adding_up(limits: List[StepLimit], value: float) -> Optional[TimeUnit]:
    """The unit of the steps' limits when they are one per step, all in one unit, and add up to ``value`` (1.007926:
    a cell "20", then 18 and 2 working days): the steps one after the other take that time. None otherwise."""
    steps = [limit.step for limit in limits]
    units = {limit.unit for limit in limits}
    if len(limits) < 2 or len(set(steps)) < len(steps) or len(units) != 1:
        return None
    return next(iter(units)) if abs(sum(limit.value for limit in limits) - value) < 1e-9 else None
