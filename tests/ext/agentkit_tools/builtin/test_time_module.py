"""The time tools as plain functions of agentkit_tools.builtin.time, and dateutil's parsing."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import ToolRegistry
from agentkit.exceptions import ToolInputError
from agentkit.testing import VirtualClock
from agentkit.tools import FunctionTool
from agentkit_tools import ToolLimits, ToolsConfig
from agentkit_tools.builtin import time as time_module
from agentkit_tools.builtin.time import TOOLS, time_now, time_parse, time_tools

# 2024-03-09T12:00:00Z, a Saturday.
NOW = 1_709_985_600.0

#: One valid call of every time tool, and a key its output must have.
CALLS: dict[str, tuple[dict[str, Any], str]] = {
    "time_add": ({"timestamp": "2024-01-31", "months": 1}, "iso"),
    "time_add_business_days": ({"start_date": "2024-03-08", "days": 1}, "date"),
    "time_business_days": ({"start_date": "2024-03-04", "end_date": "2024-03-10"}, "business_days"),
    "time_calculate_age": ({"birth_date": "2000-01-01"}, "years"),
    "time_convert_timezone": (
        {"timestamp": "2024-01-01T00:00Z", "to_timezone": "Asia/Tokyo"},
        "iso",
    ),
    "time_date_info": ({"date_text": "2024-02-29"}, "weekday"),
    "time_date_range": ({"start_date": "2024-01-01", "end_date": "2024-01-03"}, "dates"),
    "time_difference": ({"start": "2024-01-01", "end": "2024-01-02"}, "hours"),
    "time_format": ({"timestamp": "2024-07-04T15:30:00Z", "format": "%d %B"}, "formatted"),
    "time_format_duration": ({"seconds": 3661, "style": "short"}, "text"),
    "time_list_timezones": ({"contains": "tokyo"}, "timezones"),
    "time_now": ({"timezone": "Europe/Paris"}, "iso"),
    "time_parse": ({"text": "March 5, 2024"}, "iso"),
}


def _config(**options: Any) -> ToolsConfig:
    return ToolsConfig(clock=VirtualClock(epoch=NOW), **options)


def test_every_time_tool_is_listed_and_exported() -> None:
    """TOOLS holds each time tool once, as a FunctionTool exported from the module."""
    assert sorted(each.name for each in TOOLS) == sorted(CALLS)
    for each in TOOLS:
        assert isinstance(each, FunctionTool)
        assert getattr(time_module, each.name) is each
        assert (each.category, each.tags) == ("time", ("time",))


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_each_tool_runs_alone_bound_and_in_a_registry(name: str) -> None:
    """Imported alone, each tool (bound when it needs config) runs directly and in a registry."""
    params, key = CALLS[name]
    each = getattr(time_module, name)
    ready = each.bind(config=_config()) if each.injected else each
    direct = ready(**params)
    registry = ToolRegistry(validate_output=True)
    registry.register_tool(ready)
    result = await registry.execute_tool(name, params)
    assert result.success, result.error
    assert result.output[key] == direct[key]


async def test_unbound_tool_is_not_configured() -> None:
    """time_now registered without bind reports not_configured."""
    registry = ToolRegistry()
    registry.register_tool(time_now)
    result = await registry.execute_tool("time_now", {})
    assert result.error_type == "not_configured"


def test_now_is_the_config_clock() -> None:
    """time_now bound to a virtual clock reports that clock's time."""
    # bind keeps the signature's type (config included), so the bound call is typed Any here.
    bound: Any = time_now.bind(config=_config())
    assert bound(timezone="UTC")["iso"] == "2024-03-09T12:00:00+00:00"
    assert time_now(config=_config())["iso"] == "2024-03-09T12:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "options", "iso"),
    [
        ("5 Mar 2024 14:00", {}, "2024-03-05T14:00:00+00:00"),
        ("Tuesday, 5 March 2024", {}, "2024-03-05T00:00:00+00:00"),
        ("March 5th, 2024 2:30 PM", {}, "2024-03-05T14:30:00+00:00"),
        ("2024-03-05 14:00 +0200", {}, "2024-03-05T14:00:00+02:00"),
        ("5 March 2024 14:00 UTC", {"timezone": "Asia/Tokyo"}, "2024-03-05T14:00:00+00:00"),
        ("10:30", {"timezone": "Europe/Berlin"}, "2024-03-09T10:30:00+01:00"),
        ("01.02.2024", {}, "2024-02-01T00:00:00+00:00"),
        ("02/01/24", {"day_first": True}, "2024-01-02T00:00:00+00:00"),
        ("in 2 months", {}, "2024-05-09T12:00:00+00:00"),
        ("1 year ago", {}, "2023-03-09T12:00:00+00:00"),
        ("2024-03-05T14:00:00Z", {}, "2024-03-05T14:00:00+00:00"),
        ("Wed, 01 May 2024 12:00:00 EST", {}, "2024-05-01T12:00:00-05:00"),
    ],
)
def test_dateutil_formats(text: str, options: dict[str, Any], iso: str) -> None:
    """Free-form English dates, times of today, offsets and calendar phrases parse."""
    assert time_parse.bind(config=_config())(text, **options)["iso"] == iso


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("2023-02-30", {}, "cannot parse"),
        ("2024-13-01", {}, "cannot parse"),
        ("5 March 2024 14:00 IST", {}, "abbreviation 'IST'"),
        ("Wed, 01 May 2024 12:00:00 CEST", {}, "abbreviation 'CEST'"),
        ("the day after payday", {}, "cannot parse"),
        ("   ", {}, "cannot parse"),
        ("2024-01-01", {"format": "%d/%m/%Y"}, "does not match the format"),
        ("March 5, 2024", {"format": "%Y-%m-%d"}, "does not match the format"),
        ("5 March 2024 14:00 +9900", {}, "cannot parse"),
        ("99999999999999999999 March", {}, "cannot parse"),
    ],
)
def test_bad_dates_are_typed_errors(text: str, options: dict[str, Any], message: str) -> None:
    """Impossible dates, ambiguous zone names and format mismatches are ToolInputErrors."""
    with pytest.raises(ToolInputError, match=message):
        time_parse.bind(config=_config())(text, **options)


async def test_holiday_limit_follows_the_config() -> None:
    """ToolLimits.max_list_items bounds the holiday lists in the schema the registry checks."""
    registry = ToolRegistry()
    for each in time_tools(_config(limits=ToolLimits(max_list_items=2))):
        registry.register_tool(each)
    params = {"start_date": "2024-03-04", "end_date": "2024-03-10"}
    too_many = await registry.execute_tool(
        "time_business_days", {**params, "holidays": ["2024-03-05", "2024-03-06", "2024-03-07"]}
    )
    assert too_many.error_type == "validation"
    two = await registry.execute_tool(
        "time_business_days", {**params, "holidays": ["2024-03-05", "2024-03-06"]}
    )
    assert two.output["business_days"] == 3
