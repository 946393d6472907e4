"""The text tools; translation runs against a local server speaking the LibreTranslate API."""

from __future__ import annotations

import functools
import re
import string
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import (
    LimitExceededError,
    PatternError,
    Tool,
    ToolInputError,
    ToolNotConfiguredError,
    ToolRegistry,
)
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from agentkit_tools.builtin._analysis import split_sentences
from agentkit_tools.builtin._limits import ToolLimits
from tests.ext.agentkit_tools.builtin.conftest import call_tool

ARTICLE = (
    "Solar power is growing fast across the world. Cheap solar panels have changed the "
    "economics of electricity. Many countries now install more solar capacity than any other "
    "kind. The weather was pleasant on Tuesday. Storage batteries make solar power available "
    "at night, which helps the grid."
)


async def test_search_finds_matches_with_lines_and_context(call: Any) -> None:
    """Case-insensitive search returns every match with its offset, line and context."""
    result = await call("text_search", text="One fish\ntwo FISH\nred fish", query="fish")
    assert result["count"] == 3
    assert [m["line"] for m in result["matches"]] == [1, 2, 3]
    assert result["matches"][1]["match"] == "FISH"
    regex = await call("text_search", text="a1 b22 c333", query=r"\d{2,}", regex=True)
    assert [m["match"] for m in regex["matches"]] == ["22", "333"]


async def test_search_rejects_a_bad_regex(call: Any) -> None:
    """An invalid regular expression raises ValueError naming it."""
    with pytest.raises(ValueError, match="invalid regular expression"):
        await call("text_search", text="abc", query="(", regex=True)


async def test_summarize_picks_central_sentences_within_max_length(call: Any) -> None:
    """The summary is made of the text's own sentences about its topic, within max_length."""
    result = await call("text_summarize", text=ARTICLE, max_length=160)
    assert result["summary_length"] <= 160
    assert len(result["summary"]) == result["summary_length"]
    chosen = split_sentences(result["summary"])
    assert all(sentence in ARTICLE for sentence in chosen)
    assert "weather" not in result["summary"]
    assert "solar" in result["summary"].lower()


async def test_summarize_cuts_one_long_sentence(call: Any) -> None:
    """When no sentence fits, the best one is cut at a word boundary with an ellipsis."""
    result = await call("text_summarize", text=ARTICLE, max_length=20)
    assert len(result["summary"]) <= 20
    assert result["summary"].endswith("…")


async def test_summarize_bad_input(call: Any, rejects: Any) -> None:
    """Text with no sentences raises; a max_length below 10 fails validation."""
    with pytest.raises(ValueError, match="no sentences"):
        await call("text_summarize", text="   ")
    assert any(
        e.startswith("/max_length") for e in rejects("text_summarize", text="x", max_length=0)
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I love this, it is absolutely excellent!", "positive"),
        ("This is terrible and the support was awful.", "negative"),
        ("The meeting is on Tuesday at noon.", "neutral"),
        ("The product is not good.", "negative"),
    ],
)
async def test_sentiment_labels(call: Any, text: str, label: str) -> None:
    """The lexicon finds positive, negative and neutral texts, negation included."""
    assert (await call("text_sentiment", text=text))["label"] == label


async def test_sentiment_intensifier_raises_the_score(call: Any) -> None:
    """'very good' scores higher than 'good'."""
    plain = await call("text_sentiment", text="good")
    strong = await call("text_sentiment", text="very good")
    assert strong["score"] > plain["score"] > 0


def test_sentiment_rejects_non_string(rejects: Any) -> None:
    """A number where text belongs fails validation at /text."""
    assert any(e.startswith("/text") for e in rejects("text_sentiment", text=5))


