"""The time tools, on a virtual clock so "now" is fixed."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit import LimitExceededError, ToolInputError
from agentkit.testing import VirtualClock
from agentkit_tools import ToolsConfig, create_builtin_tools_library
from tests.ext.agentkit_tools.builtin.conftest import call_tool
from tests.ext.agentkit_tools.builtin.conftest import schema_errors as jsonschema_errors

# 2024-03-09T12:00:00Z, a Saturday, the day before US DST starts.
NOW = 1_709_985_600.0


@pytest.fixture
def call(make_caller: Any) -> Any:
    """The time tools with a clock frozen at NOW."""
    return make_caller(clock=VirtualClock(epoch=NOW))


async def test_now_uses_the_injected_clock(call: Any) -> None:
    """time_now reports the virtual clock's time in the asked zone."""
    result = await call("time_now", timezone="Asia/Tokyo")
    assert result["iso"] == "2024-03-09T21:00:00+09:00"
    assert result["unix"] == NOW
    assert result["weekday"] == "Saturday"


async def test_now_unknown_zone(call: Any) -> None:
    """An unknown zone raises ValueError naming it."""
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        await call("time_now", timezone="Mars/Base")


async def test_format(call: Any) -> None:
    """strftime codes format the moment, converted to the asked zone."""
    result = await call(
        "time_format",
        timestamp="2024-07-04T15:30:00Z",
        format="%A %d %B %Y, %H:%M",
        timezone="America/New_York",
    )
    assert result["formatted"] == "Thursday 04 July 2024, 11:30"


async def test_format_unparseable(call: Any) -> None:
    """A timestamp that is not a date raises ValueError."""
    with pytest.raises(ValueError, match="cannot parse"):
        await call("time_format", timestamp="next blue moon")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00+00:00"),
        ("Wed, 01 May 2024 12:00:00 +0200", "2024-05-01T12:00:00+02:00"),
        ("May 1, 2024", "2024-05-01T00:00:00+00:00"),
        ("1714564800", "2024-05-01T12:00:00+00:00"),
        ("tomorrow", "2024-03-10T00:00:00+00:00"),
        ("3 days ago", "2024-03-06T12:00:00+00:00"),
    ],
)
async def test_parse_many_forms(call: Any, text: str, iso: str) -> None:
    """ISO 8601, RFC 2822, English dates, Unix seconds and relative phrases parse."""
    assert (await call("time_parse", text=text))["iso"] == iso


async def test_parse_with_format_and_zone(call: Any) -> None:
    """An explicit format and a zone for naive times are honoured; day_first swaps."""
    result = await call(
        "time_parse", text="01/02/2024 09:00", format="%d/%m/%Y %H:%M", timezone="Europe/Berlin"
    )
    assert result["iso"] == "2024-02-01T09:00:00+01:00"
    assert result["timezone"] == "Europe/Berlin"
    us = await call("time_parse", text="01/02/2024")
    assert us["date"] == "2024-01-02"
    eu = await call("time_parse", text="01/02/2024", day_first=True)
    assert eu["date"] == "2024-02-01"


async def test_parse_bad_input(call: Any) -> None:
    """Unparseable text and a non-matching format raise ValueError."""
    with pytest.raises(ValueError, match="cannot parse 'yesterdayish'"):
        await call("time_parse", text="yesterdayish")
    with pytest.raises(ValueError, match="does not match the format"):
        await call("time_parse", text="2024-01-01", format="%d/%m/%Y")


async def test_calculate_age(call: Any) -> None:
    """Age in years, months and days as of the clock's today, and the next birthday."""
    result = await call("time_calculate_age", birth_date="1990-05-20")
    assert (result["years"], result["months"], result["days"]) == (33, 9, 18)
    assert result["next_birthday"] == "2024-05-20"
    assert result["days_until_birthday"] == 72


async def test_calculate_age_leap_day_birthday(call: Any) -> None:
    """A 29 February birthday falls on 28 February in a common year."""
    result = await call("time_calculate_age", birth_date="2000-02-29", on_date="2023-03-01")
    assert result["years"] == 23
    assert result["next_birthday"] == "2024-02-29"


async def test_calculate_age_future_birth(call: Any) -> None:
    """A birth date after today raises ValueError."""
    with pytest.raises(ValueError, match="after"):
        await call("time_calculate_age", birth_date="2030-01-01")


async def test_add_is_dst_aware(call: Any) -> None:
    """Adding 1 day across the US DST change keeps 09:00; adding 24 hours does not."""
    start = "2024-03-09T09:00:00"
    day = await call("time_add", timestamp=start, days=1, timezone="America/New_York")
    assert day["iso"] == "2024-03-10T09:00:00-04:00"
    hours = await call("time_add", timestamp=start, hours=24, timezone="America/New_York")
    assert hours["iso"] == "2024-03-10T10:00:00-04:00"


