"""Text tools: search, extractive summary, translation, sentiment, statistics and more."""

from __future__ import annotations

import difflib
import json
import math
import re
import string as string_module
import unicodedata
from collections import Counter
from typing import Any

from agentkit._tool import Tool
from agentkit.exceptions import ToolNotConfiguredError
from agentkit_tools._analysis import (
    split_sentences,
    text_extract_keywords,
    text_sentiment,
    text_statistics,
    word_list,
)
from agentkit_tools._config import ToolsConfig
from agentkit_tools._lexicon import STOPWORDS
from agentkit_tools._netguard import guarded_request
from agentkit_tools._schema import array, boolean, integer, make_tool, number, obj, string

__all__ = ["split_sentences", "text_tools"]

_MAX_TEXT = 2_000_000
_TEXT = string("The text", maxLength=_MAX_TEXT)
_PATTERNS = {
    "emails": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "urls": r"https?://[^\s<>\"')\]]+",
    "phone_numbers": r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)",
    "hashtags": r"(?<!\w)#\w+",
    "mentions": r"(?<![\w.])@\w+",
    "numbers": r"(?<![\w.])-?\d+(?:[.,]\d+)*(?:\.\d+)?(?![\w])",
    "dates": r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    "ip_addresses": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
}


def text_search(
    text: str,
    query: str,
    regex: bool = False,
    case_sensitive: bool = False,
    whole_word: bool = False,
    max_results: int = 100,
    context: int = 40,
) -> dict[str, Any]:
    pattern = query if regex else re.escape(query)
    if whole_word:
        pattern = rf"\b(?:{pattern})\b"
    try:
        compiled = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {query!r}: {exc}") from exc
    matches: list[dict[str, Any]] = []
    total = 0
    for found in compiled.finditer(text):
        total += 1
        if len(matches) < max_results:
            start, end = found.span()
            matches.append(
                {
                    "match": found.group(0),
                    "start": start,
                    "end": end,
                    "line": text.count("\n", 0, start) + 1,
                    "context": text[max(0, start - context) : end + context],
                }
            )
    return {"query": query, "count": total, "matches": matches}


def text_summarize(text: str, max_length: int = 500, max_sentences: int = 0) -> dict[str, Any]:
    sentences = split_sentences(text)
    if not sentences:
        raise ValueError("the text has no sentences to summarise")
    frequencies = Counter(w for w in word_list(text) if w not in STOPWORDS and len(w) > 2)
    top = max(frequencies.values(), default=1)

    def score(index: int) -> float:
        words = [w for w in word_list(sentences[index]) if w not in STOPWORDS and len(w) > 2]
        if not words:
            return 0.0
        base = sum(frequencies[w] / top for w in words) / math.sqrt(len(words))
        return base * (1.2 if index == 0 else 1.0)  # lead sentences tend to carry the topic

    scores = [score(i) for i in range(len(sentences))]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    # Sentences scoring below the average are off-topic: leave them out even if they fit.
    average = sum(scores) / len(scores)
    chosen: list[int] = []
    length = 0
    for index in ranked:
        if (max_sentences and len(chosen) >= max_sentences) or (chosen and scores[index] < average):
            break
        extra = len(sentences[index]) + (1 if chosen else 0)
        if length + extra <= max_length:
            chosen.append(index)
            length += extra
    if chosen:
        summary = " ".join(sentences[i] for i in sorted(chosen))
    else:
        # Even the best sentence is too long: cut it at a word boundary.
        best = sentences[ranked[0]]
        cut = (
            best[: max_length - 1].rsplit(" ", 1)[0]
            if " " in best[: max_length - 1]
            else best[: max_length - 1]
        )
        summary = cut.rstrip(" ,;:") + "…"
    return {
        "summary": summary,
        "sentences": len(chosen) or 1,
        "total_sentences": len(sentences),
        "original_length": len(text),
        "summary_length": len(summary),
    }


