"""Text tools: search, extractive summary, translation, sentiment, statistics and more.

Each tool is a plain function made a tool with ``@tool``; settings come from the injected
``config`` (``tool.bind(config=ToolsConfig(...))``), and :func:`text_tools` binds every tool
and fits its schema bounds to ``config.limits``. Heavy work runs in a tool thread
(``blocking=True``) on inputs the schemas bound (see ``ToolLimits``); what each tool does lives
in :mod:`agentkit_tools.builtin._text_ops` and :mod:`agentkit_tools.builtin._analysis`.
Sentiment is VADER (``nltk-vader-sentiment``), imported on the first call.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Final, Literal, TypedDict, get_args

import msgspec

from agentkit.exceptions import ToolNotConfiguredError
from agentkit.tools import FunctionTool, Injected, Tool, tool
from agentkit_tools._netguard import guarded_request
from agentkit_tools.builtin import _analysis, _text_ops
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._typed import Limit, Shape, fit_to_limits

__all__ = [
    "TOOLS",
    "text_diff",
    "text_extract",
    "text_extract_keywords",
    "text_replace",
    "text_search",
    "text_sentiment",
    "text_split",
    "text_statistics",
    "text_summarize",
    "text_template",
    "text_tools",
    "text_transform",
    "text_translate",
]

Config = Annotated[ToolsConfig, Injected]
Text = Annotated[str, Limit("maxLength", "max_text_chars")]
Pattern = Annotated[str, msgspec.Meta(min_length=1), Limit("maxLength", "max_pattern_chars")]
ExtractKind = Literal[
    "dates", "emails", "hashtags", "ip_addresses", "mentions", "numbers", "phone_numbers", "urls"
]
SplitMode = Literal["sentences", "words", "lines", "paragraphs", "chunks"]
Operation = Literal[
    "upper",
    "lower",
    "title",
    "capitalize",
    "swapcase",
    "strip",
    "reverse",
    "normalize_whitespace",
    "remove_punctuation",
    "snake_case",
    "kebab_case",
    "camel_case",
    "pascal_case",
    "slug",
]
_KINDS: Final = get_args(ExtractKind)
assert list(_KINDS) == _text_ops.EXTRACT_KINDS  # one list of kinds, in the schema and the code

# -- returns ---------------------------------------------------------------------------------


class SearchMatch(TypedDict):
    """One match of text_search."""

    match: str
    start: int
    end: int
    line: int
    context: str


class SearchResult(TypedDict):
    """The matches of a text_search (count is every match, matches at most max_results)."""

    query: str
    count: int
    matches: list[SearchMatch]


class SummaryResult(TypedDict):
    """An extractive summary and its sizes."""

    summary: str
    sentences: int
    total_sentences: int
    original_length: int
    summary_length: int


class TranslationResult(TypedDict):
    """A translation and its languages."""

    text: str
    source: str
    target: str
    detected_language: str | None


Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


class SentimentResult(TypedDict):
    """VADER's sentiment of a text: label, compound score, shares and the words that drove it."""

    label: Literal["positive", "negative", "neutral"]
    score: Annotated[float, msgspec.Meta(ge=-1, le=1)]
    positive: Share
    negative: Share
    neutral: Share
    positive_words: list[str]
    negative_words: list[str]
    word_count: int


class StatisticsResult(TypedDict):
    """Counts, averages and readability of a text."""

    characters: int
    characters_no_spaces: int
    words: int
    sentences: int
    paragraphs: int
    lines: int
    unique_words: int
    average_word_length: float
    average_sentence_length: float
    reading_time_minutes: float
    flesch_reading_ease: float | None


class Keyword(TypedDict):
    """A keyword, how often it occurs and its share of the meaningful words."""

    keyword: str
    count: int
    score: float


class KeywordsResult(TypedDict):
    """The most frequent meaningful words."""

    keywords: list[Keyword]


class ExtractResult(TypedDict):
    """What was found, by kind."""

    found: dict[str, list[str]]
    total: int


class ReplaceResult(TypedDict):
    """The text after replacing, and how many replacements were made."""

    text: str
    replacements: int


class SplitResult(TypedDict):
    """The parts of a split text."""

    mode: str
    parts: list[str]
    count: int


class TransformResult(TypedDict):
    """The transformed text."""

    operation: str
    text: str


class DiffResult(TypedDict):
    """A unified diff and how similar the texts are."""

    diff: str
    added: int
    removed: int
    similarity: Annotated[float, msgspec.Meta(ge=0, le=1)]
    identical: bool


