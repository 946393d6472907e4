"""Text analysis for the text tools: sentences, words, sentiment, readability, keywords.

Sentiment is VADER (Hutto & Gilbert, 2014) from ``nltk-vader-sentiment``: the published
lexicon and rules, in linear time, imported on the first call.

The fixed patterns here run in linear time on Python's ``re``; they are applied match by
match (``finditer``) rather than in one ``findall``/``split`` call, because one call over a
megabyte holds the GIL throughout and would stall the event loop from a worker thread.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from agentkit_tools.builtin._stopwords import STOPWORDS

if TYPE_CHECKING:
    from vader import SentimentIntensityAnalyzer

__all__ = [
    "split_on",
    "split_sentences",
    "text_extract_keywords",
    "text_sentiment",
    "text_statistics",
    "word_list",
]

_WORD = re.compile(r"[A-Za-z\u00C0-\u024F0-9]+(?:['\u2019][A-Za-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u00C0-\u024F])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_VOWELS = re.compile(r"[aeiouy]+")


def split_on(pattern: re.Pattern[str], text: str) -> Iterator[str]:
    """``pattern.split(text)`` for a pattern without groups, one match at a time."""
    last = 0
    for found in pattern.finditer(text):
        yield text[last : found.start()]
        last = found.end()
    yield text[last:]


def split_sentences(text: str) -> list[str]:
    """Sentences of *text*, split after . ! ? before a capital or digit."""
    sentences: list[str] = []
    for paragraph in split_on(_PARAGRAPH_BREAK, text):
        flat = " ".join(paragraph.split())
        sentences.extend(part.strip() for part in split_on(_SENTENCE_END, flat) if part.strip())
    return sentences


def word_list(text: str) -> list[str]:
    return [found.group().lower() for found in _WORD.finditer(text)]


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """VADER's analyzer, made once (its lexicon import takes about 0.1 s; it is thread-safe)."""
    from vader import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def text_sentiment(text: str) -> dict[str, Any]:
    """VADER's scores for *text*, with the lexicon words that drove them.

    ``score`` is VADER's compound score; the words are the tokens found in VADER's lexicon,
    each counted positive or negative by its valence, flipped when one of the three words
    before it negates it (VADER's own negation window).
    """
    from vader import SentiText, negated

    analyzer = _analyzer()
    scores = analyzer.polarity_scores(text)
    lexicon = analyzer.lexicon
    tokens = SentiText(text.replace("\u2019", "'"), frozenset(lexicon)).lowered
    positives: list[str] = []
    negatives: list[str] = []
    for index, token in enumerate(tokens):
        valence = lexicon.get(token, 0.0)
        if not valence:
            continue
        if negated(tokens[max(0, index - 3) : index]):
            valence = -valence
        (positives if valence > 0 else negatives).append(token)
    score = scores["compound"]
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return {
        "label": label,
        "score": score,
        "positive": scores["pos"],
        "negative": scores["neg"],
        "neutral": scores["neu"],
        "positive_words": positives,
        "negative_words": negatives,
        "word_count": len(tokens),
    }


def _syllables(word: str) -> int:
    groups = _VOWELS.findall(word.lower())
    count = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def text_statistics(text: str) -> dict[str, Any]:
    words = [found.group() for found in _WORD.finditer(text)]
    sentences = split_sentences(text)
    word_count, sentence_count = len(words), len(sentences)
    result: dict[str, Any] = {
        "characters": len(text),
        "characters_no_spaces": sum(1 for ch in text if not ch.isspace()),
        "words": word_count,
        "sentences": sentence_count,
        "paragraphs": sum(1 for p in split_on(_PARAGRAPH_BREAK, text) if p.strip()),
        "lines": len(text.splitlines()),
        "unique_words": len({w.lower() for w in words}),
        "average_word_length": round(sum(map(len, words)) / word_count, 2) if words else 0.0,
        "average_sentence_length": round(word_count / sentence_count, 2) if sentences else 0.0,
        "reading_time_minutes": round(word_count / 200, 2),
        "flesch_reading_ease": None,
    }
    if words and sentences:
        syllables = sum(_syllables(w) for w in words)
        result["flesch_reading_ease"] = round(
            206.835 - 1.015 * word_count / sentence_count - 84.6 * syllables / word_count, 2
        )
    return result


def text_extract_keywords(text: str, max_keywords: int = 10) -> dict[str, Any]:
    words = [w for w in word_list(text) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()]
    if not words:
        return {"keywords": []}
    counts = Counter(words)
    first_seen = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (-counts[w], first_seen[w]))[:max_keywords]
    return {
        "keywords": [
            {"keyword": w, "count": counts[w], "score": round(counts[w] / len(words), 4)}
            for w in ranked
        ]
    }
