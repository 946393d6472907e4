"""Text tools: search, extractive summary, translation, sentiment, statistics and more.

Heavy work runs in a worker thread (``blocking=True``) on inputs the schemas bound (see
``ToolLimits``); what each tool does lives in :mod:`agentkit_tools.builtin._text_ops`.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any

from agentkit.exceptions import ToolNotConfiguredError
from agentkit.tools import Tool
from agentkit_tools._netguard import guarded_request
from agentkit_tools.builtin._analysis import (
    split_sentences,
    text_extract_keywords,
    text_sentiment,
    text_statistics,
)
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._schema import array, boolean, integer, make_tool, number, obj, string
from agentkit_tools.builtin._text_ops import (
    EXTRACT_KINDS,
    text_diff,
    text_extract,
    text_replace,
    text_search,
    text_split,
    text_summarize,
    text_template,
    text_transform,
)

__all__ = ["split_sentences", "text_tools"]


def text_tools(config: ToolsConfig) -> list[Tool]:
    """The text tools, bounded by *config*'s limits; translation uses its LibreTranslate URL."""
    limits = config.limits
    text_param = string("The text", maxLength=limits.max_text_chars)
    pattern_param = string(minLength=1, maxLength=limits.max_pattern_chars)

    def bind(function: Callable[..., Any]) -> Callable[..., Any]:
        return functools.partial(function, limits=limits)

    async def text_translate(text: str, target: str, source: str = "auto") -> dict[str, Any]:
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
                f"the translation provider refused (HTTP {response.status_code}): "
                f"{reason or payload}"
            )
        detected = payload.get("detectedLanguage") or {}
        return {
            "text": str(payload["translatedText"]),
            "source": source,
            "target": target,
            "detected_language": detected.get("language") if source == "auto" else source,
        }

    return [
        make_tool(
            bind(text_search),
            name="text_search",
            category="text",
            blocking=True,
            description="Find a word, phrase or regex in a text; matches with line and context.",
            parameters=obj(
                {
                    "text": text_param,
                    "query": pattern_param,
                    "regex": boolean(default=False),
                    "case_sensitive": boolean(default=False),
                    "whole_word": boolean(default=False),
                    "max_results": integer(minimum=1, maximum=10_000, default=100),
                    "context": integer(minimum=0, maximum=1000, default=40),
                },
                ["text", "query"],
            ),
            returns=obj(
                {
                    "query": string(),
                    "count": integer(),
                    "matches": array(
                        obj(
                            {
                                "match": string(),
                                "start": integer(),
                                "end": integer(),
                                "line": integer(),
                                "context": string(),
                            }
                        )
                    ),
                },
                ["count", "matches"],
            ),
        ),
        make_tool(
            bind(text_summarize),
            name="text_summarize",
            category="text",
            blocking=True,
            description="Extractive summary: the most representative sentences, in "
            "order, within max_length characters.",
            parameters=obj(
                {
                    "text": text_param,
                    "max_length": integer(
                        "Longest summary in characters",
                        minimum=10,
                        maximum=limits.max_text_chars,
                        default=500,
                    ),
                    "max_sentences": integer(
                        "0 means no limit", minimum=0, maximum=limits.max_rows, default=0
                    ),
                },
                ["text"],
            ),
            returns=obj(
                {
                    "summary": string(),
                    "sentences": integer(),
                    "total_sentences": integer(),
                    "original_length": integer(),
                    "summary_length": integer(),
                },
                ["summary"],
            ),
        ),
        make_tool(
            text_translate,
            name="text_translate",
            category="text",
            open_world=True,
            description="Translate text with the configured LibreTranslate server.",
            parameters=obj(
                {
                    "text": string(minLength=1, maxLength=100_000),
                    "target": string("Target language code, e.g. 'de'", minLength=2, maxLength=10),
                    "source": string(
                        "Source language or 'auto'", default="auto", minLength=2, maxLength=10
                    ),
                },
                ["text", "target"],
            ),
            returns=obj(
                {
                    "text": string(),
                    "source": string(),
                    "target": string(),
                    "detected_language": {"type": ["string", "null"]},
                },
                ["text"],
            ),
        ),
        make_tool(
            text_sentiment,
            name="text_sentiment",
            category="text",
            blocking=True,
            description="Lexicon-based sentiment (English): label, score in [-1, 1] and "
            "the words that drove it, with negation and intensifiers.",
            parameters=obj({"text": text_param}, ["text"]),
            returns=obj(
                {
                    "label": string(enum=["positive", "negative", "neutral"]),
                    "score": number(minimum=-1, maximum=1),
                    "positive_words": array(string()),
                    "negative_words": array(string()),
                    "word_count": integer(),
                },
                ["label", "score"],
            ),
        ),
        make_tool(
            text_statistics,
            name="text_statistics",
            category="text",
            blocking=True,
            description="Counts (characters, words, sentences, paragraphs), averages, "
            "reading time and Flesch reading ease.",
            parameters=obj({"text": text_param}, ["text"]),
            returns=obj(
                {
                    "characters": integer(),
                    "words": integer(),
                    "sentences": integer(),
                    "paragraphs": integer(),
                    "flesch_reading_ease": {"type": ["number", "null"]},
                },
                ["characters", "words"],
                closed=False,
            ),
        ),
        make_tool(
            text_extract_keywords,
            name="text_extract_keywords",
            category="text",
            blocking=True,
            description="The most frequent meaningful words (stop words removed).",
            parameters=obj(
                {"text": text_param, "max_keywords": integer(minimum=1, maximum=200, default=10)},
                ["text"],
            ),
            returns=obj(
                {
                    "keywords": array(
                        obj({"keyword": string(), "count": integer(), "score": number()})
                    )
                },
                ["keywords"],
            ),
        ),
        make_tool(
            bind(text_extract),
            name="text_extract",
            category="text",
            blocking=True,
            description="Pull emails, URLs, phone numbers, hashtags, mentions, numbers, "
            "dates and IP addresses out of a text.",
            parameters=obj(
                {
                    "text": text_param,
                    "kinds": array(
                        string(enum=EXTRACT_KINDS), uniqueItems=True, maxItems=len(EXTRACT_KINDS)
                    ),
                },
                ["text"],
            ),
            returns=obj(
                {
                    "found": {"type": "object", "additionalProperties": array(string())},
                    "total": integer(),
                },
                ["found", "total"],
            ),
        ),
        make_tool(
            bind(text_replace),
            name="text_replace",
            category="text",
            blocking=True,
            description="Replace text or regex matches (with \\1 groups) in a text.",
            parameters=obj(
                {
                    "text": text_param,
                    "find": pattern_param,
                    "replace": string(maxLength=limits.max_text_chars),
                    "regex": boolean(default=False),
                    "case_sensitive": boolean(default=True),
                    "count": integer(
                        "0 replaces all", minimum=0, maximum=limits.max_text_chars, default=0
                    ),
                },
                ["text", "find", "replace"],
            ),
            returns=obj({"text": string(), "replacements": integer()}, ["text", "replacements"]),
        ),
        make_tool(
            bind(text_split),
            name="text_split",
            category="text",
            blocking=True,
            description="Split a text into sentences, words, lines, paragraphs, or "
            "overlapping chunks of about chunk_size characters.",
            parameters=obj(
                {
                    "text": text_param,
                    "mode": string(
                        enum=["sentences", "words", "lines", "paragraphs", "chunks"],
                        default="sentences",
                    ),
                    "chunk_size": integer(minimum=1, maximum=limits.max_text_chars, default=1000),
                    "overlap": integer(minimum=0, maximum=limits.max_text_chars, default=0),
                },
                ["text"],
            ),
            returns=obj(
                {"mode": string(), "parts": array(string()), "count": integer()}, ["parts", "count"]
            ),
        ),
        make_tool(
            bind(text_transform),
            name="text_transform",
            category="text",
            blocking=True,
            description="Change case or form: upper, lower, title, snake_case, "
            "camel_case, kebab_case, slug, reverse, strip and more.",
            parameters=obj(
                {
                    "text": text_param,
                    "operation": string(
                        enum=[
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
                    ),
                },
                ["text", "operation"],
            ),
            returns=obj({"operation": string(), "text": string()}, ["text"]),
        ),
        make_tool(
            bind(text_diff),
            name="text_diff",
            category="text",
            blocking=True,
            description="Unified diff of two texts, lines added/removed and similarity.",
            parameters=obj(
                {
                    "a": string(maxLength=limits.max_text_chars),
                    "b": string(maxLength=limits.max_text_chars),
                    "context_lines": integer(minimum=0, maximum=100, default=3),
                },
                ["a", "b"],
            ),
            returns=obj(
                {
                    "diff": string(),
                    "added": integer(),
                    "removed": integer(),
                    "similarity": number(minimum=0, maximum=1),
                    "identical": boolean(),
                },
                ["diff", "similarity"],
            ),
        ),
        make_tool(
            bind(text_template),
            name="text_template",
            category="text",
            blocking=True,
            description="Fill a $name / ${name} template with values (no code runs).",
            parameters=obj(
                {
                    "template": string(maxLength=limits.max_text_chars),
                    "values": {"type": "object", "maxProperties": limits.max_list_items},
                    "strict": boolean("Fail on missing values", default=True),
                },
                ["template", "values"],
            ),
            returns=obj({"text": string(), "missing": array(string())}, ["text"]),
        ),
    ]
