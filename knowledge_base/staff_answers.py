"""Staff answers (FAQ) as the assistant uses them: the closest active entry to a question."""
from __future__ import annotations

from typing import Optional

from core.stores.faq import ActiveAnswers
from knowledge_base.grouping import best_faq


class StaffAnswers(ActiveAnswers):
    """The console's staff answers, matched to a citizen's question."""

    def match(self, question: str) -> Optional[dict]:
        """The staff answer for ``question``, or None."""
        return best_faq(question, self.entries())
