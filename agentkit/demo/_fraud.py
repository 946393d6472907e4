"""The parts of the fraud-detection demo: transactions, analyst agents, scorers, a flaky API.

Everything here is deterministic for a given seed, so the demo tells the same story on every
run. The batch-scoring functions are module-level so Ray workers import them by reference.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from agentkit.agents import Agent, Ballot
from agentkit.tools import ToolRegistry
from agentkit.voting import AgentVote

__all__ = [
    "ANALYST_WEIGHTS",
    "DECISIONS",
    "AnalystAgent",
    "FlakyRiskService",
    "HistoryAnalyst",
    "MemoAnalyst",
    "RiskScorer",
    "TimingAnalyst",
    "batch_risk_score",
    "fallback_risk_score",
    "make_transactions",
    "risk_report",
    "supervisor_decision",
]

APPROVE = "approve"
BLOCK = "block"
#: The options every ballot offers.
DECISIONS = (APPROVE, BLOCK)

#: Agent weights by seniority (WEIGHTED voting). The lead alone against both others is a tie.
ANALYST_WEIGHTS = {"analyst-lead": 2.0, "analyst-senior": 1.5, "analyst-junior": 0.5}

#: The built-in tools the analysts use.
ANALYST_TOOLS = (
    "math_statistics",
    "text_sentiment",
    "time_parse",
    "time_date_info",
    "data_aggregate",
)

_MERCHANTS = ("grocery", "fuel", "electronics", "travel", "restaurant", "pharmacy")
_CALM_MEMOS = (
    "weekly groceries",
    "coffee with a friend, thanks",
    "monthly fuel card",
    "pharmacy refill",
    "dinner, great evening",
    "train tickets for the holiday",
)
_START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # a Monday morning

#: Planted cases (by index) so each part of the story happens whatever the random draws:
#: an obvious fraud, and two cases where the lead analyst stands alone (a deadlock).
_PLANTED: dict[int, dict[str, Any]] = {
    3: {"factor": 25.0, "hour": 3, "memo": "urgent refund scam, wire the money now"},
    7: {"factor": 18.0, "hour": 14, "memo": "birthday gift for mom, lovely and happy"},
    14: {"factor": 1.0, "hour": 2, "memo": "angry complaint: stolen card, fraud, chargeback"},
}


def make_transactions(count: int = 20, *, seed: int = 7) -> list[dict[str, Any]]:
    """*count* synthetic card transactions with each account's recent history (seeded)."""
    draw = random.Random(seed)
    transactions: list[dict[str, Any]] = []
    for index in range(count):
        base = draw.choice((40.0, 85.0, 150.0, 320.0))
        history = [round(draw.gauss(base, base * 0.15), 2) for _ in range(8)]
        planted = _PLANTED.get(index, {})
        amount = round(base * planted.get("factor", draw.uniform(0.7, 1.3)), 2)
        day = _START + timedelta(days=index // 4)
        hour = planted.get("hour", draw.randint(8, 20))
        when = day.replace(hour=hour, minute=draw.randint(0, 59))
        transactions.append(
            {
                "id": f"T-{10_000 + index}",
                "account": f"A-{draw.randint(100, 104)}",
                "merchant": draw.choice(_MERCHANTS),
                "amount": amount,
                "memo": planted.get("memo", draw.choice(_CALM_MEMOS)),
                "timestamp": when.isoformat(),
                "history": history,
            }
        )
    return transactions


class AnalystAgent(Agent):
    """A fraud analyst on the bus: assesses the ballot's transaction with built-in tools."""

    def __init__(self, agent_id: str, tools: ToolRegistry) -> None:
        super().__init__(agent_id)
        self.tools = tools

    async def tool(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run a tool; a failed call is an error here (the demo's inputs are valid)."""
        result = await self.tools.execute_tool(name, params)
        if not result.success:
            raise RuntimeError(f"{name} failed: {result.error}")
        output: dict[str, Any] = result.output
        return output

    async def assess(self, transaction: dict[str, Any]) -> tuple[str, float, str]:
        """Return (option, confidence, reasoning) for *transaction*."""
        raise NotImplementedError

    async def vote(self, ballot: Ballot) -> AgentVote | None:
        """Vote on the transaction in ``ballot.context``."""
        option, confidence, reasoning = await self.assess(ballot.context["transaction"])
        return AgentVote(self.agent_id, option, confidence, reasoning)


class HistoryAnalyst(AnalystAgent):
    """Compares the amount with the account's history (``math_statistics``)."""

    async def assess(self, transaction: dict[str, Any]) -> tuple[str, float, str]:
        stats = await self.tool("math_statistics", {"values": transaction["history"]})
        spread = max(stats["stdev"], 1.0)
        z_score = (transaction["amount"] - stats["mean"]) / spread
        reasoning = f"amount is {z_score:+.1f} sd from the account mean {stats['mean']:.0f}"
        if z_score > 4:
            return BLOCK, 1.0, reasoning
        return APPROVE, 1.0, reasoning


class TimingAnalyst(AnalystAgent):
    """Looks at when the payment happened (``time_parse``, ``time_date_info``)."""

    async def assess(self, transaction: dict[str, Any]) -> tuple[str, float, str]:
        parsed = await self.tool("time_parse", {"text": transaction["timestamp"]})
        info = await self.tool("time_date_info", {"date_text": parsed["date"]})
        hour = int(parsed["time"][:2])
        reasoning = f"{info['weekday']} {parsed['time'][:5]} UTC"
        if hour < 6:
            return BLOCK, 1.0, reasoning + " (night)"
        return APPROVE, 1.0, reasoning


class MemoAnalyst(AnalystAgent):
    """Reads the payment memo (``text_sentiment``)."""

    async def assess(self, transaction: dict[str, Any]) -> tuple[str, float, str]:
        sentiment = await self.tool("text_sentiment", {"text": transaction["memo"]})
        reasoning = f"memo sentiment {sentiment['label']} ({sentiment['score']:+.2f})"
        if sentiment["score"] < -0.3:
            return BLOCK, 1.0, reasoning
        return APPROVE, 1.0, reasoning


def supervisor_decision(option_totals: dict[str, float]) -> str:
    """The supervisor's rule for a deadlock: when in doubt, block and investigate."""
    return BLOCK if option_totals.get(BLOCK, 0.0) > 0 else APPROVE


class FlakyRiskService:
    """An external risk API that fails a known fraction of calls (seeded)."""

    def __init__(self, failure_rate: float = 0.5, *, seed: int = 11) -> None:
        self.failure_rate = failure_rate
        self.calls = 0
        self.failures = 0
        self._draw = random.Random(seed)

    async def score(self, transaction: dict[str, Any]) -> float:
        """The API's risk score for *transaction*, or ``ConnectionError`` (a 503)."""
        self.calls += 1
        if self._draw.random() < self.failure_rate:
            self.failures += 1
            raise ConnectionError("risk API answered 503 Service Unavailable")
        risk: float = batch_risk_score(transaction)["risk"]
        return risk


def fallback_risk_score(transaction: dict[str, Any]) -> float:
    """A conservative local rule used while the risk API is unavailable."""
    return 0.9 if transaction["amount"] > 1_000 else 0.3


class RiskScorer:
    """An in-process scoring service that can be killed (its health check then fails)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.alive = True
        self.served = 0

    def kill(self) -> None:
        """Simulate the process dying: calls and health checks fail from now on."""
        self.alive = False

    async def health_check(self) -> bool:
        """The monitor's probe."""
        return self.alive

    async def score(self, transaction: dict[str, Any]) -> dict[str, Any]:
        """Score *transaction*, or raise ``ConnectionError`` when killed."""
        if not self.alive:
            raise ConnectionError(f"{self.name} is not responding")
        self.served += 1
        return {**batch_risk_score(transaction), "scorer": self.name}


def batch_risk_score(transaction: dict[str, Any]) -> dict[str, Any]:
    """A pure risk model: amount against the account's history, and the hour of day."""
    history = transaction["history"]
    mean = sum(history) / len(history)
    ratio = transaction["amount"] / max(mean, 1.0)
    hour = int(transaction["timestamp"][11:13])
    risk = min(1.0, 0.1 + 0.05 * max(ratio - 1.0, 0.0) + (0.3 if hour < 6 else 0.0))
    return {"id": transaction["id"], "risk": round(risk, 2)}


def risk_report(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """Summarise batch scores: how many are high risk, and which."""
    high = [score["id"] for score in scores if score["risk"] >= 0.5]
    return {"scored": len(scores), "high_risk": high, "max_risk": max(s["risk"] for s in scores)}
