"""Stand-ins for the five built-in tools the analysts call, written on the core alone.

``agentkit demo`` takes its tools from the ``tools`` plugin (agentkit-tools). Without it the
analysts use these: the same names, parameters and output keys, computed the same way for the
demo's transactions, so the votes and decisions do not change. They are small on purpose: ISO
8601 timestamps only, a word list that covers the demo's memos, and ``count``/``sum`` only.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from agentkit.exceptions import ConfigurationError
from agentkit.tools import Tool, ToolHints

__all__ = [
    "BUILTIN_TOOL_COUNT",
    "STANDIN_NAMES",
    "data_aggregate",
    "math_statistics",
    "standin_tools",
    "text_sentiment",
    "time_date_info",
    "time_parse",
]

#: How many tools ``pip install 'agentkit-kernel[tools]'`` adds (the report names the figure).
BUILTIN_TOOL_COUNT = 72

_MAX_ITEMS = 10_000
_NUMBER_LIST: Mapping[str, Any] = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 1,
    "maxItems": _MAX_ITEMS,
}
_SHORT_TEXT: Mapping[str, Any] = {"type": "string", "minLength": 1, "maxLength": 200}


def _object(properties: Mapping[str, Any], required: Iterable[str]) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


# -- math_statistics -----------------------------------------------------------------------------


def math_statistics(values: list[float]) -> dict[str, Any]:
    """Count, sum, mean, median, min, max, sample variance and stdev of *values*."""
    data = sorted(float(value) for value in values)
    if not all(math.isfinite(value) for value in data):
        raise ValueError("values must be finite numbers")
    count = len(data)
    total = math.fsum(data)
    mean = total / count
    squares = math.fsum((value - mean) ** 2 for value in data)
    middle = count // 2
    median = data[middle] if count % 2 else (data[middle - 1] + data[middle]) / 2
    variance = squares / (count - 1) if count > 1 else 0.0
    return {
        "count": count,
        "sum": total,
        "mean": mean,
        "median": median,
        "min": data[0],
        "max": data[-1],
        "variance": variance,
        "stdev": math.sqrt(variance),
    }


# -- time_parse, time_date_info --------------------------------------------------------------------


def _read_iso(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not ISO 8601 (the demo's stand-in reads nothing else)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _offset(moment: datetime) -> str:
    minutes = int((moment.utcoffset() or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_parse(text: str) -> dict[str, Any]:
    """An ISO 8601 timestamp (UTC when it has no offset) as iso, unix, date, time, weekday."""
    moment = _read_iso(text)
    return {
        "iso": moment.isoformat(),
        "unix": moment.timestamp(),
        "timezone": "UTC" if moment.tzinfo is UTC else _offset(moment),
        "utc_offset": _offset(moment),
        "date": moment.date().isoformat(),
        "time": moment.time().isoformat(),
        "weekday": moment.strftime("%A"),
    }


def time_date_info(date_text: str) -> dict[str, Any]:
    """Calendar facts about an ISO 8601 date: weekday, ISO week, quarter, weekend."""
    day = _read_iso(date_text).date()
    iso = day.isocalendar()
    return {
        "date": day.isoformat(),
        "weekday": day.strftime("%A"),
        "weekday_number": iso.weekday,
        "iso_week": iso.week,
        "iso_year": iso.year,
        "day_of_year": day.timetuple().tm_yday,
        "quarter": (day.month - 1) // 3 + 1,
        "is_leap_year": calendar.isleap(day.year),
        "days_in_month": calendar.monthrange(day.year, day.month)[1],
        "is_weekend": day.weekday() >= 5,
    }


# -- text_sentiment ------------------------------------------------------------------------------

#: VADER's valences (its published lexicon) of the words in the demo's memos, and a few common
#: ones: the built-in ``text_sentiment`` is VADER, so on these memos the two agree exactly.
_VALENCE: dict[str, float] = {
    "friend": 2.2, "thanks": 1.9, "great": 3.1, "holiday": 1.7, "urgent": 0.8, "gift": 1.9,
    "lovely": 2.8, "happy": 2.7, "good": 1.9, "love": 3.2, "excellent": 2.7,
    "scam": -2.7, "angry": -2.3, "complaint": -1.2, "stolen": -2.2, "fraud": -2.8,
    "bad": -2.5, "terrible": -2.1, "awful": -2.0,
}  # fmt: skip
_NEGATIONS = frozenset({"not", "no", "never", "nor", "without"})
_NEGATION_SCALAR = -0.74  # VADER's N_SCALAR
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _vader_token(word: str) -> str:
    """VADER's token: punctuation stripped from the ends unless that leaves 2 characters or less."""
    stripped = word.strip(_PUNCTUATION)
    return word if len(stripped) <= 2 else stripped