def text_extract(text: str, kinds: list[str] | None = None) -> dict[str, Any]:
    selected = kinds or sorted(_PATTERNS)
    found: dict[str, list[str]] = {}
    for kind in selected:
        values = [m.group(0).strip() for m in re.finditer(_PATTERNS[kind], text)]
        if kind == "ip_addresses":
            values = [v for v in values if all(int(p) <= 255 for p in v.split("."))]
        found[kind] = list(dict.fromkeys(values))
    return {"found": found, "total": sum(len(v) for v in found.values())}


def text_replace(
    text: str,
    find: str,
    replace: str,
    regex: bool = False,
    case_sensitive: bool = True,
    count: int = 0,
) -> dict[str, Any]:
    flags = 0 if case_sensitive else re.IGNORECASE
    try:
        compiled = re.compile(find if regex else re.escape(find), flags)
        result, replaced = compiled.subn(
            replace if regex else replace.replace("\\", "\\\\"), text, count=count
        )
    except re.error as exc:
        raise ValueError(f"invalid pattern or replacement: {exc}") from exc
    return {"text": result, "replacements": replaced}


def text_split(
    text: str, mode: str = "sentences", chunk_size: int = 1000, overlap: int = 0
) -> dict[str, Any]:
    if mode == "sentences":
        parts = split_sentences(text)
    elif mode == "words":
        parts = text.split()
    elif mode == "lines":
        parts = text.splitlines()
    elif mode == "paragraphs":
        parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    else:
        if overlap >= chunk_size:
            raise ValueError(f"overlap ({overlap}) must be smaller than chunk_size ({chunk_size})")
        parts = []
        start = 0
        while start < len(text):
            end = min(start + chunk_size, len(text))
            if end < len(text):
                space = text.rfind(" ", start + 1, end)
                end = space if space > start + overlap else end
            parts.append(text[start:end].strip())
            if end >= len(text):
                break
            start = max(end - overlap, start + 1)
        parts = [p for p in parts if p]
    return {"mode": mode, "parts": parts, "count": len(parts)}


def _tokens_for_case(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def text_transform(text: str, operation: str) -> dict[str, Any]:
    tokens = _tokens_for_case(text)
    operations = {
        "upper": lambda: text.upper(),
        "lower": lambda: text.lower(),
        "title": lambda: text.title(),
        "capitalize": lambda: text.capitalize(),
        "swapcase": lambda: text.swapcase(),
        "strip": lambda: text.strip(),
        "reverse": lambda: text[::-1],
        "normalize_whitespace": lambda: " ".join(text.split()),
        "remove_punctuation": lambda: text.translate(
            str.maketrans("", "", string_module.punctuation)
        ),
        "snake_case": lambda: "_".join(t.lower() for t in tokens),
        "kebab_case": lambda: "-".join(t.lower() for t in tokens),
        "camel_case": lambda: (
            (tokens[0].lower() + "".join(t.capitalize() for t in tokens[1:])) if tokens else ""
        ),
        "pascal_case": lambda: "".join(t.capitalize() for t in tokens),
        "slug": lambda: "-".join(
            t.lower()
            for t in _tokens_for_case(
                unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
            )
        ),
    }
    return {"operation": operation, "text": operations[operation]()}


def text_diff(a: str, b: str, context_lines: int = 3) -> dict[str, Any]:
    diff = "".join(
        difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True), "a", "b", n=context_lines
        )
    )
    lines = diff.splitlines()
    return {
        "diff": diff,
        "added": sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++")),
        "removed": sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---")),
        "similarity": round(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 4),
        "identical": a == b,
    }


def text_template(template: str, values: dict[str, Any], strict: bool = True) -> dict[str, Any]:
    compiled = string_module.Template(template)
    if not compiled.is_valid():
        raise ValueError("invalid template: '$' must be followed by a name, '{name}' or '$'")
    mapping = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }
    missing = sorted(set(compiled.get_identifiers()) - set(mapping))
    if missing and strict:
        raise ValueError(f"the template needs values for: {', '.join(missing)}")
    return {"text": compiled.safe_substitute(mapping), "missing": missing}


