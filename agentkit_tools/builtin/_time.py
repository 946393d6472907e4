"""Time and date tools: parse, format, timezone-aware arithmetic, ages and business days.

"Now" comes from ``ToolsConfig.clock``, so tests run on virtual time. Timestamps are ISO 8601
strings or Unix seconds; a time without an offset is read in the tool's ``timezone``. Adding
years, months, weeks or days moves the local calendar date and keeps the wall-clock time
(across a DST change too); hours, minutes and seconds are exact elapsed time.

Every parameter is bounded by its schema (strings of at most 200 characters, holiday lists of
at most ``ToolLimits.max_list_items``, ranges of at most 100 years or 10,000 dates), so the
tools are fast; those that loop over days or parse many dates run in a worker thread.
"""

from __future__ import annotations

import calendar
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentkit.exceptions import LimitExceededError
from agentkit.tools import Tool
from agentkit_tools.builtin._config import ToolsConfig
from agentkit_tools.builtin._dates import (
    add_months,
    calendar_difference,
    describe,
    format_duration,
    parse_moment,
    zone,
    zone_name,
)
from agentkit_tools.builtin._schema import array, boolean, integer, make_tool, number, obj, string

__all__ = ["time_tools"]

_TIMESTAMP = string(
    "ISO 8601 text (e.g. '2024-03-10T09:30:00+01:00') or Unix seconds", minLength=1, maxLength=200
)
_TZ = string("IANA time zone, e.g. 'Europe/Berlin' or 'UTC'", default="UTC", maxLength=64)
_MOMENT = obj(
    {
        "iso": string(),
        "unix": number(),
        "timezone": string(),
        "utc_offset": string(),
        "date": string(),
        "time": string(),
        "weekday": string(),
    },
    ["iso", "unix"],
    closed=False,
)


