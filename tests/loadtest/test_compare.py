"""Comparing two runs: the known shift at p50 and p99 on virtual time, files, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit import ConfigurationError, LoadProfile, LoadTester
from agentkit.cli import main
from agentkit.loadtest import LoadTestResult
from agentkit.loadtest._compare import MAX_RESULT_BYTES, compare_results, load_result
from agentkit.testing import VirtualClock


async def known_run(fast_ms: float, slow_ms: float, *, open_model: bool = False) -> LoadTestResult:
    """2,000 requests on virtual time: 98 % take *fast_ms*, every 50th takes *slow_ms*."""
    clock = VirtualClock()
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1
        await clock.sleep((slow_ms if calls % 50 == 0 else fast_ms) / 1000)

    if open_model:
        run = LoadTester(clock).run_load_test(
            target,
            profile=LoadProfile.CONSTANT_RATE,
            rate=200,
            total_requests=2000,
            concurrent_requests=100,
        )
    else:
        run = LoadTester(clock).run_load_test(
            target, profile=LoadProfile.ENDURANCE, total_requests=2000, concurrent_requests=10
        )
    return await clock.run(run)


async def test_a_known_shift_shows_at_p50_and_p99() -> None:
    """10 ms / 100 ms calls against 12 ms / 130 ms: p50 moves +2 ms, p99 +30 ms, both beyond
    the histograms' precision; the figures come from the histograms to 0.1 %."""
    base = await known_run(10, 100)
    new = await known_run(12, 130)
    comparison = compare_results(base, new)
    p50, p99 = comparison.shift(50), comparison.shift(99)
    assert p50.base_ms == pytest.approx(10.0, rel=0.001)
    assert p50.change_ms == pytest.approx(2.0, abs=p50.precision_ms)
    assert p99.change_ms == pytest.approx(30.0, abs=p99.precision_ms)
    assert p99.change_ratio == pytest.approx(0.30, rel=0.01)
    assert p50.significant
    assert p99.significant
    assert 0 < p50.precision_ms <= 0.001 * (10 + 12) * 1.01
    text = comparison.describe()
    assert "p50" in text
    assert "+2.0" in text
    assert "(+30.0%)" in text


async def test_the_same_run_twice_shows_no_change() -> None:
    """Comparing a run with itself gives zero change at every percentile, none significant."""
    base = await known_run(10, 100)
    comparison = compare_results(base, base)
    assert all(shift.change_ms == 0 for shift in comparison.shifts)
    assert not any(shift.significant for shift in comparison.shifts)
    assert "no change" in comparison.describe()


async def test_open_model_runs_compare_raw_latencies_too() -> None:
    """Two open-model runs are compared on corrected and on raw latencies."""
    comparison = compare_results(
        await known_run(10, 100, open_model=True), await known_run(12, 130, open_model=True)
    )
    assert comparison.raw_shifts is not None
    assert comparison.shift(50, raw=True).change_ms == pytest.approx(
        2.0, abs=comparison.shift(50, raw=True).precision_ms
    )
    assert "latency (raw)" in comparison.describe()


async def test_a_run_without_latencies_cannot_be_compared() -> None:
    """A run where nothing succeeded is refused with a ConfigurationError naming it."""

    async def broken() -> None:
        raise RuntimeError("down")

    empty = await LoadTester().run_load_test(broken, total_requests=3)
    good = await known_run(10, 100)
    with pytest.raises(ConfigurationError, match="new run has no latencies"):
        compare_results(good, empty)
    with pytest.raises(ConfigurationError, match=r"0\.\.100"):
        compare_results(good, good, percentiles=[150])


def test_bad_result_files_are_refused(tmp_path: Path) -> None:
    """A missing, oversized or foreign file is a ConfigurationError naming the file."""
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_result(tmp_path / "missing.json")
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": "world"}')
    with pytest.raises(ConfigurationError, match=r"foreign\.json.*not a load-test result"):
        load_result(foreign)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(MAX_RESULT_BYTES + 1)
    with pytest.raises(ConfigurationError, match="larger than"):
        load_result(huge)


async def test_compare_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``agentkit loadtest compare base.json new.json`` prints the shifts; --json prints them
    as JSON; a missing file exits 1 and a wrong number of files exits 2."""
    base_file, new_file = tmp_path / "base.json", tmp_path / "new.json"
    base_file.write_text((await known_run(10, 100)).to_json())
    new_file.write_text((await known_run(12, 130)).to_json())
    assert main(["loadtest", "compare", str(base_file), str(new_file)]) == 0
    out = capsys.readouterr().out
    assert "p99" in out
    assert "+30.016 ms (+30.0%) ±0.126 ms" in out
    assert main(["loadtest", "compare", str(base_file), str(new_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    p50 = next(item for item in data["shifts"] if item["percentile"] == 50)
    assert p50["change_ms"] == pytest.approx(2.0, abs=p50["precision_ms"])
    assert main(["loadtest", "compare", str(base_file), str(tmp_path / "nope.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["loadtest", "compare", str(base_file)]) == 2
    assert "two result files" in capsys.readouterr().err
    assert main(["loadtest", "mod:fn", "extra.json"]) == 2
    assert "unexpected arguments" in capsys.readouterr().err


async def test_compare_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--html`` writes one page with the shift table, both runs' percentile distributions
    and time series overlaid, fetching nothing, with the labels escaped."""
    base_file, new_file = tmp_path / "<base>.json", tmp_path / "new.json"
    base_file.write_text((await known_run(10, 100, open_model=True)).to_json())
    new_file.write_text((await known_run(12, 130, open_model=True)).to_json())
    page = tmp_path / "diff.html"
    argv = ["loadtest", "compare", str(base_file), str(new_file), "--html", str(page)]
    assert main(argv) == 0
    assert f"HTML comparison written to {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert "<base>.json" not in text
    assert "&lt;base&gt;.json" in text
    assert text.count("<svg") >= 4  # corrected, raw, p99 over time, throughput over time
    assert "Latency by percentile, both runs (raw)" in text
    assert "slower" in text
    assert "http://" not in text
    assert "https://" not in text
