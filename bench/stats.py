"""Medians, spreads and verdicts over interleaved rounds.

A ratio is computed inside each round (both sides measured minutes apart at
most seconds apart), then summarized over the rounds: its median, and its
spread, the interquartile range over the median. A spread over 15 % makes
the verdict NOISY whatever the median says: the run proves nothing then.
"""

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

NOISY_SPREAD = 0.15


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0]
        return value, value, value
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def spread(values: Sequence[float]) -> float:
    q1, median, q3 = quartiles(values)
    return (q3 - q1) / median if median else 0.0


@dataclass(frozen=True)
class Summary:
    median: float
    spread: float
    rounds: int
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        return cls(
            median=statistics.median(values),
            spread=spread(values),
            rounds=len(values),
            low=min(values),
            high=max(values),
        )


@dataclass(frozen=True)
class Verdict:
    name: str
    database: str
    mode: str
    value: float | None
    spread: float | None
    target: str
    status: str  # PASS, FAIL, NOISY or "not run"
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def verdict(
    name: str,
    database: str,
    mode: str,
    values: Sequence[float] | None,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    note: str = "",
) -> Verdict:
    target = f"<= {at_most:g}" if at_most is not None else f">= {at_least:g}"
    if not values:
        return Verdict(name, database, mode, None, None, target, "not run", note)
    summary = Summary.of(values)
    met = summary.median <= at_most if at_most is not None else summary.median >= at_least  # type: ignore[operator]
    status = "NOISY" if summary.spread > NOISY_SPREAD else ("PASS" if met else "FAIL")
    return Verdict(name, database, mode, summary.median, summary.spread, target, status, note)
