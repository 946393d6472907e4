"""Time and date tools: parse, format, timezone-aware arithmetic, ages and business days.

Every tool is a plain function made a :class:`~agentkit.tools.FunctionTool` by ``@tool``; the
schema comes from its type hints and docstring. Tools that read a date take the settings as an
injected ``config``: "now" is ``config.clock`` (tests run on virtual time), so
``time_now.bind(config=ToolsConfig(clock=VirtualClock(0)))`` is a tool to register or call.

Timestamps are ISO 8601 strings, Unix seconds, phrases ('tomorrow', '3 days ago', 'in 2
months') or free-form dates read by python-dateutil ('March 5, 2024', '5 Mar 2024 14:00');
a time without an offset is read in the tool's ``timezone``. Adding years, months, weeks or
days moves the local calendar date and keeps the wall-clock time (across a DST change too);
hours, minutes and seconds are exact elapsed time.

Every parameter is bounded by its schema (strings of at most 200 characters, holiday lists of
at most ``ToolLimits.max_list_items``, ranges of at most 100 years or 10,000 dates), so the
tools are fast; those that loop over days or parse many dates run in a worker thread.
"""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, ParamSpec, TypedDict, TypeVar, cast

import msgspec

from agentkit.exceptions import LimitExceededError
from agentkit.tools import FunctionTool, Injected, Tool, tool
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._dates import (
    Moment,
    add_months,
    calendar_difference,
    describe,
    format_duration,
    parse_moment,
    zone,
    zone_name,
)
from agentkit_tools.builtin._errors import typed_errors
from agentkit_tools.builtin._typed import Limit, fit_to_limits

__all__ = [
    "TOOLS",
    "time_add",
    "time_add_business_days",
    "time_business_days",
    "time_calculate_age",
    "time_convert_timezone",
    "time_date_info",
    "time_date_range",
    "time_difference",
    "time_format",
    "time_format_duration",
    "time_list_timezones",
    "time_now",
    "time_parse",
    "time_tools",
]

P = ParamSpec("P")
R = TypeVar("R")

#: The default ``ToolLimits.max_list_items`` (the holiday lists' ``maxItems``).

_Timestamp = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
_DateText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
_Zone = Annotated[str, msgspec.Meta(max_length=64)]
_Holidays = Annotated[list[_DateText], Limit("maxItems", "max_list_items")]
_Weekend = Annotated[
    list[Annotated[int, msgspec.Meta(ge=0, le=6)]],
    msgspec.Meta(max_length=7, extra_json_schema={"uniqueItems": True}),
]
_Config = Annotated[ToolsConfig, Injected]

_TIMESTAMP_DOC = "ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds"