async def test_translate_uses_the_libretranslate_api(make_caller: Any, local_server: Any) -> None:
    """text_translate POSTs q/source/target/format to /translate and returns translatedText."""
    local_server.route(
        "/translate",
        body={
            "translatedText": "Hallo Welt",
            "detectedLanguage": {"confidence": 90, "language": "en"},
        },
    )
    call = make_caller(translate_url=local_server.url, translate_api_key="k")
    result = await call("text_translate", text="Hello world", target="de")
    assert result == {
        "text": "Hallo Welt",
        "source": "auto",
        "target": "de",
        "detected_language": "en",
    }
    sent = local_server.requests[-1].json()
    assert sent == {
        "q": "Hello world",
        "source": "auto",
        "target": "de",
        "format": "text",
        "api_key": "k",
    }


async def test_translate_reports_provider_errors(make_caller: Any, local_server: Any) -> None:
    """A LibreTranslate error body becomes a ValueError with its message."""
    local_server.route("/translate", status=400, body={"error": "xx is not supported"})
    call = make_caller(translate_url=local_server.url)
    with pytest.raises(ValueError, match="xx is not supported"):
        await call("text_translate", text="Hello", target="xx")


async def test_translate_without_provider_is_not_configured(call: Any) -> None:
    """Without translate_url the tool fails with ToolNotConfiguredError."""
    with pytest.raises(ToolNotConfiguredError, match="translate_url"):
        await call("text_translate", text="Hello", target="de")


async def test_statistics(call: Any) -> None:
    """Counts of words, sentences and paragraphs are right and reading ease is computed."""
    result = await call("text_statistics", text="The cat sat. The dog ran!\n\nA new day.")
    assert result["words"] == 9
    assert result["sentences"] == 3
    assert result["paragraphs"] == 2
    assert result["flesch_reading_ease"] > 80


def test_statistics_rejects_missing_text(rejects: Any) -> None:
    """Without text the params fail validation."""
    assert rejects("text_statistics")


async def test_extract_keywords(call: Any) -> None:
    """The most frequent meaningful word leads; stop words never appear."""
    result = await call("text_extract_keywords", text=ARTICLE, max_keywords=3)
    words = [k["keyword"] for k in result["keywords"]]
    assert words[0] == "solar"
    assert "the" not in words


def test_extract_keywords_bounds(rejects: Any) -> None:
    """max_keywords of 0 fails validation."""
    assert rejects("text_extract_keywords", text="x", max_keywords=0)


async def test_extract_patterns(call: Any) -> None:
    """Emails, URLs, hashtags, mentions and IPs are pulled out; 999.1.1.1 is not an IP."""
    text = (
        "Mail ann@example.org or see https://example.org/docs. #launch @bob "
        "server 10.1.2.3 not 999.1.1.1 on 2024-05-01"
    )
    found = (await call("text_extract", text=text))["found"]
    assert found["emails"] == ["ann@example.org"]
    assert found["urls"] == ["https://example.org/docs."] or found["urls"][0].startswith(
        "https://example.org/docs"
    )
    assert found["hashtags"] == ["#launch"]
    assert found["mentions"] == ["@bob"]
    assert found["ip_addresses"] == ["10.1.2.3"]
    assert found["dates"] == ["2024-05-01"]


def test_extract_rejects_unknown_kind(rejects: Any) -> None:
    """A kind outside the list fails validation at /kinds/0."""
    assert any(e.startswith("/kinds/0") for e in rejects("text_extract", text="x", kinds=["ssn"]))


async def test_replace_plain_and_regex(call: Any) -> None:
    """Plain replacement is literal (backslashes kept); regex replacement uses groups."""
    plain = await call("text_replace", text="a.b.c", find=".", replace="\\")
    assert plain == {"text": "a\\b\\c", "replacements": 2}
    regex = await call(
        "text_replace",
        text="2024-05-01",
        find=r"(\d+)-(\d+)-(\d+)",
        replace=r"\3/\2/\1",
        regex=True,
    )
    assert regex["text"] == "01/05/2024"


async def test_replace_rejects_bad_group(call: Any) -> None:
    """A replacement naming a group that does not exist raises ToolInputError naming it."""
    with pytest.raises(ToolInputError, match="group 2 does not exist"):
        await call("text_replace", text="abc", find="(a)", replace=r"\2", regex=True)


