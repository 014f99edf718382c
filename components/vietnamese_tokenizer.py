"""Rasa tokenizer that applies the knowledge base's Vietnamese normalisation.

Each word of the message becomes one or more tokens whose text is the diacritic-folded,
lower-cased, shorthand-expanded form ("ko" -> "khong", "gcn" -> "giay chung nhan"), so the
featurizers see the same tokens whether the citizen typed accents, which tone placement,
which case, or which abbreviation. Token offsets point at the original word, so entity spans
stay right. The synonym table is shared too: colloquial phrases ("sổ đỏ") add the folded
tokens of their official wording at the end of the message, and so do the lexical cues of
components/cues.py (negation scope, praise or complaint, another agency's service).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.cues import CueFinder
from components.fingerprint import ROOT, files_digest
from core.text import fold, nfc
from knowledge_base.text import DATA_DIR, PIECE_RE, TextNormalizer, ends_sentence, words

# What the tokens depend on besides the message: a change here must retrain the classifier.
TOKEN_SOURCES = [DATA_DIR, ROOT / "components/lexicons", ROOT / "components/cues.py", Path(__file__),
                 ROOT / "knowledge_base/text.py", ROOT / "core/text.py", ROOT / "knowledge_base/scope.py"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Folded, shorthand-expanded Vietnamese tokens with offsets into the original text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Defaults: the base class's options plus whether to append synonym expansions and cues."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "expand_synonyms": True,
            "add_cues": True,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Keep the knowledge base's normaliser."""
        super().__init__(config)
        self.normalizer = TextNormalizer.default()
        self.expand_synonyms = bool(config.get("expand_synonyms", True))
        self.add_cues = bool(config.get("add_cues", True))
        self.cue_finder = CueFinder.default()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> VietnameseTokenizer:
        """Create the component (no training state)."""
        return cls(config)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The tables, lexicons and code the tokens come from, for Rasa's training cache."""
        return files_digest(TOKEN_SOURCES)

    @staticmethod
    def not_supported_languages() -> Optional[List[Text]]:
        """Any language is accepted; it is meant for Vietnamese."""
        return None

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokens of ``attribute``; only the user's text is normalised."""
        text = message.get(attribute) or ""
        if attribute != TEXT:
            parts = text.split() or [text]
            return self._apply_token_pattern(self._convert_words_to_tokens(parts, text))
        tokens: List[Token] = []
        typed: List[str] = []  # the same words with their accents, for the synonym table
        breaks: List[int] = []  # word indices that start a clause (after punctuation)
        original = nfc(text)
        matches = list(PIECE_RE.finditer(original))
        finals = ends_sentence([m.group(0) for m in matches])
        for m, final in zip(matches, finals):
            word = m.group(0)
            if not word[0].isalnum() and word not in self.normalizer.abbreviations:
                breaks.append(len(tokens))
                continue  # punctuation carries no meaning here; chat emoji do (👍, 👎: the shared table)
            expanded = self.normalizer.expand_word(word, final=final)
            parts = words(fold(expanded))
            accented = words(expanded)
            typed.extend(accented if len(accented) == len(parts) else parts)
            for part in parts:
                tokens.append(Token(part, m.start(), m.end()))
        folded = [t.text for t in tokens]
        end = len(original)
        if self.expand_synonyms and tokens:
            for official in self.normalizer.synonym_expansions(folded, typed):
                for part in words(fold(official)):
                    tokens.append(Token(part, end, end))
        if self.add_cues and folded:
            tokens.extend(Token(cue, end, end) for cue in self.cue_finder.cues(folded, typed, breaks))
        if not tokens:
            tokens = [Token(fold(original) or original, 0, len(original))]
        return self._apply_token_pattern(tokens)