def text_sentiment(text: str) -> dict[str, Any]:
    """VADER's rules on a small lexicon (valence sum, negation, normalisation, shares).

    Leaves out VADER's boosters, capitals, ``but`` and ``!``/``?`` emphasis: the demo's memos
    have none of them.
    """
    tokens = [_vader_token(word).lower() for word in text.replace("\u2019", "'").split()]
    tokens = [token for token in tokens if token]
    sentiments: list[float] = []
    positives: list[str] = []
    negatives: list[str] = []
    for index, token in enumerate(tokens):
        valence = _VALENCE.get(token, 0.0)
        if valence:
            window = tokens[max(0, index - 3) : index]
            negated = any(word in _NEGATIONS or word.endswith("n't") for word in window)
            if negated:
                valence *= _NEGATION_SCALAR
            (positives if (valence > 0) else negatives).append(token)
        sentiments.append(valence)
    total = sum(sentiments)
    score = round(total / math.sqrt(total * total + 15), 4) if total else 0.0
    positive_sum = sum(value + 1 for value in sentiments if value > 0)
    negative_sum = sum(value - 1 for value in sentiments if value < 0)
    neutral_count = sum(1 for value in sentiments if value == 0)
    whole = positive_sum + abs(negative_sum) + neutral_count
    shares = (
        (round(positive_sum / whole, 3), round(abs(negative_sum) / whole, 3))
        if whole
        else (0.0, 0.0)
    )
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return {
        "label": label,
        "score": score,
        "positive": shares[0],
        "negative": shares[1],
        "neutral": round(neutral_count / whole, 3) if whole else 0.0,
        "positive_words": positives,
        "negative_words": negatives,
        "word_count": len(tokens),
    }


# -- data_aggregate ------------------------------------------------------------------------------


def data_aggregate(
    rows: list[dict[str, Any]],
    aggregations: list[dict[str, Any]],
    group_by: list[str] | None = None,
) -> dict[str, Any]:
    """Group *rows* by the *group_by* fields; ``count`` rows or ``sum`` a field per group."""
    fields = group_by or []
    groups: dict[tuple[str, ...], tuple[list[Any], list[dict[str, Any]]]] = {}
    for row in rows:
        values = [row.get(field) for field in fields]
        signature = tuple(repr(value) for value in values)
        groups.setdefault(signature, (values, []))[1].append(row)
    result = []
    for values, members in groups.values():
        entry: dict[str, Any] = dict(zip(fields, values, strict=True))
        for spec in aggregations:
            function, field = spec["function"], spec.get("field")
            name = spec.get("as") or (f"{function}_{field}" if field else function)
            if function == "count":
                entry[name] = len(
                    members if not field else [r for r in members if r.get(field) is not None]
                )
                continue
            if not field:
                raise ValueError("aggregation 'sum' needs a field")
            numbers = [row[field] for row in members if row.get(field) is not None]
            if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
                raise ValueError(f"sum needs numbers in {field!r}")
            entry[name] = math.fsum(numbers) if numbers else None
        result.append(entry)
    return {"groups": result, "count": len(result)}


