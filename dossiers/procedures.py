"""What the dossier service needs of the procedure catalogue: names and time limits per channel."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from core.vocabulary import CHANNELS
from dossiers.calendar import CALENDAR_UNITS, WORKING_UNITS


class CatalogueLimits:
    """Time limits of the catalogue's procedures, by channel (direct / online / postal)."""

    def __init__(self, procedures):
        self._limits: Dict[Tuple[str, str], Tuple[float, str, str]] = {}
        self._names: Dict[str, str] = {}
        self._agencies: Dict[str, List[str]] = {}
        for proc in procedures:
            self._names[proc.code] = proc.name
            self._agencies[proc.code] = list(proc.agencies or proc.competent_agencies)
            for channel in proc.channels:
                time = channel.time
                # a unit the importer read from the steps tells a citizen; a legal due date needs the record's own
                if time.value is not None and time.unit in WORKING_UNITS + CALENDAR_UNITS \
                        and not time.unit_from:
                    self._limits[(proc.code, channel.method)] = (float(time.value), time.unit, time.note or "")

    def __call__(self, procedure_code: str, channel: str) -> Optional[Tuple[float, str]]:
        limit = self._limits.get((procedure_code, channel))
        return (limit[0], limit[1]) if limit else None

    def note(self, procedure_code: str, channel: str) -> str:
        """The official note on the time limit, if any."""
        limit = self._limits.get((procedure_code, channel))
        return limit[2] if limit else ""

    def name(self, procedure_code: str) -> str:
        """The procedure's name ('' when unknown)."""
        return self._names.get(procedure_code, "")

    def agencies(self, procedure_code: str) -> List[str]:
        """Agencies that handle the procedure."""
        return self._agencies.get(procedure_code, [])

    def channels(self, procedure_code: str) -> List[str]:
        """Channels with a usable time limit, in the order direct, online, postal."""
        return [c for c in CHANNELS if (procedure_code, c) in self._limits]

    def codes(self) -> List[str]:
        """Procedure codes with at least one usable time limit."""
        return sorted({code for code, _ in self._limits})
