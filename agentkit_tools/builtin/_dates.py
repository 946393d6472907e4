"""Date and time helpers for the time tools: zones, parsing, calendar maths, durations."""

from __future__ import annotations

import calendar
import email.utils
import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

__all__ = [
    "add_months",
    "calendar_difference",
    "describe",
    "format_duration",
    "parse_moment",
    "zone",
    "zone_name",
]

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%A, %B %d, %Y",
    "%B %d, %Y %H:%M",
    "%d %B %Y %H:%M",
    "%Y%m%dT%H%M%S",
)
_SLASH_FORMATS = {
    False: ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%y"),
    True: ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%y"),
}
_RELATIVE = re.compile(
    r"^(?:in\s+)?(\d+)\s+(second|minute|hour|day|week)s?(\s+ago)?$", re.IGNORECASE
)


def zone(name: str) -> tzinfo:
    """The time zone called *name*; ValueError naming the problem otherwise."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like 'Europe/Paris'"
        ) from exc


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def describe(moment: datetime, timezone_name: str) -> dict[str, Any]:
    """The JSON form of an aware datetime."""
    return {
        "iso": moment.isoformat(),
        "unix": moment.timestamp(),
        "timezone": timezone_name,
        "utc_offset": _offset(moment),
        "date": moment.date().isoformat(),
        "time": moment.time().isoformat(),
        "weekday": moment.strftime("%A"),
    }


def zone_name(moment: datetime, fallback: str) -> str:
    key = getattr(moment.tzinfo, "key", None)
    return str(key) if key else (fallback if moment.tzinfo is UTC else _offset(moment))


def parse_moment(
    value: str | float,
    timezone_name: str = "UTC",
    *,
    now: float,
    fmt: str | None = None,
    day_first: bool = False,
) -> datetime:
    """An aware datetime from text, Unix seconds or a relative phrase ('3 days ago')."""
    tz = zone(timezone_name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_unix(value, tz)
    text = str(value).strip()
    parsed: datetime | None = None
    if fmt is not None:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError as exc:
            raise ValueError(f"{text!r} does not match the format {fmt!r}: {exc}") from exc
    elif re.fullmatch(r"-?\d+(\.\d+)?", text):
        return _from_unix(float(text), tz)
    else:
        parsed = _parse_text(text, tz, now=now, day_first=day_first)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _from_unix(seconds: float, tz: tzinfo) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC).astimezone(tz)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{seconds!r} Unix seconds is outside the years 1 to 9999") from None


def _parse_text(text: str, tz: tzinfo, *, now: float, day_first: bool) -> datetime:
    current = datetime.fromtimestamp(now, UTC).astimezone(tz)
    lowered = text.lower()
    midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
    named = {
        "now": current,
        "today": midnight,
        "tomorrow": midnight + timedelta(days=1),
        "yesterday": midnight - timedelta(days=1),
    }
    if lowered in named:
        return named[lowered]
    relative = _RELATIVE.match(lowered)
    if relative:
        amount = int(relative.group(1)) * (-1 if relative.group(3) else 1)
        try:
            return current + timedelta(**{relative.group(2) + "s": amount})
        except OverflowError:
            raise ValueError(f"{text!r} is outside the years 1 to 9999") from None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for candidate in (*_FORMATS, *_SLASH_FORMATS[day_first]):
        try:
            return datetime.strptime(text, candidate)
        except ValueError:
            continue
    raise ValueError(
        f"cannot parse {text!r} as a date/time: use ISO 8601 ('2024-05-01T12:00:00Z'), "
        "RFC 2822, Unix seconds, a phrase like '3 days ago', or pass an explicit format"
    )


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        raise ValueError("the result is outside the years 1 to 9999")
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def calendar_difference(start: date, end: date) -> tuple[int, int, int]:
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    anchor = add_months(start, months)
    return months // 12, months % 12, (end - anchor).days


def format_duration(seconds: float, style: str = "long") -> str:
    """*seconds* as '2 days, 3 hours', '2d 3h' or ISO 8601 'P2DT3H'."""
    sign = "-" if seconds < 0 else ""
    remaining = abs(seconds)
    units = [("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]
    parts: list[tuple[str, float]] = []
    for unit, size in units:
        amount = remaining // size if size > 1 else round(remaining, 3)
        remaining -= amount * size if size > 1 else remaining
        if amount:
            parts.append((unit, int(amount) if float(amount).is_integer() else amount))
    if style == "iso":
        values = dict(parts)
        date_part = f"{values['day']}D" if "day" in values else ""
        time_part = "".join(
            f"{values[u]}{u[0].upper()}" for u in ("hour", "minute", "second") if u in values
        )
        return sign + "P" + date_part + ("T" + time_part if time_part else "") if parts else "PT0S"
    if not parts:
        return "0 seconds" if style == "long" else "0s"
    if style == "short":
        return sign + " ".join(f"{amount}{unit[0]}" for unit, amount in parts)
    return sign + ", ".join(
        f"{amount} {unit}{'' if amount == 1 else 's'}" for unit, amount in parts
    )
