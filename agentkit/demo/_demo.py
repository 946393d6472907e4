"""``agentkit demo``: the fraud-detection scenario, every feature working together.

Analyst agents on a bus assess a stream of transactions with built-in tools and vote (weighted
by seniority, deadlocks escalated to a supervisor); a flaky risk API sits behind a circuit
breaker with a fallback; a primary scorer is killed and the health monitor fails over to the
backup; the transactions are batch-scored on an executor; a load test closes the run.

The analysts' tools come through the plugins, as in any application: the ``tools`` plugin
(agentkit-tools) adds the built-ins; without it the demo's own stand-ins take their place.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any, TextIO

from agentkit import observability
from agentkit._clock import SystemClock
from agentkit.agents import AgentSwarm
from agentkit.bus import PubSubMessage, connect
from agentkit.demo._fraud import (
    ANALYST_TOOLS,
    ANALYST_WEIGHTS,
    DECISIONS,
    FlakyRiskService,
    HistoryAnalyst,
    MemoAnalyst,
    RiskScorer,
    TimingAnalyst,
    batch_risk_score,
    fallback_risk_score,
    make_transactions,
    risk_report,
    supervisor_decision,
)
from agentkit.demo._standins import BUILTIN_TOOL_COUNT, standin_tools
from agentkit.exceptions import ConfigurationError, MissingExtraError
from agentkit.execution import DistributedEngine, ExecutionMode
from agentkit.loadtest import LoadProfile, LoadTester
from agentkit.plugins import PluginManager, PluginStatus
from agentkit.protocols import Bus
from agentkit.reliability import (
    CircuitBreaker,
    CircuitState,
    FailoverEvent,
    FailoverManager,
    HealthMonitor,
)
from agentkit.tools import ToolRegistry
from agentkit.voting import Conflict, ConflictResolver, ResolutionStatus, VoteType

__all__ = ["run", "run_demo"]

SWARM = "fraud-detection"
PRIMARY, BACKUP = "scorer-primary", "scorer-backup"
SCORE_SUBJECT = "fraud.score"
EXECUTORS = ("local", "ray")
#: The plugin that adds the built-in tools, and the distribution it ships in.
TOOLS_PLUGIN, TOOLS_DISTRIBUTION = "tools", "agentkit-tools"
#: The install line for the built-in tools, printed when the demo runs on its stand-ins.
TOOLS_INSTALL_LINE = "pip install 'agentkit-kernel[tools]'"


class _Report:
    """Prints the demo's report and keeps the figures for the summary."""

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.summary: list[tuple[str, str]] = []

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    def section(self, number: int, title: str) -> None:
        self.say(f"\n{number}. {title}")
        self.say("-" * (len(title) + 3))

    def result(self, label: str, text: str) -> None:
        self.summary.append((label, text))