# -- the tools -----------------------------------------------------------------------------------

_PURE = ToolHints(read_only=True, idempotent=True)
_MOMENT_KEYS = ("iso", "unix", "timezone", "utc_offset", "date", "time", "weekday")


def _tool(
    function: Any,
    *,
    category: str,
    description: str,
    parameters: dict[str, Any],
    returns: dict[str, Any],
) -> Tool:
    return Tool(
        name=function.__name__,
        description=f"{description} (agentkit demo stand-in for the built-in tool)",
        category=category,
        parameters=parameters,
        returns=returns,
        tags=("demo", "stand-in"),
        hints=_PURE,
        blocking=False,
        function=function,
    )


def _all_tools() -> list[Tool]:
    number: dict[str, Any] = {"type": "number"}
    text: dict[str, Any] = {"type": "string"}
    return [
        _tool(
            math_statistics,
            category="math",
            description="Descriptive statistics of numbers: mean, median, variance, stdev",
            parameters=_object({"values": _NUMBER_LIST}, ["values"]),
            returns=_object(
                {"count": {"type": "integer"}, "mean": number, "stdev": number}, ["mean", "stdev"]
            ),
        ),
        _tool(
            time_parse,
            category="time",
            description="Parse an ISO 8601 timestamp",
            parameters=_object({"text": _SHORT_TEXT}, ["text"]),
            returns=_object(dict.fromkeys(_MOMENT_KEYS, text) | {"unix": number}, ["iso", "unix"]),
        ),
        _tool(
            time_date_info,
            category="time",
            description="Weekday, ISO week, quarter and weekend of an ISO 8601 date",
            parameters=_object({"date_text": _SHORT_TEXT}, ["date_text"]),
            returns=_object({"date": text, "weekday": text}, ["date", "weekday"]),
        ),
        _tool(
            text_sentiment,
            category="text",
            description="VADER-style sentiment (English): label, compound score in [-1, 1]",
            parameters=_object({"text": {"type": "string", "maxLength": 100_000}}, ["text"]),
            returns=_object(
                {
                    "label": {"type": "string", "enum": ["positive", "negative", "neutral"]},
                    "score": {"type": "number", "minimum": -1, "maximum": 1},
                },
                ["label", "score"],
            ),
        ),
        _tool(
            data_aggregate,
            category="data",
            description="Group records and count them or sum a field per group",
            parameters=_object(
                {
                    "rows": {"type": "array", "items": {"type": "object"}, "maxItems": _MAX_ITEMS},
                    "group_by": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "maxItems": 100,
                    },
                    "aggregations": {
                        "type": "array",
                        "items": _object(
                            {
                                "function": {"type": "string", "enum": ["count", "sum"]},
                                "field": {"type": "string", "minLength": 1},
                                "as": {"type": "string", "minLength": 1},
                            },
                            ["function"],
                        ),
                        "minItems": 1,
                        "maxItems": 100,
                    },
                },
                ["rows", "aggregations"],
            ),
            returns=_object(
                {"groups": {"type": "array", "items": {"type": "object"}}, "count": number},
                ["groups", "count"],
            ),
        ),
    ]


#: The names of the stand-ins, one for each built-in tool the analysts call.
STANDIN_NAMES: tuple[str, ...] = tuple(tool.name for tool in _all_tools())


def standin_tools(names: Iterable[str] | None = None) -> list[Tool]:
    """The stand-in tools called *names* (default: all five), in :data:`STANDIN_NAMES` order.

    Raises:
        ConfigurationError: a name that has no stand-in.
    """
    tools = _all_tools()
    if names is None:
        return tools
    wanted = set(names)
    unknown = wanted - set(STANDIN_NAMES)
    if unknown:
        raise ConfigurationError(
            f"no demo stand-in for {sorted(unknown)}; there are {STANDIN_NAMES}"
        )
    return [tool for tool in tools if tool.name in wanted]
