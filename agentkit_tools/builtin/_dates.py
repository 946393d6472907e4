"""Date and time helpers for the time tools: zones, parsing, calendar maths, durations.

Free-form dates are read by python-dateutil's parser (imported on first use: about 10-50 ms),
after the strict forms: an explicit format, Unix seconds, 'now'/'today'/'tomorrow'/
'yesterday', relative phrases, ISO 8601 (``datetime.fromisoformat``), RFC 2822 and dotted
day-first dates (``31.12.2024``).
"""

from __future__ import annotations

import calendar
import email.utils
import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import TypedDict

__all__ = [
    "Moment",
    "add_months",
    "calendar_difference",
    "describe",
    "format_duration",
    "parse_moment",
    "zone",
    "zone_name",
]

#: Dotted numeric dates are day-first wherever they are written (dateutil would read
#: 01.02.2024 as 2 January unless told).
_DOTTED_FORMATS = ("%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
_RELATIVE = re.compile(
    r"^(?:in\s+)?(\d+)\s+(second|minute|hour|day|week|month|year)s?(\s+ago)?$", re.IGNORECASE
)
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UT"})
#: The zone names RFC 2822 defines (obsolete, but unambiguous).
_RFC822_ZONES = _UTC_NAMES | {"EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}


class Moment(TypedDict):
    """The JSON form of an aware datetime."""

    iso: str
    unix: float
    timezone: str
    utc_offset: str
    date: str
    time: str
    weekday: str


class _UnknownZoneName(ValueError):
    """A time-zone abbreviation dateutil found but that names no single offset."""


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


def describe(moment: datetime, timezone_name: str) -> Moment:
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
        return _relative(text, current, relative)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # RFC 2822 only with a zone it defines: the email parser reads any other ('IST') as UTC.
    zone_token = text.rsplit(None, 1)[-1].upper() if text else ""
    if not zone_token.isalpha() or zone_token in _RFC822_ZONES:
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    for candidate in _DOTTED_FORMATS:
        try:
            return datetime.strptime(text, candidate)
        except ValueError:
            continue
    return _parse_free(text, current, day_first=day_first)


def _relative(text: str, current: datetime, match: re.Match[str]) -> datetime:
    """'3 days ago', 'in 2 months': days and shorter are exact, months and years calendar."""
    amount = int(match.group(1)) * (-1 if match.group(3) else 1)
    unit = match.group(2).lower() + "s"
    try:
        if unit in ("months", "years"):
            from dateutil.relativedelta import relativedelta

            # Keeps the wall-clock time; 31 January + 1 month is the last day of February.
            step = relativedelta(months=amount) if unit == "months" else relativedelta(years=amount)
            return current + step
        return current + timedelta(**{unit: amount})
    except (OverflowError, ValueError):
        raise ValueError(f"{text!r} is outside the years 1 to 9999") from None


def _zone_of(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's ``tzinfos``: an offset, a UTC name, or an error for an abbreviation."""
    if offset is not None:
        return UTC if offset == 0 else timezone(timedelta(seconds=offset))
    if name is None:
        return None
    if name.upper() in _UTC_NAMES:
        return UTC
    raise _UnknownZoneName(
        f"the time-zone abbreviation {name!r} is ambiguous: write a UTC offset ('+02:00') or "
        "pass an IANA time zone in 'timezone'"
    )


def _parse_free(text: str, current: datetime, *, day_first: bool) -> datetime:
    """*text* read by dateutil: 'March 5, 2024', '5 Mar 2024 14:00', '01/02/2024', '10:30'.

    Missing parts come from *current*'s date at midnight ('10:30' is today at 10:30).
    """
    from dateutil import parser

    default = current.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    try:
        return parser.parse(text, default=default, dayfirst=day_first, tzinfos=_zone_of)
    except _UnknownZoneName as exc:
        raise ValueError(f"cannot parse {text!r}: {exc}") from None
    except (ValueError, OverflowError) as exc:
        raise ValueError(
            f"cannot parse {text!r} as a date/time ({exc}): use ISO 8601 "
            "('2024-05-01T12:00:00Z'), RFC 2822, 'March 5, 2024', Unix seconds, a phrase like "
            "'3 days ago', or pass an explicit format"
        ) from None


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