def _time_tool(
    name: str, *, idempotent: bool = True, blocking: bool = False
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """``@tool`` with the built-in time tools' options, and typed errors for bad input."""

    def decorate(function: Callable[P, R]) -> FunctionTool[P, R]:
        return tool(
            name=name,
            category="time",
            tags=("time",),
            read_only=True,
            destructive=False,
            idempotent=idempotent,
            open_world=False,
            blocking=blocking,
        )(cast("Callable[P, R]", typed_errors(function)))

    return decorate


def _moment(
    config: ToolsConfig, value: str | float, timezone_name: str = "UTC", **options: Any
) -> datetime:
    return parse_moment(value, timezone_name, now=config.clock.time(), **options)


def _day(config: ToolsConfig, value: str, timezone_name: str = "UTC") -> date:
    return _moment(config, value, timezone_name).date()


def _today(config: ToolsConfig, timezone_name: str) -> datetime:
    return datetime.fromtimestamp(config.clock.time(), UTC).astimezone(zone(timezone_name))


@_time_tool("time_now", idempotent=False)
def time_now(timezone: _Zone = "UTC", *, config: _Config) -> Moment:
    """The current date and time in a time zone.

    Args:
        timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        config: The settings; ``config.clock`` is "now".
    """
    return describe(_today(config, timezone), timezone)


class _Formatted(TypedDict):
    formatted: str
    iso: str


@_time_tool("time_format")
def time_format(
    timestamp: _Timestamp,
    format: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "%Y-%m-%d %H:%M:%S",
    timezone: _Zone | None = None,
    *,
    config: _Config,
) -> _Formatted:
    """Format a timestamp with strftime codes, optionally in another time zone.

    Args:
        timestamp: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        format: strftime codes
        timezone: IANA time zone to show the moment in (default: its own offset).
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    parsed = _moment(config, timestamp)
    if timezone is not None:
        parsed = parsed.astimezone(zone(timezone))
    return {"formatted": parsed.strftime(format), "iso": parsed.isoformat()}


@_time_tool("time_parse")
def time_parse(
    text: _Timestamp,
    format: Annotated[str, msgspec.Meta(max_length=200)] | None = None,
    timezone: _Zone = "UTC",
    day_first: bool = False,
    *,
    config: _Config,
) -> Moment:
    """Parse a date/time (ISO 8601, RFC 2822, 'March 5, 2024', Unix seconds, 'tomorrow',
    '3 days ago', or an explicit format).

    Args:
        text: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        format: strptime codes
        timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        day_first: Read 01/02/2024 as 1 February
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    parsed = _moment(config, text, timezone, fmt=format, day_first=day_first)
    return describe(parsed, zone_name(parsed, timezone))


class _Age(TypedDict):
    years: Annotated[int, msgspec.Meta(ge=0)]
    months: Annotated[int, msgspec.Meta(ge=0)]
    days: Annotated[int, msgspec.Meta(ge=0)]
    total_days: Annotated[int, msgspec.Meta(ge=0)]
    next_birthday: str
    days_until_birthday: Annotated[int, msgspec.Meta(ge=1)]


@_time_tool("time_calculate_age")
def time_calculate_age(
    birth_date: _DateText,
    on_date: Annotated[str, msgspec.Meta(max_length=200)] | None = None,
    timezone: _Zone = "UTC",
    *,
    config: _Config,
) -> _Age:
    """Age in years, months and days from a birth date, and the next birthday.

    Args:
        birth_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        on_date: Default: today
        timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        config: The settings; ``config.clock`` is "now".
    """
    born = _day(config, birth_date, timezone)
    today = _day(config, on_date, timezone) if on_date else _today(config, timezone).date()
    if born > today:
        raise ValueError(f"birth date {born} is after {today}")
    years, months, days = calendar_difference(born, today)
    # A 29 February birthday falls on 28 February in common years.
    next_year = today.year if (today.month, today.day) < (born.month, born.day) else today.year + 1
    birthday = add_months(born, (next_year - born.year) * 12)
    if birthday <= today:
        birthday = add_months(born, (next_year + 1 - born.year) * 12)
    return {
        "years": years,
        "months": months,
        "days": days,
        "total_days": (today - born).days,
        "next_birthday": birthday.isoformat(),
        "days_until_birthday": (birthday - today).days,
    }


_Calendar = Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]
_Exact = Annotated[float, msgspec.Meta(ge=-1e10, le=1e10)]


@_time_tool("time_add")
def time_add(
    timestamp: _Timestamp,
    years: _Calendar = 0,
    months: _Calendar = 0,
    weeks: _Calendar = 0,
    days: _Calendar = 0,
    hours: _Exact = 0,
    minutes: _Exact = 0,
    seconds: _Exact = 0,
    timezone: _Zone = "UTC",
    *,
    config: _Config,
) -> Moment:
    """Add or subtract years, months, weeks, days (calendar, DST-aware) and hours, minutes,
    seconds (exact) to a timestamp.

    Args:
        timestamp: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        years: Calendar years to add (negative: subtract).
        months: Calendar months to add; a day past the month's end becomes its last day.
        weeks: Calendar weeks to add.
        days: Calendar days to add (the wall-clock time stays).
        hours: Exact hours to add.
        minutes: Exact minutes to add.
        seconds: Exact seconds to add.
        timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    start = _moment(config, timestamp, timezone)
    local_date = add_months(start.date(), years * 12 + months) + timedelta(weeks=weeks, days=days)
    wall = datetime.combine(local_date, start.timetz().replace(tzinfo=None))
    shifted = wall.replace(tzinfo=start.tzinfo)
    # Exact units run on absolute time, so '24 hours' across a DST change stays 24 h.
    result = (
        shifted.astimezone(UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
    ).astimezone(start.tzinfo)
    return describe(result, zone_name(result, timezone))


class _CalendarParts(TypedDict):
    years: int
    months: int
    days: int


class _Difference(TypedDict):
    seconds: float
    minutes: float
    hours: float
    days: float
    weeks: float
    calendar: _CalendarParts
    human: str


@_time_tool("time_difference")
def time_difference(
    start: _Timestamp, end: _Timestamp, timezone: _Zone = "UTC", *, config: _Config
) -> _Difference:
    """Elapsed time between two timestamps, in several units and in calendar
    years/months/days.

    Args:
        start: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        end: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    first, second = _moment(config, start, timezone), _moment(config, end, timezone)
    # Aware datetimes sharing a tzinfo subtract as wall clocks: compare in UTC.
    elapsed = (second.astimezone(UTC) - first.astimezone(UTC)).total_seconds()
    low, high = sorted((first, second))
    years, months, days = calendar_difference(low.date(), high.astimezone(low.tzinfo).date())
    return {
        "seconds": elapsed,
        "minutes": elapsed / 60,
        "hours": elapsed / 3600,
        "days": elapsed / 86400,
        "weeks": elapsed / 604800,
        "calendar": {"years": years, "months": months, "days": days},
        "human": format_duration(elapsed),
    }