async def run_demo(
    url: str | None = None,
    *,
    out: TextIO | None = None,
    executor: str = "local",
    trace: bool = False,
) -> int:
    """Run the fraud-detection demo on the bus at *url* (default memory://); return an exit code.

    *executor* is ``"local"`` or ``"ray"`` (used for the batch-scoring step). The report goes
    to *out* (default stdout). Without ray installed, ``executor="ray"`` prints the
    ``pip install`` line and returns 1. The analysts' tools come from the ``tools`` plugin
    (agentkit-tools); without it they are the demo's stand-ins, and the report says which.
    With *trace*, the consensus step is traced with the OpenTelemetry SDK and the trace of one
    round (one that went to the supervisor, if any did) is printed as a tree; without the SDK
    installed that prints the ``pip install`` line and returns 1.

    Raises:
        ConfigurationError: an unknown *executor*.
    """
    if executor not in EXECUTORS:
        raise ConfigurationError(f"unknown executor {executor!r}; use one of {EXECUTORS}")
    report = _Report(out)
    tracing: _Tracing | None = None
    if trace:
        try:
            tracing = _Tracing()
        except ImportError:
            report.say(
                "agentkit demo: --trace needs the OpenTelemetry SDK: pip install opentelemetry-sdk"
            )
            return 1
    try:
        options: dict[str, Any] = {"num_cpus": 2} if executor == "ray" else {}
        engine = DistributedEngine(mode=ExecutionMode(executor), **options)
    except MissingExtraError as exc:
        report.say(f"agentkit demo: --executor {executor} needs Ray: {exc.install_line}")
        return 1
    clock = SystemClock()
    started = clock.monotonic()
    with _quiet_library_logs():
        tools, tools_line = _analyst_tools()
        bus = await connect(url or "memory://", retry_delay=0.01)
        report.say(
            f"agentkit demo: fraud detection on {type(bus).__name__} ({url or 'memory://'}),"
            f" {executor} executor"
        )
        report.say(tools_line)
        transactions = make_transactions(20, seed=7)
        monitor = HealthMonitor(
            check_interval_seconds=0.05, unhealthy_threshold=2, check_timeout_seconds=0.05
        )
        try:
            if tracing is None:
                await _consensus(report, bus, tools, transactions)
            else:
                with tracing:
                    await _consensus(report, bus, tools, transactions)
                tracing.print_round(report)
            await _circuit_breaker(report, clock, transactions)
            failover, scorers = await _failover(report, clock, monitor, transactions)
            await _batch(report, engine, executor, transactions)
            await _load_test(report, bus, failover, scorers, transactions)
        finally:
            await monitor.stop_monitoring()
            await engine.shutdown()
            await bus.close()
    report.say(f"\nSummary (the whole run took {clock.monotonic() - started:.1f} s)")
    width = max(len(label) for label, _ in report.summary)
    for label, text in report.summary:
        report.say(f"  {label:<{width}}  {text}")
    report.say(
        "\nEmbed it: `await agentkit.demo.run_demo('nats://127.0.0.1:4222')`; see README.md."
    )
    return 0


class _Tracing:
    """The OpenTelemetry SDK recording agentkit's spans in memory while the block runs."""

    def __init__(self) -> None:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def __enter__(self) -> None:
        observability.instrument(tracer_provider=self.provider)

    def __exit__(self, *exc_info: object) -> None:
        observability.uninstrument()

    def print_round(self, report: _Report) -> None:
        """Print the trace of one consensus round: one that escalated if any did."""
        rounds = [
            spans
            for spans in observability.traces(self.exporter.get_finished_spans()).values()
            if any(span.parent is None and span.name.startswith("consensus") for span in spans)
        ]
        self.provider.shutdown()
        if not rounds:
            report.say("\n   (no consensus round was traced)")
            return

        def escalated(spans: list[Any]) -> bool:
            return any(
                (span.attributes or {}).get("agentkit.consensus.escalated") for span in spans
            )

        chosen = next((spans for spans in rounds if escalated(spans)), rounds[0])
        trace_id = f"{chosen[0].context.trace_id:032x}"
        report.say(
            f"\n   The trace of one consensus round ({len(chosen)} spans, trace id {trace_id};"
            f" {len(rounds)} rounds traced):"
        )
        for line in observability.render_trace(chosen).splitlines():
            report.say(f"   {line}")


#: What ``agentkit demo`` calls (the CLI imports this module by name).
run = run_demo


@contextlib.contextmanager
def _quiet_library_logs() -> Iterator[None]:
    """Keep the failures the demo causes on purpose out of stderr when logging is unconfigured.

    With no handler anywhere, Python prints warnings through its last-resort handler; a
    NullHandler on ``agentkit`` for the run's duration stops that. A program that configured
    logging keeps seeing every record.
    """
    library = logging.getLogger("agentkit")
    if library.hasHandlers():
        yield
        return
    silencer = logging.NullHandler()
    library.addHandler(silencer)
    try:
        yield
    finally:
        library.removeHandler(silencer)


def _analyst_tools() -> tuple[ToolRegistry, str]:
    """The analysts' tools, taken through the plugins, and the report line on where from.

    A :class:`PluginManager` hands the fresh registry to every active plugin, so the ``tools``
    plugin adds the built-ins when agentkit-tools is installed and not disabled.
    """
    registry = ToolRegistry()
    return registry, _provide_analyst_tools(registry, PluginManager(registry=registry))