async def test_split_modes(call: Any) -> None:
    """Sentences, paragraphs and overlapping chunks split as asked."""
    sentences = await call("text_split", text="Hi there. How are you? Fine!")
    assert sentences["parts"] == ["Hi there.", "How are you?", "Fine!"]
    chunks = await call(
        "text_split", text="one two three four five six", mode="chunks", chunk_size=10, overlap=0
    )
    assert all(len(part) <= 10 for part in chunks["parts"])
    assert " ".join(chunks["parts"]).split() == ["one", "two", "three", "four", "five", "six"]


async def test_split_rejects_overlap_not_below_chunk_size(call: Any) -> None:
    """An overlap as large as the chunk raises ValueError."""
    with pytest.raises(ValueError, match="overlap"):
        await call("text_split", text="abc", mode="chunks", chunk_size=5, overlap=5)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("snake_case", "hello_world_api"),
        ("camel_case", "helloWorldApi"),
        ("kebab_case", "hello-world-api"),
        ("pascal_case", "HelloWorldApi"),
        ("upper", "HELLO WORLDAPI"),
    ],
)
async def test_transform(call: Any, operation: str, expected: str) -> None:
    """Case conversions split words on spaces and camel humps."""
    assert (await call("text_transform", text="Hello worldApi", operation=operation))[
        "text"
    ] == expected


async def test_transform_slug_strips_accents(call: Any) -> None:
    """A slug is ASCII, lower-case and hyphenated."""
    assert (await call("text_transform", text="Crème Brûlée!", operation="slug"))[
        "text"
    ] == "creme-brulee"


def test_transform_rejects_unknown_operation(rejects: Any) -> None:
    """An operation outside the enum fails validation."""
    assert rejects("text_transform", text="x", operation="rot13")


async def test_diff(call: Any) -> None:
    """A changed line shows as one removal and one addition; similarity is below 1."""
    result = await call("text_diff", a="one\ntwo\nthree\n", b="one\n2\nthree\n")
    assert result["added"] == 1
    assert result["removed"] == 1
    assert "-two" in result["diff"]
    assert 0 < result["similarity"] < 1
    assert not result["identical"]


def test_diff_rejects_missing_side(rejects: Any) -> None:
    """Without b the params fail validation."""
    assert rejects("text_diff", a="x")


async def test_template_fills_values_without_running_code(call: Any) -> None:
    """$name placeholders are filled; attribute syntax is only text."""
    result = await call(
        "text_template",
        template="Hi $name, you owe ${amount}.",
        values={"name": "Ann", "amount": 5},
    )
    assert result["text"] == "Hi Ann, you owe 5."


async def test_template_strict_missing_values(call: Any) -> None:
    """A missing value raises in strict mode and is listed otherwise."""
    with pytest.raises(ValueError, match="needs values for: who"):
        await call("text_template", template="Hi $who", values={})
    loose = await call("text_template", template="Hi $who", values={}, strict=False)
    assert loose == {"text": "Hi $who", "missing": ["who"]}


# -- linear-time patterns and bounded outputs ---------------------------------------------------

EVIL = "(a+)+$"
EVIL_TEXT = "a" * 25 + "!"


@st.composite
def backtracking_patterns(draw: st.DrawFn) -> str:
    """Patterns that backtrack exponentially on Python's re: nested or overlapping repeats."""
    atom = draw(st.sampled_from(["a", "(?:a?)", "[ab]", r"\w", ".", "(?:a|a)", "(?:a|aa)"]))
    pattern = atom
    for _ in range(draw(st.integers(1, 3))):
        inner = draw(st.sampled_from(["+", "*", "{1,9}"]))
        pattern = f"({pattern}{inner})"
    outer = draw(st.sampled_from(["+", "*", "{2,30}"]))
    tail = draw(st.sampled_from(["$", "!", "b", "c$"]))
    return f"{pattern}{outer}{tail}"


@functools.cache
def library(**limits: int) -> dict[str, Tool]:
    """The text tools built once per set of limits (hypothesis reuses them across examples)."""
    config = ToolsConfig(sandbox_root=Path(tempfile.gettempdir()), limits=ToolLimits(**limits))
    return {tool.name: tool for tool in create_builtin_tools_library(config)}


