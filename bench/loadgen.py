"""Fallback load generator for bench/api.py when `wrk` is not installed.

A closed loop of `concurrency` asyncio tasks on one httpx client, each sending its next
request as soon as the previous answer arrives. Its own overhead is far higher than wrk's
(one Python process), so absolute numbers are lower and ratios are compressed: the report
says which generator was used.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

CHANNELS = ["web_form", "web_form", "web_form", "phone", "email", "event", "referral", "other"]


def enquiry_body_factory(received_on: str) -> Callable[[int], bytes]:
    """Bodies like bench/wrk/post_enquiry.lua's."""

    def make(n: int) -> bytes:
        return json.dumps(
            {
                "received_on": received_on,
                "channel": random.choice(CHANNELS),
                "enquirer_name": f"Bench Enquirer {n}",
                "email": f"bench.py.{n}@example.org",
                "phone": f"07700 9{n % 100000:05d}",
                "postcode_district": random.choice(["ST1", "ST4", "ST6"]),
                "household_type": random.choice(["single", "couple"]),
                "ethnicity": "not_stated",
                "interests": ["mainstream_long_term", "short_breaks"],
                "campaign": "bench-campaign",
                "note": "Logged by the API benchmark",
            }
        ).encode()

    return make


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _run(
    url: str,
    method: str,
    headers: dict[str, str],
    body: Callable[[int], bytes] | None,
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = Counter({"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0})
    sample = ""
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal counter, sample
            while time.perf_counter() < deadline:
                counter += 1
                content = body(counter) if body else None
                started = time.perf_counter()
                try:
                    response = await client.request(method, url, content=content)
                except httpx.TimeoutException:
                    errors["timeout"] += 1
                    continue
                except httpx.ConnectError:
                    errors["connect"] += 1
                    continue
                except httpx.HTTPError:
                    errors["read"] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1e6)
                statuses[str(response.status_code)] += 1
                if not 200 <= response.status_code < 400:
                    errors["status"] += 1
                    if not sample:
                        sample = response.text[:400]

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "bytes": 0,
        "errors": dict(errors),
        "latency_us": {
            "min": latencies[0] if latencies else 0,
            "mean": sum(latencies) / len(latencies) if latencies else 0,
            "max": latencies[-1] if latencies else 0,
            "p50": _percentile(latencies, 50),
            "p90": _percentile(latencies, 90),
            "p99": _percentile(latencies, 99),
            "p999": _percentile(latencies, 99.9),
        },
        "statuses": dict(statuses),
        "bad_sample": sample,
    }


def run(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: Callable[[int], bytes] | None = None,
    concurrency: int = 1,
    duration: float = 5.0,
) -> dict[str, Any]:
    """One closed-loop measurement; the same summary shape as bench/wrk/report.lua's."""
    return asyncio.run(_run(url, method, headers or {}, body, concurrency, duration))
