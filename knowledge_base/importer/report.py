"""Import report: per field, how many records parsed and which failed and why."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Tuple


@dataclass
class ImportReport:
    """Counts per field and the list of (record, field, reason) failures; nothing is dropped silently."""

    total: int = 0
    parsed: Dict[str, int] = field(default_factory=lambda: defaultdict(int))
    empty: Dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: List[Tuple[str, str, str]] = field(default_factory=list)
    rejected: List[Tuple[str, str]] = field(default_factory=list)

    def ok(self, fieldname: str, empty: bool = False) -> None:
        """Count one record whose ``fieldname`` parsed (or was officially empty)."""
        (self.empty if empty else self.parsed)[fieldname] += 1

    def fail(self, source: str, fieldname: str, reason: str) -> None:
        """Record that ``fieldname`` of ``source`` could not be parsed."""
        self.failures.append((source, fieldname, reason))

    def reject(self, source: str, reason: str) -> None:
        """Record a whole record that could not become a catalogue entry."""
        self.rejected.append((source, reason))

    @property
    def imported(self) -> int:
        """Records that became catalogue entries."""
        return self.total - len(self.rejected)

    def to_text(self) -> str:
        """Human-readable report, one line per field, then every failure."""
        fields = sorted(set(self.parsed) | set(self.empty) | {f for _, f, _ in self.failures})
        failed: Dict[str, int] = defaultdict(int)
        for _, f, _ in self.failures:
            failed[f] += 1
        lines = [f"Records read: {self.total}; imported: {self.imported}; rejected: {len(self.rejected)}",
                 f"{'field':<22}{'parsed':>8}{'empty':>8}{'failed':>8}"]
        for f in fields:
            lines.append(f"{f:<22}{self.parsed.get(f, 0):>8}{self.empty.get(f, 0):>8}{failed.get(f, 0):>8}")
        if self.rejected:
            lines.append("")
            lines.append("Rejected records:")
            lines.extend(f"  {src}: {why}" for src, why in self.rejected)
        if self.failures:
            lines.append("")
            lines.append("Field failures (the field is kept as the official text or left empty):")
            lines.extend(f"  {src} [{f}]: {why}" for src, f, why in self.failures)
        return "\n".join(lines) + "\n"