class _ZoneMoment(Moment):
    abbreviation: str
    is_dst: bool


@_time_tool("time_convert_timezone")
def time_convert_timezone(
    timestamp: _Timestamp,
    to_timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)],
    from_timezone: _Zone = "UTC",
    *,
    config: _Config,
) -> _ZoneMoment:
    """Show a moment in another time zone, with offset and DST.

    Args:
        timestamp: ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds
        to_timezone: The IANA time zone to show the moment in.
        from_timezone: IANA time zone, e.g. 'Europe/Berlin' or 'UTC'
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    converted = _moment(config, timestamp, from_timezone).astimezone(zone(to_timezone))
    moment = describe(converted, to_timezone)
    return {
        **moment,
        "abbreviation": converted.tzname() or "",
        "is_dst": bool(converted.dst()),
    }


def _business(current: date, weekend: set[int], holidays: set[date]) -> bool:
    return current.weekday() not in weekend and current not in holidays


class _BusinessDays(TypedDict):
    business_days: int
    calendar_days: int
    holidays_on_workdays: int


@_time_tool("time_business_days", blocking=True)
def time_business_days(
    start_date: _DateText,
    end_date: _DateText,
    holidays: _Holidays | None = None,
    weekend: _Weekend | None = None,
    *,
    config: _Config,
) -> _BusinessDays:
    """Count working days between two dates (both included), skipping weekends and holidays.

    Args:
        start_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        end_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        holidays: Dates that are not working days.
        weekend: Weekday numbers, Monday=0
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    first, last = _day(config, start_date), _day(config, end_date)
    if last < first:
        raise ValueError(f"end_date {last} is before start_date {first}")
    if (last - first).days > 100 * 366:
        raise LimitExceededError("the range is longer than 100 years; count it in parts")
    off = {_day(config, h) for h in holidays or []}
    weekend_days = set(weekend if weekend is not None else [5, 6])
    calendar_days = (last - first).days + 1
    count = sum(
        _business(first + timedelta(days=i), weekend_days, off) for i in range(calendar_days)
    )
    return {
        "business_days": count,
        "calendar_days": calendar_days,
        "holidays_on_workdays": sum(
            1 for h in off if first <= h <= last and h.weekday() not in weekend_days
        ),
    }


class _WorkDate(TypedDict):
    date: str
    weekday: str