def small_caller(**limits: int) -> Any:
    """A schema-checking caller whose library runs with *limits*."""
    tools = library(**limits)

    async def run(name: str, **params: Any) -> Any:
        return await call_tool(tools[name], **params)

    return run


async def test_search_catastrophic_regex_is_linear(call: Any) -> None:
    """(a+)+$ on 25 a's and a '!' finds nothing instead of backtracking for seconds."""
    result = await call("text_search", text=EVIL_TEXT, query=EVIL, regex=True)
    assert result == {"query": EVIL, "count": 0, "matches": []}
    found = await call("text_search", text="a" * 25, query=EVIL, regex=True)
    assert found["count"] == 1
    assert found["matches"][0]["match"] == "a" * 25


async def test_search_refuses_constructs_without_linear_time(call: Any) -> None:
    """Backreferences and lookaround are refused with PatternError naming the engine."""
    for query in (r"(a)\1", r"a(?=b)", r"(?<!x)a"):
        with pytest.raises(PatternError, match="RE2"):
            await call("text_search", text="aab", query=query, regex=True)


@given(pattern=backtracking_patterns(), length=st.integers(1, 60))
@settings(max_examples=60)
async def test_search_any_backtracking_pattern_is_bounded(pattern: str, length: int) -> None:
    """Generated backtracking patterns end bounded (agreeing with re when small) or typed."""
    text = "a" * length + "!"
    refusal = ""
    try:
        result = await call_tool(library()["text_search"], text=text, query=pattern, regex=True)
    except PatternError as exc:
        refusal = str(exc)
    if refusal:
        # RE2 refuses nested counted repeats over 1,000 in all: typed, before any work.
        assert "repetition" in refusal
        return
    assert result["count"] <= len(text) + 1
    assert len(result["matches"]) <= 100
    if length <= 4 and pattern.count("(") <= 2:  # where re itself finishes
        expected = [m.group(0) for m in re.finditer(pattern, text, re.IGNORECASE)]
        assert [m["match"] for m in result["matches"]] == expected[:100]


async def test_search_whole_word_in_any_script(call: Any) -> None:
    """Whole-word search respects letters of every script, alternations and adjacent matches."""
    text = "café cafébar bar-café foo foobar foo"
    cafe = await call("text_search", text=text, query="café", whole_word=True)
    assert [m["start"] for m in cafe["matches"]] == [0, 17]
    alternation = await call(
        "text_search", text=text, query="foo|foobar", regex=True, whole_word=True
    )
    assert [m["match"] for m in alternation["matches"]] == ["foo", "foobar", "foo"]
    lines = await call("text_search", text="x\nfoo\n\nfoo", query="foo", whole_word=True)
    assert [m["line"] for m in lines["matches"]] == [2, 4]


async def test_search_report_is_bounded() -> None:
    """Matches with their context stop at max_output_chars with a LimitExceededError."""
    caller = small_caller(max_output_chars=1_000)
    with pytest.raises(LimitExceededError, match="max_output_chars"):
        await caller("text_search", text="a" * 5_000, query="a", context=100, max_results=500)


async def test_replace_catastrophic_regex_is_linear(call: Any) -> None:
    """text_replace with (a+)+$ on 25 a's and '!' replaces nothing, at once."""
    result = await call("text_replace", text=EVIL_TEXT, find=EVIL, replace="b", regex=True)
    assert result == {"text": EVIL_TEXT, "replacements": 0}


async def test_replace_templates_on_re2(call: Any) -> None:
    """\\1, \\g<name>, \\g<0> and escapes expand as in re; any script survives the template."""
    result = await call(
        "text_replace",
        text="ann 12, bob 7",
        find=r"(?P<name>\w+) (\d+)",
        replace=r"\g<name>=\2€\t[\g<0>]",
        regex=True,
    )
    assert result["text"] == "ann=12€\t[ann 12], bob=7€\t[bob 7]"
    insensitive = await call(
        "text_replace", text="Tea tea TEA", find="tea", replace="☕", case_sensitive=False
    )
    assert insensitive == {"text": "☕ ☕ ☕", "replacements": 3}


