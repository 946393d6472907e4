"""The text tools; translation runs against a local server speaking the LibreTranslate API."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import ToolInputError, ToolNotConfiguredError
from agentkit_tools._text import split_sentences

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