def time_tools(config: ToolsConfig) -> list[Tool]:
    """The time tools; "now" is *config*'s clock."""

    def moment(value: str | float, timezone_name: str = "UTC", **options: Any) -> datetime:
        return parse_moment(value, timezone_name, now=config.clock.time(), **options)

    def day(value: str, timezone_name: str = "UTC") -> date:
        return moment(value, timezone_name).date()

    def time_now(timezone: str = "UTC") -> dict[str, Any]:
        current = datetime.fromtimestamp(config.clock.time(), UTC).astimezone(zone(timezone))
        return describe(current, timezone)

    def time_format(
        timestamp: str, format: str = "%Y-%m-%d %H:%M:%S", timezone: str | None = None
    ) -> dict[str, Any]:
        parsed = moment(timestamp)
        if timezone is not None:
            parsed = parsed.astimezone(zone(timezone))
        return {"formatted": parsed.strftime(format), "iso": parsed.isoformat()}

    def time_parse(
        text: str, format: str | None = None, timezone: str = "UTC", day_first: bool = False
    ) -> dict[str, Any]:
        parsed = moment(text, timezone, fmt=format, day_first=day_first)
        return describe(parsed, zone_name(parsed, timezone))

    def time_calculate_age(
        birth_date: str, on_date: str | None = None, timezone: str = "UTC"
    ) -> dict[str, Any]:
        born = day(birth_date, timezone)
        today = (
            day(on_date, timezone)
            if on_date
            else datetime.fromtimestamp(config.clock.time(), UTC).astimezone(zone(timezone)).date()
        )
        if born > today:
            raise ValueError(f"birth date {born} is after {today}")
        years, months, days = calendar_difference(born, today)
        # A 29 February birthday falls on 28 February in common years.
        next_year = (
            today.year if (today.month, today.day) < (born.month, born.day) else today.year + 1
        )
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

    def time_add(
        timestamp: str,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        timezone: str = "UTC",
    ) -> dict[str, Any]:
        start = moment(timestamp, timezone)
        local_date = add_months(start.date(), years * 12 + months) + timedelta(
            weeks=weeks, days=days
        )
        wall = datetime.combine(local_date, start.timetz().replace(tzinfo=None))
        shifted = wall.replace(tzinfo=start.tzinfo)
        # Exact units run on absolute time, so '24 hours' across a DST change stays 24 h.
        result = (
            shifted.astimezone(UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
        ).astimezone(start.tzinfo)
        return describe(result, zone_name(result, timezone))

    def time_difference(start: str, end: str, timezone: str = "UTC") -> dict[str, Any]:
        first, second = moment(start, timezone), moment(end, timezone)
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

    def time_convert_timezone(
        timestamp: str, to_timezone: str, from_timezone: str = "UTC"
    ) -> dict[str, Any]:
        converted = moment(timestamp, from_timezone).astimezone(zone(to_timezone))
        result = describe(converted, to_timezone)
        dst = converted.dst()
        result.update(abbreviation=converted.tzname() or "", is_dst=bool(dst))
        return result

    def _business(current: date, weekend: set[int], holidays: set[date]) -> bool:
        return current.weekday() not in weekend and current not in holidays

    def time_business_days(
        start_date: str,
        end_date: str,
        holidays: list[str] | None = None,
        weekend: list[int] | None = None,
    ) -> dict[str, Any]:
        first, last = day(start_date), day(end_date)
        if last < first:
            raise ValueError(f"end_date {last} is before start_date {first}")
        if (last - first).days > 100 * 366:
            raise LimitExceededError("the range is longer than 100 years; count it in parts")
        off = {day(h) for h in holidays or []}
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

    def time_add_business_days(
        start_date: str,
        days: int,
        holidays: list[str] | None = None,
        weekend: list[int] | None = None,
    ) -> dict[str, Any]:
        current = day(start_date)
        off = {day(h) for h in holidays or []}
        weekend_days = set(weekend if weekend is not None else [5, 6])
        if len(weekend_days) >= 7:
            raise ValueError("every day of the week is a weekend day")
        step = 1 if days >= 0 else -1
        for _ in range(abs(days)):
            current += timedelta(days=step)
            while not _business(current, weekend_days, off):
                current += timedelta(days=step)
        return {"date": current.isoformat(), "weekday": current.strftime("%A")}

    def time_date_info(date_text: str) -> dict[str, Any]:
        current = day(date_text)
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

    def time_date_range(
        start_date: str, end_date: str, step: int = 1, unit: str = "day"
    ) -> dict[str, Any]:
        first, last = day(start_date), day(end_date)
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

    def time_list_timezones(contains: str = "") -> dict[str, Any]:
        needle = contains.lower()
        names = sorted(n for n in zoneinfo.available_timezones() if needle in n.lower())
        return {"timezones": names, "count": len(names)}

    def time_format_duration(seconds: float, style: str = "long") -> dict[str, Any]:
        return {"seconds": seconds, "text": format_duration(seconds, style)}

    date_param = string(
        "A date, e.g. '2024-02-29' (any format time_parse reads)", minLength=1, maxLength=200
    )
    holidays = array(date_param, maxItems=config.limits.max_list_items)
    weekend = array(
        integer(minimum=0, maximum=6), "Weekday numbers, Monday=0", maxItems=7, uniqueItems=True
    )
    return [
        make_tool(
            time_now,
            name="time_now",
            category="time",
            idempotent=False,
            description="The current date and time in a time zone.",
            parameters=obj({"timezone": _TZ}),
            returns=_MOMENT,
        ),
        make_tool(
            time_format,
            name="time_format",
            category="time",
            description="Format a timestamp with strftime codes, optionally in another time zone.",
            parameters=obj(
                {
                    "timestamp": _TIMESTAMP,
                    "format": string(
                        "strftime codes", default="%Y-%m-%d %H:%M:%S", minLength=1, maxLength=200
                    ),
                    "timezone": string(maxLength=64),
                },
                ["timestamp"],
            ),
            returns=obj({"formatted": string(), "iso": string()}, ["formatted"]),
        ),
        make_tool(
            time_parse,
            name="time_parse",
            category="time",
            description="Parse a date/time (ISO 8601, RFC 2822, 'March 5, 2024', Unix "
            "seconds, 'tomorrow', '3 days ago', or an explicit format).",
            parameters=obj(
                {
                    "text": _TIMESTAMP,
                    "format": string("strptime codes", maxLength=200),
                    "timezone": _TZ,
                    "day_first": boolean("Read 01/02/2024 as 1 February", default=False),
                },
                ["text"],
            ),
            returns=_MOMENT,
        ),
        make_tool(
            time_calculate_age,
            name="time_calculate_age",
            category="time",
            description="Age in years, months and days from a birth date, and the next birthday.",
            parameters=obj(
                {
                    "birth_date": date_param,
                    "on_date": string("Default: today", maxLength=200),
                    "timezone": _TZ,
                },
                ["birth_date"],
            ),
            returns=obj(
                {
                    "years": integer(minimum=0),
                    "months": integer(minimum=0),
                    "days": integer(minimum=0),
                    "total_days": integer(minimum=0),
                    "next_birthday": string(),
                    "days_until_birthday": integer(minimum=1),
                },
                ["years", "months", "days"],
            ),
        ),
        make_tool(
            time_add,
            name="time_add",
            category="time",
            description="Add or subtract years, months, weeks, days (calendar, DST-aware) "
            "and hours, minutes, seconds (exact) to a timestamp.",
            parameters=obj(
                {
                    "timestamp": _TIMESTAMP,
                    **{
                        u: integer(default=0, minimum=-100_000, maximum=100_000)
                        for u in ("years", "months", "weeks", "days")
                    },
                    **{
                        u: number(default=0, minimum=-1e10, maximum=1e10)
                        for u in ("hours", "minutes", "seconds")
                    },
                    "timezone": _TZ,
                },
                ["timestamp"],
            ),
            returns=_MOMENT,
        ),
        make_tool(
            time_difference,
            name="time_difference",
            category="time",
            description="Elapsed time between two timestamps, in several units and in "
            "calendar years/months/days.",
            parameters=obj(
                {"start": _TIMESTAMP, "end": _TIMESTAMP, "timezone": _TZ}, ["start", "end"]
            ),
            returns=obj(
                {
                    "seconds": number(),
                    "minutes": number(),
                    "hours": number(),
                    "days": number(),
                    "weeks": number(),
                    "calendar": obj({"years": integer(), "months": integer(), "days": integer()}),
                    "human": string(),
                },
                ["seconds", "human"],
            ),
        ),
        make_tool(
            time_convert_timezone,
            name="time_convert_timezone",
            category="time",
            description="Show a moment in another time zone, with offset and DST.",
            parameters=obj(
                {
                    "timestamp": _TIMESTAMP,
                    "to_timezone": string(minLength=1, maxLength=64),
                    "from_timezone": _TZ,
                },
                ["timestamp", "to_timezone"],
            ),
            returns=obj(
                {**_MOMENT["properties"], "abbreviation": string(), "is_dst": boolean()},
                ["iso", "utc_offset", "is_dst"],
            ),
        ),
        make_tool(
            time_business_days,
            name="time_business_days",
            category="time",
            blocking=True,
            description="Count working days between two dates (both included), "
            "skipping weekends and holidays.",
            parameters=obj(
                {
                    "start_date": date_param,
                    "end_date": date_param,
                    "holidays": holidays,
                    "weekend": weekend,
                },
                ["start_date", "end_date"],
            ),
            returns=obj(
                {
                    "business_days": integer(),
                    "calendar_days": integer(),
                    "holidays_on_workdays": integer(),
                },
                ["business_days"],
            ),
        ),
        make_tool(
            time_add_business_days,
            name="time_add_business_days",
            category="time",
            blocking=True,
            description="The date N working days after (or before) a date.",
            parameters=obj(
                {
                    "start_date": date_param,
                    "days": integer(minimum=-10_000, maximum=10_000),
                    "holidays": holidays,
                    "weekend": weekend,
                },
                ["start_date", "days"],
            ),
            returns=obj({"date": string(), "weekday": string()}, ["date"]),
        ),
        make_tool(
            time_date_info,
            name="time_date_info",
            category="time",
            description="Facts about a date: weekday, ISO week, day of year, quarter, "
            "leap year, days in month.",
            parameters=obj({"date_text": date_param}, ["date_text"]),
            returns=obj(
                {
                    "date": string(),
                    "weekday": string(),
                    "iso_week": integer(),
                    "day_of_year": integer(),
                    "quarter": integer(),
                    "is_leap_year": boolean(),
                    "days_in_month": integer(),
                },
                ["date", "weekday"],
                closed=False,
            ),
        ),
        make_tool(
            time_date_range,
            name="time_date_range",
            category="time",
            blocking=True,
            description="Every date from start to end by a step of days, weeks or months.",
            parameters=obj(
                {
                    "start_date": date_param,
                    "end_date": date_param,
                    "step": integer(minimum=1, maximum=10_000, default=1),
                    "unit": string(enum=["day", "week", "month"], default="day"),
                },
                ["start_date", "end_date"],
            ),
            returns=obj({"dates": array(string()), "count": integer()}, ["dates"]),
        ),
        make_tool(
            time_list_timezones,
            name="time_list_timezones",
            category="time",
            blocking=True,
            description="IANA time-zone names, optionally those containing a text.",
            parameters=obj({"contains": string(default="", maxLength=64)}),
            returns=obj({"timezones": array(string()), "count": integer()}, ["timezones"]),
        ),
        make_tool(
            time_format_duration,
            name="time_format_duration",
            category="time",
            description="Seconds as readable text ('2 days, 3 hours'), short ('2d 3h') or "
            "ISO 8601 ('P2DT3H').",
            parameters=obj(
                {
                    "seconds": number(minimum=-1e12, maximum=1e12),
                    "style": string(enum=["long", "short", "iso"], default="long"),
                },
                ["seconds"],
            ),
            returns=obj({"seconds": number(), "text": string()}, ["text"]),
        ),
    ]