def text_tools(config: ToolsConfig) -> list[Tool]:
    """The text tools; translation uses *config*'s LibreTranslate URL."""

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
            payload = json.loads(response.content)
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
            text_search,
            name="text_search",
            category="text",
            blocking=True,
            description="Find a word, phrase or regex in a text; matches with line and context.",
            parameters=obj(
                {
                    "text": _TEXT,
                    "query": string(minLength=1, maxLength=1000),
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
            text_summarize,
            name="text_summarize",
            category="text",
            description="Extractive summary: the most representative sentences, in "
            "order, within max_length characters.",
            parameters=obj(
                {
                    "text": _TEXT,
                    "max_length": integer("Longest summary in characters", minimum=10, default=500),
                    "max_sentences": integer("0 means no limit", minimum=0, default=0),
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
            description="Lexicon-based sentiment (English): label, score in [-1, 1] and "
            "the words that drove it, with negation and intensifiers.",
            parameters=obj({"text": _TEXT}, ["text"]),
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
            description="Counts (characters, words, sentences, paragraphs), averages, "
            "reading time and Flesch reading ease.",
            parameters=obj({"text": _TEXT}, ["text"]),
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
            description="The most frequent meaningful words (stop words removed).",
            parameters=obj(
                {"text": _TEXT, "max_keywords": integer(minimum=1, maximum=200, default=10)},
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
            text_extract,
            name="text_extract",
            category="text",
            description="Pull emails, URLs, phone numbers, hashtags, mentions, numbers, "
            "dates and IP addresses out of a text.",
            parameters=obj(
                {"text": _TEXT, "kinds": array(string(enum=sorted(_PATTERNS)), uniqueItems=True)},
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
            text_replace,
            name="text_replace",
            category="text",
            blocking=True,
            description="Replace text or regex matches (with \\1 groups) in a text.",
            parameters=obj(
                {
                    "text": _TEXT,
                    "find": string(minLength=1, maxLength=1000),
                    "replace": string(maxLength=100_000),
                    "regex": boolean(default=False),
                    "case_sensitive": boolean(default=True),
                    "count": integer("0 replaces all", minimum=0, default=0),
                },
                ["text", "find", "replace"],
            ),
            returns=obj({"text": string(), "replacements": integer()}, ["text", "replacements"]),
        ),
        make_tool(
            text_split,
            name="text_split",
            category="text",
            description="Split a text into sentences, words, lines, paragraphs, or "
            "overlapping chunks of about chunk_size characters.",
            parameters=obj(
                {
                    "text": _TEXT,
                    "mode": string(
                        enum=["sentences", "words", "lines", "paragraphs", "chunks"],
                        default="sentences",
                    ),
                    "chunk_size": integer(minimum=1, maximum=1_000_000, default=1000),
                    "overlap": integer(minimum=0, default=0),
                },
                ["text"],
            ),
            returns=obj(
                {"mode": string(), "parts": array(string()), "count": integer()}, ["parts", "count"]
            ),
        ),
        make_tool(
            text_transform,
            name="text_transform",
            category="text",
            description="Change case or form: upper, lower, title, snake_case, "
            "camel_case, kebab_case, slug, reverse, strip and more.",
            parameters=obj(
                {
                    "text": _TEXT,
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
            text_diff,
            name="text_diff",
            category="text",
            blocking=True,
            description="Unified diff of two texts, lines added/removed and similarity.",
            parameters=obj(
                {
                    "a": string(maxLength=200_000),
                    "b": string(maxLength=200_000),
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
            text_template,
            name="text_template",
            category="text",
            description="Fill a $name / ${name} template with values (no code runs).",
            parameters=obj(
                {
                    "template": string(maxLength=200_000),
                    "values": {"type": "object"},
                    "strict": boolean("Fail on missing values", default=True),
                },
                ["template", "values"],
            ),
            returns=obj({"text": string(), "missing": array(string())}, ["text"]),
        ),
    ]