@given(
    text=st.text(alphabet="ab.é\n", max_size=40),
    find=st.sampled_from(["a", "a*", "b+", r"(a)(b)?", r"\.", "é|b", "(?i)A", "^a", "a$"]),
    replace=st.sampled_from(["", "x", r"\g<0>\g<0>", "€", r"[\0]"]),
    count=st.integers(0, 3),
)
@settings(max_examples=150)
async def test_replace_agrees_with_re(text: str, find: str, replace: str, count: int) -> None:
    """On patterns both engines run, text_replace gives exactly re.subn's result.

    RE2's ``$`` is the very end of the text (re's ``\\Z``): re's also matches before a final
    newline.
    """
    try:
        expected = re.subn(find.replace("$", r"\Z"), replace, text, count=count)
    except re.error:
        return
    result = await call_tool(
        library()["text_replace"], text=text, find=find, replace=replace, regex=True, count=count
    )
    assert (result["text"], result["replacements"]) == expected


async def test_replace_output_is_bounded(call: Any) -> None:
    """A replacement that would multiply the text is refused before it is built."""
    with pytest.raises(LimitExceededError, match="max_output_chars"):
        await call("text_replace", text="a" * 1_000_000, find="a", replace="b" * 100_000)
    caller = small_caller(max_output_chars=10_000)
    for regex in (False, True):
        with pytest.raises(LimitExceededError, match="max_output_chars"):
            await caller("text_replace", text="a" * 5_000, find="a", replace="bbb", regex=regex)
    fits = await caller("text_replace", text="a" * 5_000, find="a", replace="bb")
    assert fits["replacements"] == 5_000


async def test_split_overlapping_chunks_are_bounded(call: Any) -> None:
    """Chunks overlapping by chunk_size - 1 over 300 KB fail with LimitExceededError."""
    with pytest.raises(LimitExceededError, match="max_output_chars"):
        await call(
            "text_split", text="a" * 300_000, mode="chunks", chunk_size=100_000, overlap=99_999
        )


@given(
    length=st.integers(0, 3_000),
    chunk_size=st.integers(1, 500),
    overlap_fraction=st.floats(0, 0.999),
    spaced=st.booleans(),
)
@settings(max_examples=60)
async def test_split_chunks_output_never_exceeds_limits(
    length: int, chunk_size: int, overlap_fraction: float, spaced: bool
) -> None:
    """Any chunking fits max_output_chars and max_output_items or raises LimitExceededError."""
    caller = small_caller(max_output_chars=20_000, max_output_items=2_000)
    text = ("ab " if spaced else "abc") * (length // 3)
    overlap = int(chunk_size * overlap_fraction)
    try:
        result = await caller(
            "text_split", text=text, mode="chunks", chunk_size=chunk_size, overlap=overlap
        )
    except LimitExceededError:
        return
    assert sum(map(len, result["parts"])) <= 20_000
    assert result["count"] <= 2_000
    assert all(len(part) <= chunk_size for part in result["parts"])


async def test_template_expansion_is_bounded(call: Any) -> None:
    """$x repeated 100,000 times with a 100 KB value is refused before it is built."""
    with pytest.raises(LimitExceededError, match="max_output_chars"):
        await call("text_template", template="$x" * 100_000, values={"x": "v" * 100_000})


@given(
    repeats=st.integers(0, 300),
    value_size=st.integers(0, 300),
    braced=st.booleans(),
    other=st.text(alphabet="ab $", max_size=20),
)
@settings(max_examples=80)
async def test_template_output_fits_or_fails(
    repeats: int, value_size: int, braced: bool, other: str
) -> None:
    """Any template is filled within max_output_chars, exactly as string.Template, or refused."""
    caller = small_caller(max_output_chars=20_000)
    template = ("${x}" if braced else "$x ") * repeats + other.replace("$", "$$")
    values = {"x": "v" * value_size}
    try:
        result = await caller("text_template", template=template, values=values)
    except LimitExceededError:
        assert len(template) + repeats * value_size > 20_000 - 4 * repeats
        return
    assert len(result["text"]) <= 20_000
    assert result["text"] == string.Template(template).safe_substitute(values)


async def test_template_deep_values_fail_typed(call: Any) -> None:
    """A value nested 10,000 deep raises LimitExceededError, not RecursionError."""
    deep: Any = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(LimitExceededError, match="max_depth"):
        await call("text_template", template="$x", values={"x": deep})


async def test_diff_is_bounded() -> None:
    """Diffing more line pairs than max_diff_cells is refused; a long single line still diffs."""
    caller = small_caller(max_diff_cells=10_000)
    with pytest.raises(LimitExceededError, match="max_diff_cells"):
        await caller("text_diff", a="a\n" * 200, b="b\n" * 200)
    long_lines = await caller("text_diff", a="ab" * 1_000, b="ba" * 1_000)
    assert long_lines["identical"] is False
    assert 0 <= long_lines["similarity"] <= 1


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("phone_numbers", "call +1 (555) 123-4567 or 555 123 4568x", ["+1 (555) 123-4567"]),
        ("numbers", "1,000.5 and x3 and 4.5.6 v2 -7", ["1,000.5", "4.5.6", "-7"]),
        ("mentions", "@ann a@b.c .@no @bob_2", ["@ann", "@bob_2"]),
        ("hashtags", "#one#two é#three #четыре", ["#one", "#четыре"]),
        ("dates", "2024-05-01 12/31/2024 x2024-05-01 2024-05-011", ["2024-05-01", "12/31/2024"]),
    ],
)
async def test_extract_boundaries_match_the_lookaround_versions(
    call: Any, kind: str, text: str, expected: list[str]
) -> None:
    """Each kind keeps the word boundaries its former lookaround pattern had."""
    assert (await call("text_extract", text=text, kinds=[kind]))["found"][kind] == expected