@_time_tool("time_add_business_days", blocking=True)
def time_add_business_days(
    start_date: _DateText,
    days: Annotated[int, msgspec.Meta(ge=-10_000, le=10_000)],
    holidays: _Holidays | None = None,
    weekend: _Weekend | None = None,
    *,
    config: _Config,
) -> _WorkDate:
    """The date N working days after (or before) a date.

    Args:
        start_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        days: Working days to move (negative: back).
        holidays: Dates that are not working days.
        weekend: Weekday numbers, Monday=0
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    current = _day(config, start_date)
    off = {_day(config, h) for h in holidays or []}
    weekend_days = set(weekend if weekend is not None else [5, 6])
    if len(weekend_days) >= 7:
        raise ValueError("every day of the week is a weekend day")
    step = 1 if days >= 0 else -1
    for _ in range(abs(days)):
        current += timedelta(days=step)
        while not _business(current, weekend_days, off):
            current += timedelta(days=step)
    return {"date": current.isoformat(), "weekday": current.strftime("%A")}


class _DateInfo(TypedDict):
    date: str
    weekday: str
    weekday_number: int
    iso_week: int
    iso_year: int
    day_of_year: int
    quarter: int
    is_leap_year: bool
    days_in_month: int
    is_weekend: bool


@_time_tool("time_date_info")
def time_date_info(date_text: _DateText, *, config: _Config) -> _DateInfo:
    """Facts about a date: weekday, ISO week, day of year, quarter, leap year, days in month.

    Args:
        date_text: A date, e.g. '2024-02-29' (any format time_parse reads)
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    current = _day(config, date_text)
    iso = current.isocalendar()
    return {
        "date": current.isoformat(),
        "weekday": current.strftime("%A"),
        "weekday_number": iso.weekday,
        "iso_week": iso.week,
        "iso_year": iso.year,
        "day_of_year": current.timetuple().tm_yday,
        "quarter": (current.month - 1) // 3 + 1,
        "is_leap_year": calendar.isleap(current.year),
        "days_in_month": calendar.monthrange(current.year, current.month)[1],
        "is_weekend": current.weekday() >= 5,
    }


class _DateRange(TypedDict):
    dates: list[str]
    count: int


@_time_tool("time_date_range", blocking=True)
def time_date_range(
    start_date: _DateText,
    end_date: _DateText,
    step: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1,
    unit: Literal["day", "week", "month"] = "day",
    *,
    config: _Config,
) -> _DateRange:
    """Every date from start to end by a step of days, weeks or months.

    Args:
        start_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        end_date: A date, e.g. '2024-02-29' (any format time_parse reads)
        step: How many units between dates.
        unit: The unit of step; a month step keeps the day, clamped to the month's end.
        config: The settings; ``config.clock`` is "now" for relative phrases.
    """
    first, last = _day(config, start_date), _day(config, end_date)
    if last < first:
        raise ValueError(f"end_date {last} is before start_date {first}")
    dates: list[str] = []
    index = 0
    while True:
        current = (
            add_months(first, index * step)
            if unit == "month"
            else first + timedelta(days=index * step * (7 if unit == "week" else 1))
        )
        if current > last:
            break
        if len(dates) >= 10_000:
            raise LimitExceededError("the range has more than 10000 dates; use a larger step")
        dates.append(current.isoformat())
        index += 1
    return {"dates": dates, "count": len(dates)}


class _Zones(TypedDict):
    timezones: list[str]
    count: int


@_time_tool("time_list_timezones", blocking=True)
def time_list_timezones(contains: Annotated[str, msgspec.Meta(max_length=64)] = "") -> _Zones:
    """IANA time-zone names, optionally those containing a text.

    Args:
        contains: Only names containing this text (any case).
    """
    needle = contains.lower()
    names = sorted(n for n in zoneinfo.available_timezones() if needle in n.lower())
    return {"timezones": names, "count": len(names)}


class _Duration(TypedDict):
    seconds: float
    text: str


@_time_tool("time_format_duration")
def time_format_duration(
    seconds: Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)],
    style: Literal["long", "short", "iso"] = "long",
) -> _Duration:
    """Seconds as readable text ('2 days, 3 hours'), short ('2d 3h') or ISO 8601 ('P2DT3H').

    Args:
        seconds: The duration in seconds (negative gives a '-').
        style: long, short or iso.
    """
    return {"seconds": seconds, "text": format_duration(seconds, style)}


TOOLS: tuple[FunctionTool[..., Any], ...] = (
    time_add,
    time_add_business_days,
    time_business_days,
    time_calculate_age,
    time_convert_timezone,
    time_date_info,
    time_date_range,
    time_difference,
    time_format,
    time_format_duration,
    time_list_timezones,
    time_now,
    time_parse,
)


def time_tools(config: ToolsConfig) -> list[Tool]:
    """The time tools bound to *config* ("now" is its clock, holiday lists its limits)."""
    return [
        fit_to_limits(each.bind(config=config) if each.injected else each, config.limits)
        for each in TOOLS
    ]
