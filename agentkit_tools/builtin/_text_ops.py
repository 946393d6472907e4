"""What the text tools do: search, summary, extraction, replacement, splitting, diff, templates.

Every user pattern runs on RE2 (:mod:`agentkit.tools._regex`), so its time is linear in the text;
every result that can grow faster than the input (replacements, overlapping chunks, filled
templates, diffs) is counted while it grows and stopped at the ``ToolLimits`` that bound it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import string as string_module
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from agentkit.exceptions import LimitExceededError, ToolInputError
from agentkit.tools import compile_pattern, escape
from agentkit_tools.builtin._analysis import split_on, split_sentences, word_list
from agentkit_tools.builtin._limits import (
    ToolLimits,
    check_depth,
    check_output_chars,
    check_output_items,
)
from agentkit_tools.builtin._matching import (
    WORD,
    Template,
    bounded,
    iter_spans,
    parse_template,
    replace_all,
)
from agentkit_tools.builtin._stopwords import STOPWORDS

__all__ = [
    "EXTRACT_KINDS",
    "text_diff",
    "text_extract",
    "text_replace",
    "text_search",
    "text_split",
    "text_summarize",
    "text_template",
    "text_transform",
]

_DIGIT = "0-9"
# Each kind is (pattern, group): RE2 has no lookaround, so boundaries are consumed around
# group 1 (see agentkit_tools.builtin._matching).
_EXTRACT: Final[dict[str, tuple[str, int]]] = {
    "emails": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", 0),
    "urls": (r"https?://[^\s<>\"')\]]+", 0),
    "phone_numbers": (bounded(r"\+?[0-9][0-9\s().-]{6,}[0-9]"), 1),
    "hashtags": (bounded(rf"#[{WORD}]+", after=None), 1),
    "mentions": (bounded(rf"@[{WORD}]+", before=WORD + ".", after=None), 1),
    "numbers": (bounded(r"-?[0-9]+(?:[.,][0-9]+)*(?:\.[0-9]+)?", before=WORD + "."), 1),
    "dates": (bounded(r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}"), 1),
    "ip_addresses": (bounded(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}"), 1),
}
EXTRACT_KINDS: Final = sorted(_EXTRACT)
_CASE_BREAK = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def _compile_query(
    query: str, *, regex: bool, ignore_case: bool, limits: ToolLimits, whole_word: bool = False
) -> tuple[Any, int]:
    pattern = query if regex else escape(query)
    if whole_word:
        # (?:...) keeps a top-level alternation inside the boundaries.
        return compile_pattern(
            bounded(f"(?:{pattern})"),
            ignore_case=ignore_case,
            max_length=limits.max_pattern_chars * 4 + 64,
        ), 1
    return compile_pattern(
        pattern, ignore_case=ignore_case, max_length=limits.max_pattern_chars * 4
    ), 0


def text_search(
    text: str,
    query: str,
    regex: bool = False,
    case_sensitive: bool = False,
    whole_word: bool = False,
    max_results: int = 100,
    context: int = 40,
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    compiled, group = _compile_query(
        query, regex=regex, ignore_case=not case_sensitive, limits=limits, whole_word=whole_word
    )
    matches: list[dict[str, Any]] = []
    total = 0
    line, counted_to = 1, 0
    reported = 0
    for start, end in iter_spans(compiled, text, group):
        total += 1
        if len(matches) >= max_results:
            continue
        # Lines are counted from the previous match on: one pass over the text in all.
        line += text.count("\n", counted_to, start)
        counted_to = start
        found = text[start:end]
        around = text[max(0, start - context) : end + context]
        reported += len(found) + len(around)
        check_output_chars(reported, limits, "the reported matches")
        matches.append(
            {"match": found, "start": start, "end": end, "line": line, "context": around}
        )
    return {"query": query, "count": total, "matches": matches}


def text_summarize(
    text: str, max_length: int = 500, max_sentences: int = 0, *, limits: ToolLimits
) -> dict[str, Any]:
    sentences = split_sentences(text)
    if not sentences:
        raise ToolInputError("the text has no sentences to summarise")
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
        best = sentences[ranked[0]][: max_length - 1]
        cut = best.rsplit(" ", 1)[0] if " " in best else best
        summary = cut.rstrip(" ,;:") + "…"
    return {
        "summary": summary,
        "sentences": len(chosen) or 1,
        "total_sentences": len(sentences),
        "original_length": len(text),
        "summary_length": len(summary),
    }


def text_extract(
    text: str, kinds: list[str] | None = None, *, limits: ToolLimits
) -> dict[str, Any]:
    selected = kinds or EXTRACT_KINDS
    found: dict[str, list[str]] = {}
    for kind in selected:
        pattern, group = _EXTRACT[kind]
        compiled = compile_pattern(pattern)
        values = (text[start:end].strip() for start, end in iter_spans(compiled, text, group))
        if kind == "ip_addresses":
            values = (v for v in values if all(int(p) <= 255 for p in v.split(".")))
        found[kind] = list(dict.fromkeys(values))
    return {"found": found, "total": sum(len(v) for v in found.values())}


def text_replace(
    text: str,
    find: str,
    replace: str,
    regex: bool = False,
    case_sensitive: bool = True,
    count: int = 0,
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    if not regex and case_sensitive:
        # Plain text: the output size is known before anything is built.
        occurrences = text.count(find)
        replaced = min(occurrences, count) if count else occurrences
        check_output_chars(
            len(text) + replaced * (len(replace) - len(find)), limits, "the replaced text"
        )
        return {"text": text.replace(find, replace, count or -1), "replacements": replaced}
    compiled, _ = _compile_query(find, regex=regex, ignore_case=not case_sensitive, limits=limits)
    pieces: Template = (
        parse_template(replace, compiled.groups, compiled.groupindex) if regex else [replace]
    )
    result, replaced = replace_all(compiled, text, pieces, count=count, limits=limits)
    return {"text": result, "replacements": replaced}


def _chunks(text: str, chunk_size: int, overlap: int, limits: ToolLimits) -> list[str]:
    if overlap >= chunk_size:
        raise ToolInputError(f"overlap ({overlap}) must be smaller than chunk_size ({chunk_size})")
    parts: list[str] = []
    produced = 0
    start = 0
    while start < len(text):
        end = min(start + chunk_size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            end = space if space > start + overlap else end
        part = text[start:end].strip()
        if part:
            # Overlapping chunks repeat the text: the output, not the input, is what is bounded.
            produced += len(part)
            check_output_chars(produced, limits, "the chunks")
            check_output_items(len(parts) + 1, limits, "the chunks")
            parts.append(part)
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return parts


def text_split(
    text: str,
    mode: str = "sentences",
    chunk_size: int = 1000,
    overlap: int = 0,
    *,
    limits: ToolLimits,
) -> dict[str, Any]:
    if mode == "chunks":
        parts = _chunks(text, chunk_size, overlap, limits)
    elif mode == "sentences":
        parts = split_sentences(text)
    elif mode == "words":
        parts = text.split()
    elif mode == "lines":
        parts = text.splitlines()
    else:
        parts = [p.strip() for p in split_on(_PARAGRAPH_BREAK, text) if p.strip()]
    check_output_items(len(parts), limits, "the parts")
    return {"mode": mode, "parts": parts, "count": len(parts)}


def _tokens_for_case(text: str) -> list[str]:
    tokens: list[str] = []
    for word in split_on(_NON_ALNUM, text):
        # 'camelCase2Words' -> camel, Case2, Words: a break before each capital after a
        # lowercase letter or digit.
        last = 0
        for found in _CASE_BREAK.finditer(word):
            tokens.append(word[last : found.start() + 1])
            last = found.start() + 1
        tokens.append(word[last:])
    return [t for t in tokens if t]


def text_transform(text: str, operation: str, *, limits: ToolLimits) -> dict[str, Any]:
    simple: dict[str, Callable[[str], str]] = {
        "upper": str.upper,
        "lower": str.lower,
        "title": str.title,
        "capitalize": str.capitalize,
        "swapcase": str.swapcase,
        "strip": str.strip,
    }
    if operation in simple:
        # Case mapping can lengthen a text ('ß'.upper() is 'SS'), by at most three times.
        result = simple[operation](text)
        check_output_chars(len(result), limits, "the transformed text")
        return {"operation": operation, "text": result}
    if operation == "reverse":
        return {"operation": operation, "text": text[::-1]}
    if operation == "normalize_whitespace":
        return {"operation": operation, "text": " ".join(text.split())}
    if operation == "remove_punctuation":
        table = str.maketrans("", "", string_module.punctuation)
        return {"operation": operation, "text": text.translate(table)}
    if operation == "slug":
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return {
            "operation": operation,
            "text": "-".join(t.lower() for t in _tokens_for_case(ascii_text)),
        }
    tokens = _tokens_for_case(text)
    joined = {
        "snake_case": lambda: "_".join(t.lower() for t in tokens),
        "kebab_case": lambda: "-".join(t.lower() for t in tokens),
        "camel_case": lambda: (
            (tokens[0].lower() + "".join(t.capitalize() for t in tokens[1:])) if tokens else ""
        ),
        "pascal_case": lambda: "".join(t.capitalize() for t in tokens),
    }
    return {"operation": operation, "text": joined[operation]()}


def text_diff(a: str, b: str, context_lines: int = 3, *, limits: ToolLimits) -> dict[str, Any]:
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    # difflib's matcher is quadratic at worst: bound the cells it may compare.
    if len(a_lines) * len(b_lines) > limits.max_diff_cells:
        raise LimitExceededError(
            f"diffing {len(a_lines):,} lines against {len(b_lines):,} is over the limit of "
            f"{limits.max_diff_cells:,} line pairs; diff smaller texts or raise "
            "ToolLimits.max_diff_cells"
        )
    diff_parts: list[str] = []
    size = 0
    for piece in difflib.unified_diff(a_lines, b_lines, "a", "b", n=context_lines):
        size += len(piece)
        check_output_chars(size, limits, "the diff")
        diff_parts.append(piece)
    diff = "".join(diff_parts)
    lines = diff.splitlines()
    if len(a) * len(b) <= limits.max_diff_cells:
        similarity = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    else:
        # Too long to compare character by character: compare lines instead.
        similarity = difflib.SequenceMatcher(None, a_lines, b_lines).ratio()
    return {
        "diff": diff,
        "added": sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++")),
        "removed": sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---")),
        "similarity": round(similarity, 4),
        "identical": a == b,
    }


def text_template(
    template: str, values: dict[str, Any], strict: bool = True, *, limits: ToolLimits
) -> dict[str, Any]:
    compiled = string_module.Template(template)
    if not compiled.is_valid():
        raise ToolInputError("invalid template: '$' must be followed by a name, '{name}' or '$'")
    check_depth(values, limits, "values")
    mapping: dict[str, str] = {}
    for key, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value)
        check_output_chars(len(text), limits, f"the value of {key!r}")
        mapping[key] = text
    # Each placeholder expands to its whole value: add up the output before building it.
    size = len(template)
    for found in compiled.pattern.finditer(template):
        name = found.group("named") or found.group("braced")
        if name in mapping:
            size += len(mapping[name]) - len(found.group(0))
            check_output_chars(size, limits, "the filled template")
    missing = sorted(set(compiled.get_identifiers()) - set(mapping))
    if missing and strict:
        raise ToolInputError(f"the template needs values for: {', '.join(missing)}")
    return {"text": compiled.safe_substitute(mapping), "missing": missing}