OLD_PATTERNS = {
    "phone_numbers": r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)",
    "hashtags": r"(?<!\w)#\w+",
    "mentions": r"(?<![\w.])@\w+",
    "numbers": r"(?<![\w.])-?\d+(?:[.,]\d+)*(?:\.\d+)?(?![\w])",
    "dates": r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    "ip_addresses": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
    "emails": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
}


@given(text=st.text(alphabet="12 .,-/@#a_é+()x", max_size=60))
@settings(max_examples=200)
async def test_extract_agrees_with_the_lookaround_patterns(text: str) -> None:
    """On ASCII digits, the RE2 patterns find exactly what the lookaround patterns found."""
    found = (await call_tool(library()["text_extract"], text=text))["found"]
    for kind, pattern in OLD_PATTERNS.items():
        values = [m.group(0).strip() for m in re.finditer(pattern, text)]
        if kind == "ip_addresses":
            values = [v for v in values if all(int(p) <= 255 for p in v.split("."))]
        assert found[kind] == list(dict.fromkeys(values)), kind


async def test_text_tools_through_the_registry_fail_typed(config: ToolsConfig) -> None:
    """The reported inputs through execute_tool end in typed failures or bounded results."""
    registry = ToolRegistry()
    for tool in create_builtin_tools_library(config):
        registry.register_tool(tool)
    cases = [
        ("text_search", {"text": EVIL_TEXT, "query": EVIL, "regex": True}, None),
        ("text_search", {"text": "ab", "query": r"(a)\1", "regex": True}, "PatternError"),
        (
            "text_split",
            {"text": "a" * 300_000, "mode": "chunks", "chunk_size": 100_000, "overlap": 99_999},
            "LimitExceededError",
        ),
        (
            "text_template",
            {"template": "$x" * 100_000, "values": {"x": "v" * 100_000}},
            "LimitExceededError",
        ),
        ("text_search", {"text": "a" * 1_000_001, "query": "a"}, "validation"),
    ]
    for name, params, error_type in cases:
        result = await registry.execute_tool(name, params)
        assert result.success is (error_type is None), (name, result.error)
        assert result.error_type == error_type
