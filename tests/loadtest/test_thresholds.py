"""Thresholds as k6 writes them: parsing, judging a run, and the command's exit status."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit import ConfigurationError, LoadProfile, LoadTester
from agentkit.cli import main
from agentkit.loadtest import evaluate_thresholds, parse_threshold
from agentkit.testing import VirtualClock


@pytest.mark.parametrize(
    ("expression", "metric", "operator", "limit", "unit"),
    [
        ("p95<50ms", "p95", "<", 50.0, "ms"),
        ("p95 < 50", "p95", "<", 50.0, "ms"),
        ("p99.9<=0.2s", "p99.9", "<=", 200.0, "ms"),
        ("p50<750us", "p50", "<", 0.75, "ms"),
        ("avg<10ms", "mean", "<", 10.0, "ms"),
        ("max<1s", "max", "<", 1000.0, "ms"),
        ("raw_p99<5ms", "raw_p99", "<", 5.0, "ms"),
        ("error_rate<1%", "error_rate", "<", 1.0, "%"),
        ("error_rate<0.01", "error_rate", "<", 1.0, "%"),
        ("errors<=3", "errors", "<=", 3.0, ""),
        ("requests>=1000", "requests", ">=", 1000.0, ""),
        ("rps>100/s", "rps", ">", 100.0, "/s"),
        ("throughput>1e3", "rps", ">", 1000.0, "/s"),
    ],
)
def test_thresholds_parse(
    expression: str, metric: str, operator: str, limit: float, unit: str
) -> None:
    """Each supported form parses into its metric, operator, limit and unit."""
    threshold = parse_threshold(expression)
    assert (threshold.metric, threshold.operator, threshold.unit) == (metric, operator, unit)
    assert threshold.limit == pytest.approx(limit)
    assert threshold.expression == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "METRIC OPERATOR NUMBER"),
        ("p95", "METRIC OPERATOR NUMBER"),
        ("p95<", "METRIC OPERATOR NUMBER"),
        ("p95<<5", "METRIC OPERATOR NUMBER"),
        ("p95<50kg", "a latency takes ms, s or us"),
        ("p101<5ms", "at most 100"),
        ("latency<5ms", "unknown metric 'latency'"),
        ("error_rate<5ms", "an error rate takes"),
        ("errors<3ms", "is a count"),
        ("raw_errors<1", "only latencies have raw_ forms"),
        ("rps>5ms", "requests per second"),
        ("p95<" + "9" * 300, "at most 200 characters"),
    ],
)
def test_bad_thresholds_say_what_is_accepted(expression: str, message: str) -> None:
    """A malformed threshold is a ConfigurationError naming the problem."""
    with pytest.raises(ConfigurationError, match=message):
        parse_threshold(expression)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_a_configuration_error(text: str) -> None:
    """No text makes the parser raise anything but ConfigurationError."""
    with contextlib.suppress(ConfigurationError):
        parse_threshold(text)


@given(
    st.sampled_from(["p50", "p95", "p99.9", "max", "min", "mean"]),
    st.sampled_from(["<", "<=", ">", ">="]),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    st.sampled_from([("ms", 1.0), ("s", 1000.0), ("us", 0.001), ("", 1.0)]),
)
def test_generated_latency_thresholds_round_trip(
    metric: str, operator: str, number: object, unit: tuple[str, float]
) -> None:
    """Every latency metric, operator, number and unit parses back to the same meaning."""
    threshold = parse_threshold(f"{metric}{operator}{number}{unit[0]}")
    assert threshold.metric == metric
    assert threshold.operator == operator
    assert threshold.limit == pytest.approx(float(str(number)) * unit[1])


async def run_known(*, thresholds: list[str], fail_every: int = 0) -> object:
    """A closed run of 200 requests taking exactly 10 ms each on virtual time."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        number = calls
        await clock.sleep(0.01)
        if fail_every and number % fail_every == 0:
            raise ConnectionError("down")

    return await clock.run(
        LoadTester(clock).run_load_test(
            target,
            profile=LoadProfile.ENDURANCE,
            total_requests=200,
            concurrent_requests=4,
            thresholds=thresholds,
        )
    )


async def test_thresholds_judge_the_run() -> None:
    """Passing and failing thresholds carry the run's actual values and set passed."""
    result = await run_known(
        thresholds=["p95<20ms", "p95<5ms", "error_rate<1%", "requests>=200", "max<=10.1ms"]
    )
    judged = {t.expression: t for t in result.thresholds}  # type: ignore[attr-defined]
    assert judged["p95<20ms"].passed
    assert not judged["p95<5ms"].passed
    assert judged["p95<5ms"].actual == pytest.approx(10.0, rel=0.001)
    assert judged["error_rate<1%"].passed
    assert judged["requests>=200"].actual == 200
    assert judged["max<=10.1ms"].passed
    assert result.passed is False  # type: ignore[attr-defined]
    assert "p95 < 5 ms: 10" in judged["p95<5ms"].describe()
    assert "FAILED" in result.summary()  # type: ignore[attr-defined]


async def test_error_rate_threshold_fails_a_failing_run() -> None:
    """A run where every 4th call fails breaks error_rate<1% with actual 25 %."""
    result = await run_known(thresholds=["error_rate<1%"], fail_every=4)
    (judged,) = result.thresholds  # type: ignore[attr-defined]
    assert not judged.passed
    assert judged.actual == pytest.approx(25.0)


async def test_raw_threshold_on_a_closed_run_is_refused_before_it_starts() -> None:
    """raw_p99 on a closed-model profile is a ConfigurationError, and the target never runs."""
    called = False

    async def target() -> None:
        nonlocal called
        called = True

    with pytest.raises(ConfigurationError, match="open-model"):
        await LoadTester().run_load_test(target, total_requests=5, thresholds=["raw_p99<5ms"])
    assert not called


async def test_thresholds_on_a_saved_result() -> None:
    """evaluate_thresholds judges a result read back from JSON the same as the live one."""
    result = await run_known(thresholds=["p99<11ms"])
    from agentkit.loadtest import LoadTestResult

    again = LoadTestResult.from_json(result.to_json())  # type: ignore[attr-defined]
    assert evaluate_thresholds(again, ["p99<11ms"]) == result.thresholds  # type: ignore[attr-defined]


TARGETS = """
import time

def fast():
    return 1

def slow():
    time.sleep(0.02)

def broken():
    raise RuntimeError("down")
"""


@pytest.fixture
def targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module of load-test targets on sys.path."""
    (tmp_path / "th_targets.py").write_text(TARGETS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_exit_status_follows_the_thresholds(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed --threshold makes the exit status 99 and names it; a passed one exits 0."""
    base = ["loadtest", "th_targets:broken", "--requests", "20", "--no-progress"]
    assert main([*base, "--threshold", "error_rate<1%", "--threshold", "requests>=20"]) == 99
    captured = capsys.readouterr()
    assert "thresholds failed: error_rate<1%" in captured.err
    assert "error_rate < 1%: 100%, FAILED" in captured.out
    ok = ["loadtest", "th_targets:fast", "--requests", "20", "--no-progress"]
    assert main([*ok, "--threshold", "error_rate<1%"]) == 0
    assert "thresholds         all passed" in capsys.readouterr().out


def test_cli_bad_threshold_exits_2_before_running(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed --threshold is a usage error (2) and the target is never loaded."""
    argv = ["loadtest", "th_targets:slow", "--requests", "1000", "--threshold", "p95<5kg"]
    assert main(argv) == 2
    assert "a latency takes ms, s or us" in capsys.readouterr().err