def _provide_analyst_tools(registry: ToolRegistry, plugins: PluginManager) -> str:
    """Add a stand-in for each analyst tool missing from *registry*; say where each comes from.

    *plugins* is the manager that filled *registry*; the returned line names the plugin that
    added each tool, or the demo's stand-ins with the install line of the built-ins.
    """
    added_by = {tool: info.name for info in plugins.plugins() for tool in info.tools}
    missing = [name for name in ANALYST_TOOLS if name not in registry]
    for tool in standin_tools(missing):
        registry.register_tool(tool)
    stand_ins = (
        f"the analysts use the demo's stand-ins ({TOOLS_INSTALL_LINE} adds the"
        f" {BUILTIN_TOOL_COUNT} built-ins)"
    )
    if len(missing) == len(ANALYST_TOOLS):
        return f"built-in tools: {_why_no_builtins(plugins)}; {stand_ins}"
    tools_plugin = plugins.plugin_info(TOOLS_PLUGIN)
    version = tools_plugin.version if tools_plugin is not None else "unknown"
    origins: dict[str, list[str]] = {}
    for name in ANALYST_TOOLS:
        plugin = added_by.get(name)
        if plugin is None:
            origin = "the demo's stand-ins" if name in missing else "the registry"
        elif plugin == TOOLS_PLUGIN:
            origin = f"the tools plugin ({TOOLS_DISTRIBUTION} {version})"
        else:
            origin = f"the {plugin} plugin"
        origins.setdefault(origin, []).append(name)
    parts = [f"{', '.join(names)} from {origin}" for origin, names in origins.items()]
    line = "built-in tools: " + "; ".join(parts)
    if missing:
        line += f" ({TOOLS_INSTALL_LINE} adds the {BUILTIN_TOOL_COUNT} built-ins)"
    return line


def _why_no_builtins(plugins: PluginManager) -> str:
    """Why the ``tools`` plugin added no tool: not installed, disabled, or failed."""
    info = plugins.plugin_info(TOOLS_PLUGIN)
    if info is None or info.status is PluginStatus.UNAVAILABLE:
        return "not installed"
    if info.status is PluginStatus.ERROR:
        return f"the tools plugin failed ({info.error})"
    if info.status is PluginStatus.INACTIVE and info.error:
        return f"the tools plugin is {info.error}"
    return f"the tools plugin is {info.status.value} and added none of them"


async def _consensus(
    report: _Report, bus: Bus, tools: ToolRegistry, transactions: list[dict[str, Any]]
) -> None:
    report.section(1, "Analyst agents vote on each transaction (weighted by seniority)")
    weights = ", ".join(f"{agent} x{weight:g}" for agent, weight in ANALYST_WEIGHTS.items())
    report.say(f"   weights: {weights}; a deadlock goes to the supervisor")
    analysts = [
        HistoryAnalyst("analyst-lead", tools),
        TimingAnalyst("analyst-senior", tools),
        MemoAnalyst("analyst-junior", tools),
    ]

    def supervisor(conflict: Conflict) -> str:
        return supervisor_decision(conflict.count.tallies)

    resolver = ConflictResolver(
        default_vote_type=VoteType.WEIGHTED, supervisor=supervisor, agent_weights=ANALYST_WEIGHTS
    )
    decisions: list[dict[str, Any]] = []
    escalations: list[str] = []
    async with AgentSwarm(SWARM, bus, analysts, resolver=resolver) as swarm:
        for transaction in transactions:
            resolution = await swarm.request_consensus(
                "fraud-desk",
                f"Approve or block {transaction['id']}?",
                {"transaction": transaction},
                required_votes=len(analysts),
                options=DECISIONS,
                vote_type=VoteType.WEIGHTED,
                timeout=5.0,
            )
            if resolution.status is not ResolutionStatus.RESOLVED:
                raise RuntimeError(f"no decision on {transaction['id']}: {resolution.reason}")
            decision = str(resolution.winning_option)
            votes = " ".join(
                f"{vote.agent_id.removeprefix('analyst-')}:{vote.option}"
                for vote in resolution.votes
            )
            how = "supervisor" if resolution.escalated else f"{resolution.consensus_score:.0%}"
            amount, merchant = transaction["amount"], transaction["merchant"]
            report.say(
                f"   {transaction['id']} {amount:>9.2f} {merchant:<11}"
                f" {votes:<45} -> {decision.upper()} ({how})"
            )
            if resolution.escalated:
                tallies = " vs ".join(
                    f"{option} {total:.2f}" for option, total in sorted(resolution.tallies.items())
                )
                escalations.append(transaction["id"])
                report.say(
                    f"      deadlock on {transaction['id']}: {tallies}; escalated to supervisor,"
                    f" who decided {decision}"
                )
                for vote in resolution.votes:
                    report.say(f"        {vote.agent_id}: {vote.option} - {vote.reasoning}")
            decisions.append({**transaction, "decision": decision})
    summary = await tools.execute_tool(
        "data_aggregate",
        {
            "rows": decisions,
            "group_by": ["decision"],
            "aggregations": [
                {"function": "count"},
                {"function": "sum", "field": "amount"},
            ],
        },
    )
    for group in summary.output["groups"]:
        report.say(
            f"   consensus decision: {group['decision']} {group['count']} transactions,"
            f" {group['sum_amount']:.2f} in total (data_aggregate)"
        )
    blocked = sum(1 for row in decisions if row["decision"] == "block")
    report.result(
        "consensus",
        f"{len(decisions)} transactions decided, {blocked} blocked,"
        f" {len(escalations)} deadlocks escalated ({', '.join(escalations) or 'none'})",
    )