class TemplateResult(TypedDict):
    """The filled template and the placeholders that had no value."""

    text: str
    missing: list[str]


# -- the tools -------------------------------------------------------------------------------


@tool(
    name="text_search",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_search(
    text: Text,
    query: Pattern,
    regex: bool = False,
    case_sensitive: bool = False,
    whole_word: bool = False,
    max_results: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100,
    context: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 40,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(SearchResult)]:
    """Find a word, phrase or regex in a text; matches with line and context.

    Args:
        text: The text.
        query: The word, phrase or (with regex) RE2 regular expression.
        regex: Read the query as a regular expression.
        case_sensitive: Match case exactly.
        whole_word: Match only whole words.
        max_results: Most matches reported (count still counts them all).
        context: Characters of context on each side of a match.
        config: The settings (injected).
    """
    return _text_ops.text_search(
        text,
        query,
        regex,
        case_sensitive,
        whole_word,
        max_results,
        context,
        limits=config.limits,
    )


@tool(
    name="text_summarize",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_summarize(
    text: Text,
    max_length: Annotated[int, msgspec.Meta(ge=10), Limit("maximum", "max_text_chars")] = 500,
    max_sentences: Annotated[int, msgspec.Meta(ge=0), Limit("maximum", "max_rows")] = 0,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(SummaryResult)]:
    """Extractive summary: the most representative sentences, in order, within max_length characters.

    Args:
        text: The text.
        max_length: Longest summary in characters.
        max_sentences: Most sentences; 0 means no limit.
        config: The settings (injected).
    """  # noqa: E501
    return _text_ops.text_summarize(text, max_length, max_sentences, limits=config.limits)


@tool(
    name="text_translate",
    open_world=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
async def text_translate(
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)],
    target: Annotated[str, msgspec.Meta(min_length=2, max_length=10)],
    source: Annotated[str, msgspec.Meta(min_length=2, max_length=10)] = "auto",
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(TranslationResult)]:
    """Translate text with the configured LibreTranslate server.

    Args:
        text: The text to translate.
        target: Target language code, e.g. 'de'.
        source: Source language or 'auto'.
        config: The settings (injected): ``translate_url`` and ``translate_api_key``.
    """
    if not config.translate_url:
        raise ToolNotConfiguredError(
            "text_translate is not configured: set ToolsConfig(translate_url=...) to a "
            "LibreTranslate server"
        )
    body: dict[str, Any] = {"q": text, "source": source, "target": target, "format": "text"}
    if config.translate_api_key:
        body["api_key"] = config.translate_api_key
    response = await guarded_request(
        config,
        "POST",
        config.translate_url.rstrip("/") + "/translate",
        json_body=body,
        guard=False,
    )
    try:
        # A large answer is parsed off the event loop.
        payload = await asyncio.to_thread(json.loads, response.content)
    except ValueError as exc:
        raise ValueError(f"the translation provider sent no JSON: {exc}") from exc
    if response.status_code >= 400 or "translatedText" not in payload:
        reason = payload.get("error") if isinstance(payload, dict) else None
        raise ValueError(
            f"the translation provider refused (HTTP {response.status_code}): {reason or payload}"
        )
    detected = payload.get("detectedLanguage") or {}
    return {
        "text": str(payload["translatedText"]),
        "source": source,
        "target": target,
        "detected_language": detected.get("language") if source == "auto" else source,
    }


@tool(
    name="text_sentiment",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_sentiment(text: Text) -> Annotated[dict[str, Any], Shape(SentimentResult)]:
    """VADER sentiment (English): label, compound score in [-1, 1], shares and the words that drove it, with negation and intensifiers.

    Args:
        text: The text.
    """  # noqa: E501
    return _analysis.text_sentiment(text)


@tool(
    name="text_statistics",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_statistics(text: Text) -> Annotated[dict[str, Any], Shape(StatisticsResult)]:
    """Counts (characters, words, sentences, paragraphs), averages, reading time and Flesch reading ease.

    Args:
        text: The text.
    """  # noqa: E501
    return _analysis.text_statistics(text)


@tool(
    name="text_extract_keywords",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_extract_keywords(
    text: Text, max_keywords: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
) -> Annotated[dict[str, Any], Shape(KeywordsResult)]:
    """The most frequent meaningful words (stop words removed).

    Args:
        text: The text.
        max_keywords: Most keywords returned.
    """
    return _analysis.text_extract_keywords(text, max_keywords)


@tool(
    name="text_extract",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_extract(
    text: Text,
    kinds: Annotated[
        tuple[ExtractKind, ...],
        msgspec.Meta(max_length=len(_KINDS), extra_json_schema={"uniqueItems": True}),
    ] = (),
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ExtractResult)]:
    """Pull emails, URLs, phone numbers, hashtags, mentions, numbers, dates and IP addresses out of a text.

    Args:
        text: The text.
        kinds: What to look for; empty means every kind.
        config: The settings (injected).
    """  # noqa: E501
    return _text_ops.text_extract(text, list(kinds), limits=config.limits)


@tool(
    name="text_replace",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_replace(
    text: Text,
    find: Pattern,
    replace: Text,
    regex: bool = False,
    case_sensitive: bool = True,
    count: Annotated[int, msgspec.Meta(ge=0), Limit("maximum", "max_text_chars")] = 0,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(ReplaceResult)]:
    """Replace text or regex matches (with \\1 groups) in a text.

    Args:
        text: The text.
        find: The text or (with regex) RE2 regular expression to replace.
        replace: The replacement; with regex, \\1 and \\g<name> insert groups.
        regex: Read find as a regular expression.
        case_sensitive: Match case exactly.
        count: Most replacements; 0 replaces all.
        config: The settings (injected).
    """
    return _text_ops.text_replace(
        text, find, replace, regex, case_sensitive, count, limits=config.limits
    )


@tool(
    name="text_split",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_split(
    text: Text,
    mode: SplitMode = "sentences",
    chunk_size: Annotated[int, msgspec.Meta(ge=1), Limit("maximum", "max_text_chars")] = 1000,
    overlap: Annotated[int, msgspec.Meta(ge=0), Limit("maximum", "max_text_chars")] = 0,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(SplitResult)]:
    """Split a text into sentences, words, lines, paragraphs, or overlapping chunks of about chunk_size characters.

    Args:
        text: The text.
        mode: What to split into.
        chunk_size: Longest chunk in characters (mode 'chunks').
        overlap: Characters each chunk repeats from the one before (mode 'chunks').
        config: The settings (injected).
    """  # noqa: E501
    return _text_ops.text_split(text, mode, chunk_size, overlap, limits=config.limits)


@tool(
    name="text_transform",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_transform(
    text: Text, operation: Operation, *, config: Config
) -> Annotated[dict[str, Any], Shape(TransformResult)]:
    """Change case or form: upper, lower, title, snake_case, camel_case, kebab_case, slug, reverse, strip and more.

    Args:
        text: The text.
        operation: The change to make.
        config: The settings (injected).
    """  # noqa: E501
    return _text_ops.text_transform(text, operation, limits=config.limits)


@tool(
    name="text_diff",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_diff(
    a: Text,
    b: Text,
    context_lines: Annotated[int, msgspec.Meta(ge=0, le=100)] = 3,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(DiffResult)]:
    """Unified diff of two texts, lines added/removed and similarity.

    Args:
        a: The old text.
        b: The new text.
        context_lines: Unchanged lines shown around each change.
        config: The settings (injected).
    """
    return _text_ops.text_diff(a, b, context_lines, limits=config.limits)


@tool(
    name="text_template",
    blocking=True,
    category="text",
    tags=("text",),
    read_only=True,
    idempotent=True,
)
@typed_errors
def text_template(
    template: Text,
    values: Annotated[dict[str, Any], Limit("maxProperties", "max_list_items")],
    strict: bool = True,
    *,
    config: Config,
) -> Annotated[dict[str, Any], Shape(TemplateResult)]:
    """Fill a $name / ${name} template with values (no code runs).

    Args:
        template: The template.
        values: The value of each placeholder (non-strings are written as JSON).
        strict: Fail on missing values.
        config: The settings (injected).
    """
    return _text_ops.text_template(template, values, strict, limits=config.limits)


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    text_search,
    text_summarize,
    text_translate,
    text_sentiment,
    text_statistics,
    text_extract_keywords,
    text_extract,
    text_replace,
    text_split,
    text_transform,
    text_diff,
    text_template,
)


def text_tools(config: ToolsConfig) -> list[Tool]:
    """The text tools bound to *config*, their schema bounds set from ``config.limits``."""
    return [
        fit_to_limits(item.bind(config=config) if item.injected else item, config.limits)
        for item in TOOLS
    ]