async def test_add_months_clamps_to_month_end(call: Any) -> None:
    """31 January plus one month is 29 February in a leap year."""
    result = await call("time_add", timestamp="2024-01-31T00:00:00Z", months=1)
    assert result["date"] == "2024-02-29"


async def test_add_out_of_range(call: Any) -> None:
    """Moving past year 9999 raises ValueError."""
    with pytest.raises(ValueError, match="outside the years"):
        await call("time_add", timestamp="2024-01-01", years=9000)


async def test_difference(call: Any) -> None:
    """Elapsed time across the DST night is 23 hours; calendar parts are given."""
    result = await call(
        "time_difference",
        start="2024-03-10T00:00:00",
        end="2024-03-11T00:00:00",
        timezone="America/New_York",
    )
    assert result["hours"] == 23
    assert result["human"] == "23 hours"
    longer = await call("time_difference", start="2020-01-15", end="2024-03-20")
    assert longer["calendar"] == {"years": 4, "months": 2, "days": 5}


async def test_difference_unparseable(call: Any) -> None:
    """A bad end timestamp raises ValueError."""
    with pytest.raises(ValueError, match="cannot parse"):
        await call("time_difference", start="2024-01-01", end="soon")


async def test_convert_timezone(call: Any) -> None:
    """A UTC moment shows in Sydney with its offset, abbreviation and DST flag."""
    result = await call(
        "time_convert_timezone", timestamp="2024-01-15T00:00:00Z", to_timezone="Australia/Sydney"
    )
    assert result["iso"] == "2024-01-15T11:00:00+11:00"
    assert result["abbreviation"] == "AEDT"
    assert result["is_dst"] is True


async def test_convert_timezone_unknown(call: Any) -> None:
    """An unknown target zone raises ValueError."""
    with pytest.raises(ValueError, match="unknown time zone"):
        await call("time_convert_timezone", timestamp="2024-01-01", to_timezone="Nowhere")


async def test_business_days(call: Any) -> None:
    """A week from Monday to Sunday has five workdays, four with a holiday."""
    result = await call(
        "time_business_days",
        start_date="2024-03-04",
        end_date="2024-03-10",
        holidays=["2024-03-06"],
    )
    assert result == {"business_days": 4, "calendar_days": 7, "holidays_on_workdays": 1}


async def test_business_days_reversed_range(call: Any) -> None:
    """An end before the start raises ValueError."""
    with pytest.raises(ValueError, match="before start_date"):
        await call("time_business_days", start_date="2024-03-10", end_date="2024-03-04")


async def test_add_business_days(call: Any) -> None:
    """Three workdays after Friday is Wednesday; backwards works too."""
    assert (await call("time_add_business_days", start_date="2024-03-08", days=3))[
        "date"
    ] == "2024-03-13"
    assert (await call("time_add_business_days", start_date="2024-03-11", days=-1))[
        "date"
    ] == "2024-03-08"


async def test_add_business_days_all_weekend(call: Any) -> None:
    """A week made only of weekend days raises ValueError."""
    with pytest.raises(ValueError, match="every day"):
        await call(
            "time_add_business_days", start_date="2024-03-08", days=1, weekend=[0, 1, 2, 3, 4, 5, 6]
        )


async def test_date_info(call: Any) -> None:
    """Facts about 29 February 2024."""
    result = await call("time_date_info", date_text="2024-02-29")
    assert result["weekday"] == "Thursday"
    assert result["iso_week"] == 9
    assert result["day_of_year"] == 60
    assert result["is_leap_year"] is True
    assert result["days_in_month"] == 29


async def test_date_info_bad_date(call: Any) -> None:
    """30 February raises ValueError."""
    with pytest.raises(ValueError, match="cannot parse"):
        await call("time_date_info", date_text="2023-02-30")


async def test_date_range(call: Any) -> None:
    """Month steps clamp to month ends; week steps are seven days."""
    months = await call(
        "time_date_range", start_date="2024-01-31", end_date="2024-04-30", unit="month"
    )
    assert months["dates"] == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    weeks = await call(
        "time_date_range", start_date="2024-01-01", end_date="2024-01-15", unit="week"
    )
    assert weeks["count"] == 3


async def test_date_range_too_long(call: Any) -> None:
    """More than 10000 dates raises ValueError."""
    with pytest.raises(ValueError, match="more than 10000"):
        await call("time_date_range", start_date="1900-01-01", end_date="2100-01-01")