async def _circuit_breaker(
    report: _Report, clock: SystemClock, transactions: list[dict[str, Any]]
) -> None:
    report.section(2, "A flaky external risk API behind a circuit breaker")
    service = FlakyRiskService(failure_rate=0.5, seed=11)
    started = clock.monotonic()
    transitions: list[str] = []

    def on_change(_breaker: CircuitBreaker, old: CircuitState, new: CircuitState) -> None:
        at = clock.monotonic() - started
        transitions.append(f"{old.value} -> {new.value}")
        report.say(f"   [{at:5.2f} s] circuit 'risk-api' {old.value} -> {new.value}")

    breaker = CircuitBreaker(
        "risk-api", failure_threshold=3, timeout_seconds=0.1, listeners=[on_change], clock=clock
    )
    report.say(
        f"   the API fails {service.failure_rate:.0%} of calls (seeded); the breaker opens after"
        " 3 failures in a row and probes again after 0.1 s"
    )
    for transaction in transactions + transactions:
        fallback = functools.partial(fallback_risk_score, transaction)
        await breaker.call(service.score, transaction, fallback=fallback)
        await clock.sleep(0.01)
    stats = breaker.stats
    served_by_fallback = stats.fallbacks
    calls = 2 * len(transactions)
    report.say(
        f"   {calls} scores requested: {service.calls} reached the API ({service.failures}"
        f" failed), {stats.rejections} rejected while open;"
        f" fallback served {served_by_fallback} scores"
    )
    opened = stats.times_opened
    report.result(
        "circuit breaker",
        f"opened {opened} times, fallback served {served_by_fallback} of {calls} scores",
    )


async def _failover(
    report: _Report,
    clock: SystemClock,
    monitor: HealthMonitor,
    transactions: list[dict[str, Any]],
) -> tuple[FailoverManager, dict[str, RiskScorer]]:
    report.section(3, "Health monitor and failover: the primary scorer is killed mid-run")
    scorers = {PRIMARY: RiskScorer(PRIMARY), BACKUP: RiskScorer(BACKUP)}
    for name, scorer in scorers.items():
        monitor.register_component(name, "scorer", scorer.health_check)
    failover = FailoverManager(monitor)
    failover.register_backup(PRIMARY, BACKUP)
    switched: list[FailoverEvent] = []
    failover.add_listener(switched.append)
    await monitor.start_monitoring()
    report.say(
        f"   probes every {monitor.check_interval_seconds:g} s; {monitor.unhealthy_threshold}"
        " failed probes make a scorer unhealthy"
    )

    async def score(component: str, transaction: dict[str, Any]) -> dict[str, Any]:
        return await scorers[component].score(transaction)

    half = len(transactions) // 2
    served: list[str] = []
    for index, transaction in enumerate(transactions):
        if index == half:
            killed_at = clock.monotonic()
            scorers[PRIMARY].kill()
            report.say(f"   {PRIMARY} killed after {half} transactions; waiting for the monitor")
            while not switched:
                if clock.monotonic() - killed_at > 5.0:
                    raise RuntimeError("the health monitor did not fail over within 5 s")
                await clock.sleep(0.01)
            event = switched[0]
            seconds = event.failover_seconds or 0.0
            report.say(
                f"   failover {event.from_component} -> {event.to_component}"
                f" ({event.reason}); failover time {seconds * 1000:.0f} ms from the first"
                f" failed probe, {(event.switched_at - killed_at) * 1000:.0f} ms after the kill"
            )
            report.result(
                "failover",
                f"{event.from_component} -> {event.to_component} in {seconds * 1000:.0f} ms",
            )
        result = await failover.call(PRIMARY, score, transaction)
        served.append(result["scorer"])
    for name in scorers:
        report.say(f"   {name} scored {served.count(name)} transactions")
    active = await failover.get_active_component(PRIMARY)
    report.say(f"   active scorer now: {active} (status {monitor.status(PRIMARY).value} primary)")
    return failover, scorers


async def _batch(
    report: _Report, engine: DistributedEngine, executor: str, transactions: list[dict[str, Any]]
) -> None:
    report.section(4, f"Batch scoring on the {executor} executor (DistributedEngine)")
    engine.register_task("risk_report", risk_report)
    engine.initialize()
    scores = await engine.parallel_map(batch_risk_score, transactions)
    task_id = await engine.submit_task("risk_report", scores, max_attempts=2)
    summary = await engine.wait_for_task(task_id, timeout_seconds=60)
    report.say(f"   parallel_map: batch scored {len(scores)} transactions")
    report.say(
        f"   submit_task risk_report -> {summary['scored']} scored, high risk:"
        f" {', '.join(summary['high_risk']) or 'none'} (max risk {summary['max_risk']:.2f})"
    )
    report.say(f"   cluster resources: {engine.get_cluster_stats()['resources']}")
    report.result(
        "batch scoring",
        f"{len(scores)} transactions on {executor}, {len(summary['high_risk'])} high risk",
    )


async def _load_test(
    report: _Report,
    bus: Bus,
    failover: FailoverManager,
    scorers: dict[str, RiskScorer],
    transactions: list[dict[str, Any]],
) -> None:
    report.section(5, "Load test of the scoring path (bus request -> failover -> scorer)")

    async def score_request(message: PubSubMessage) -> dict[str, Any]:
        result: dict[str, Any] = await failover.call(
            PRIMARY, lambda component, txn: scorers[component].score(txn), message.payload
        )
        return result

    subscription = await bus.subscribe(
        SCORE_SUBJECT, score_request, queue="scorers", max_concurrency=16
    )
    sent = 0

    async def target() -> None:
        nonlocal sent
        transaction = transactions[sent % len(transactions)]
        sent += 1
        await bus.request(SCORE_SUBJECT, transaction, timeout=5.0)

    try:
        result = await LoadTester().run_load_test(
            target,
            profile=LoadProfile.RAMP_UP,
            total_requests=1000,
            concurrent_requests=50,
            ramp_up_seconds=0.2,
            progress=False,
        )
    finally:
        await subscription.unsubscribe()
    report.say(f"   {result.total} requests, 50 concurrent (ramp-up 0.2 s)")
    report.say(f"   Throughput: {result.requests_per_second:,.1f} req/s")
    report.say(f"   Latency p50: {result.latency_p50:.2f}ms")
    report.say(f"   Latency p95: {result.latency_p95:.2f}ms")
    report.say(f"   Error rate: {result.error_rate:.1%}")
    report.result(
        "load test",
        f"{result.requests_per_second:,.0f} req/s, p95 {result.latency_p95:.2f} ms,"
        f" error rate {result.error_rate:.1%}",
    )