async def test_list_timezones(call: Any) -> None:
    """Filtering by text finds the matching IANA zones."""
    result = await call("time_list_timezones", contains="berlin")
    assert result["timezones"] == ["Europe/Berlin"]


def test_list_timezones_rejects_long_filter(rejects: Any) -> None:
    """A filter over 64 characters fails validation."""
    assert rejects("time_list_timezones", contains="x" * 65)


@pytest.mark.parametrize(
    ("style", "text"),
    [("long", "1 day, 2 hours, 3 seconds"), ("short", "1d 2h 3s"), ("iso", "P1DT2H3S")],
)
async def test_format_duration(call: Any, style: str, text: str) -> None:
    """93603 seconds in each style."""
    assert (await call("time_format_duration", seconds=93603, style=style))["text"] == text


def test_format_duration_rejects_unknown_style(rejects: Any) -> None:
    """A style outside the enum fails validation."""
    assert rejects("time_format_duration", seconds=1, style="poetic")


# -- any input ends in a result or a typed error ------------------------------------------------

TIME_TOOLS = {
    tool.name: tool
    for tool in create_builtin_tools_library(
        ToolsConfig(sandbox_root=Path(tempfile.gettempdir()), clock=VirtualClock(1_700_000_000))
    )
    if tool.category == "time"
}


async def test_extreme_inputs_fail_typed(call: Any) -> None:
    """Out-of-range numbers and phrases raise ToolInputError or LimitExceededError, not Overflow."""
    for name, params, error in (
        ("time_parse", {"text": "9" * 190 + " days ago"}, ToolInputError),
        ("time_parse", {"text": "1" + "0" * 30}, ToolInputError),
        ("time_add", {"timestamp": "2024-01-01", "hours": 1e10}, LimitExceededError),
        ("time_add", {"timestamp": "2024-01-01", "years": 100_000}, ToolInputError),
        (
            "time_business_days",
            {"start_date": "1800-01-01", "end_date": "2000-01-01"},
            LimitExceededError,
        ),
        (
            "time_date_range",
            {"start_date": "1800-01-01", "end_date": "2000-01-01"},
            LimitExceededError,
        ),
    ):
        with pytest.raises(error):
            await call(name, **params)


def test_every_parameter_is_bounded_by_the_schema() -> None:
    """Every string, list and integer parameter of a time tool has a documented bound."""
    for tool in TIME_TOOLS.values():
        for name, schema in tool.parameters["properties"].items():
            kind = schema.get("type")
            if kind == "string":
                assert "enum" in schema or schema.get("maxLength", 10**9) <= 200, (tool.name, name)
            elif kind == "array":
                assert schema.get("maxItems", 10**9) <= 1_000, (tool.name, name)
            elif kind in ("integer", "number"):
                assert "maximum" in schema, (tool.name, name)
                assert "minimum" in schema, (tool.name, name)


TEXTS = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"(in )?[0-9]{1,30} (second|minute|hour|day|week)s?( ago)?", fullmatch=True),
    st.sampled_from(["now", "today", "0001-01-01", "9999-12-31T23:59:59-14:00", "31/12/9999"]),
)
ZONES = st.sampled_from(["UTC", "Pacific/Kiritimati", "America/St_Johns", "Nowhere/City", "Z"])


@given(
    name=st.sampled_from(sorted(TIME_TOOLS)),
    text=TEXTS,
    other=TEXTS,
    number=st.integers(-100_000, 100_000),
    zone=ZONES,
)
@settings(max_examples=300)
async def test_any_input_gives_a_result_or_a_typed_error(
    name: str, text: str, other: str, number: int, zone: str
) -> None:
    """Generated arguments (huge numbers, far dates, bad zones) never escape agentkit's errors."""
    properties = TIME_TOOLS[name].parameters["properties"]
    candidates: dict[str, Any] = {
        "timestamp": text,
        "text": text,
        "birth_date": text,
        "start_date": text,
        "date_text": text,
        "start": text,
        "end": other,
        "end_date": other,
        "on_date": other,
        "timezone": zone,
        "to_timezone": zone,
        "from_timezone": zone,
        "days": max(-10_000, min(10_000, number)),
        "years": number,
        "months": number,
        "hours": float(number) * 1e5,
        "seconds": float(number) * 1e7,
        "step": abs(number) or 1,
        "holidays": [other],
        "contains": zone[:3],
    }
    params = {key: value for key, value in candidates.items() if key in properties}
    if jsonschema_errors(TIME_TOOLS[name].parameters, params):
        return
    # Anything but these two (an OverflowError, a KeyError) fails the test.
    with contextlib.suppress(ToolInputError, LimitExceededError):
        await call_tool(TIME_TOOLS[name], **params)
