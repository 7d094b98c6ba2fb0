"""The capacity and cost model behind docs/capacity.md and the sweep rows of docs/deploy.md.

Every number is a named constant with its source: an AWS quota or list price (us-east-1,
on-demand, checked December 2026), this stack's own settings (infra/constants.py), or a
figure measured here (docs/benchmarks.md). `tables()` renders the Markdown tables the
docs hold; tests/infrastructure/test_capacity.py recomputes them and compares, so a
changed constant cannot leave the docs behind. Plain Python, no aws_cdk.

    .venv/bin/python -m infra.capacity     # print the tables
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.constants import FN_MESSAGE, FN_SWEEP, SWEEP_INTERVAL_MINUTES, StageConfig, stage_config

# --- AWS quotas (defaults per account and Region; all adjustable) ---------------------------
QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
LAMBDA_QUOTAS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
# "New connections per second per account (across all WebSocket APIs) per Region".
APIGW_NEW_CONNECTIONS_PER_S = 500
# "Throttle quota per account, per Region across HTTP APIs, REST APIs, WebSocket APIs,
# and WebSocket callback APIs": inbound frames and @connections posts share it.
APIGW_ACCOUNT_REQUESTS_PER_S = 10_000
LAMBDA_CONCURRENCY = 1_000

# --- list prices, us-east-1 -------------------------------------------------------------------
HOURS_PER_MONTH = 730
LAMBDA_ARM_GB_SECOND_USD = 0.0000133334
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
WS_MESSAGE_USD = 1.00 / 1_000_000  # per message up to 32 KB, first billion a month
WS_CONNECTION_MINUTE_USD = 0.25 / 1_000_000
SQS_REQUEST_USD = 0.40 / 1_000_000
NAT_GB_USD = 0.045

# --- measured here (docs/benchmarks.md, issue 9 and issue 2) ----------------------------------
ROUND_TRIPS_PER_SEND = 1  # libpq protocol trace: one statement per send, recipients included
FANOUT_CPU_S_PER_RECIPIENT = 603e-6  # lean SigV4 POST per recipient (boto3: 1351 µs)
ONE_ROOM_COMMITS_PER_S = 600  # the service's ceiling into one room, 2 cores, fsync on
# The message function's own work per send besides the fan-out (parse, one round trip,
# the ack): the local stack's ack p50 at 50 members, a generous stand-in for a warm Lambda.
MESSAGE_BASE_S = 0.015
SIGNED_POST_BYTES = 1_500  # a signed POST to @connections and its answer, through the NAT
# The sweep now does one bounded DELETE and one presence query; a run is about a second
# including Lambda's overhead (the polling sweep ran 55 s of every minute).
SWEEP_RUN_S = 1.0
POLLING_SWEEP_RUN_S = 55.0


@dataclass(frozen=True)
class Incident:
    """A busy incident: `people` connected, `messages_per_s` sent into the room."""

    people: int = 30
    messages_per_s: float = 1.0
    heartbeat_s: float = 30.0  # the client's ping; API Gateway answers it (no Lambda)
    open_incidents_per_plant: int = 3

    @property
    def inbound_per_s(self) -> float:
        return self.messages_per_s + self.people / self.heartbeat_s

    @property
    def posts_per_s(self) -> float:
        """@connections posts: the room's frame to everyone, plus the sender's ack."""
        return self.messages_per_s * (self.people + 1)

    @property
    def lambda_seconds_per_s(self) -> float:
        """Concurrency: busy message-function seconds per second."""
        return self.messages_per_s * (MESSAGE_BASE_S + self.people * FANOUT_CPU_S_PER_RECIPIENT)


@dataclass(frozen=True)
class Bound:
    limit: str
    value: str
    source: str
    incidents: int  # open incidents of this shape before the limit binds


def bounds(config: StageConfig, incident: Incident) -> list[Bound]:
    pongs = incident.people / incident.heartbeat_s  # API Gateway's answers are requests too
    account = APIGW_ACCOUNT_REQUESTS_PER_S / (incident.inbound_per_s + pongs + incident.posts_per_s)
    return [
        Bound(
            "API Gateway requests (inbound frames, pongs and @connections posts)",
            f"{APIGW_ACCOUNT_REQUESTS_PER_S:,} /s per account",
            QUOTAS_URL,
            math.floor(account),
        ),
        Bound(
            "the stage's WebSocket throttle (inbound frames)",
            f"{config.ws_rate_limit:,} /s",
            "infra/constants.py",
            math.floor(config.ws_rate_limit / incident.inbound_per_s),
        ),
        Bound(
            "Lambda concurrency (message function busy time)",
            f"{LAMBDA_CONCURRENCY:,}",
            LAMBDA_QUOTAS_URL,
            math.floor(LAMBDA_CONCURRENCY / incident.lambda_seconds_per_s),
        ),
        Bound(
            "RDS Proxy connections (one per busy function)",
            f"{config.db_pool_size + config.db_max_overflow}",
            "infra/constants.py",
            math.floor(
                (config.db_pool_size + config.db_max_overflow) / incident.lambda_seconds_per_s
            ),
        ),
        Bound(
            "Aurora writer commits, across rooms (one per send)",
            f"≥ {ONE_ROOM_COMMITS_PER_S} /s",
            "docs/benchmarks.md",
            math.floor(ONE_ROOM_COMMITS_PER_S / (incident.messages_per_s * ROUND_TRIPS_PER_SEND)),
        ),
    ]


@dataclass(frozen=True)
class Cost:
    item: str
    usd: float


def incident_hour(incident: Incident) -> list[Cost]:
    seconds = 3600
    messages = seconds * (2 * incident.inbound_per_s + incident.posts_per_s)  # pings + pongs
    invocations = seconds * incident.messages_per_s
    gb = FN_MESSAGE.memory_mb / 1024
    busy = seconds * incident.lambda_seconds_per_s
    nat_gb = seconds * incident.posts_per_s * SIGNED_POST_BYTES / 1e9
    return [
        Cost("WebSocket messages (in, out, pings and pongs)", messages * WS_MESSAGE_USD),
        Cost(
            "WebSocket connection-minutes",
            incident.people * 60 * WS_CONNECTION_MINUTE_USD,
        ),
        Cost(
            "Lambda (message function)",
            busy * gb * LAMBDA_ARM_GB_SECOND_USD + invocations * LAMBDA_REQUEST_USD,
        ),
        Cost("NAT data processing (signed posts)", nat_gb * NAT_GB_USD),
        Cost("Aurora (one commit a send, inside the minimum capacity)", 0.0),
    ]


def sweep_month_usd(run_s: float = SWEEP_RUN_S) -> float:
    """The every-minute sweep, a month of it."""
    runs = HOURS_PER_MONTH * 60 / SWEEP_INTERVAL_MINUTES
    gb = FN_SWEEP.memory_mb / 1024
    return runs * (run_s * gb * LAMBDA_ARM_GB_SECOND_USD + LAMBDA_REQUEST_USD)


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def tables(stage: str = "prod", incident: Incident | None = None) -> dict[str, str]:
    """The Markdown tables of docs/capacity.md, by name."""
    shape = incident or Incident()
    config = stage_config(stage)
    rows = bounds(config, shape)
    binding = min(rows, key=lambda b: b.incidents)
    limits = [
        "| limit | value | source | open incidents | plants | people |",
        "|---|---|---|---|---|---|",
    ]
    for b in rows:
        limits.append(
            f"| {b.limit} | {b.value} | {b.source} | {b.incidents:,} | "
            f"{b.incidents // shape.open_incidents_per_plant:,} | {b.incidents * shape.people:,} |"
        )
    limits.append(
        f"| **first to bind** | {binding.limit} | | **{binding.incidents:,}** | "
        f"**{binding.incidents // shape.open_incidents_per_plant:,}** | "
        f"**{binding.incidents * shape.people:,}** |"
    )
    reconnect_s = math.ceil(binding.incidents * shape.people / APIGW_NEW_CONNECTIONS_PER_S)
    per_incident = [
        "| per incident | figure |",
        "|---|---|",
        f"| people, messages | {shape.people}, {shape.messages_per_s:g} /s |",
        f"| inbound frames (messages + heartbeats) | {shape.inbound_per_s:g} /s |",
        f"| @connections posts | {shape.posts_per_s:g} /s |",
        f"| PostgreSQL round trips | {shape.messages_per_s * ROUND_TRIPS_PER_SEND:g} /s |",
        f"| fan-out CPU | {shape.messages_per_s * shape.people * FANOUT_CPU_S_PER_RECIPIENT * 1000:g}"
        " ms /s |",
        f"| Lambda concurrency | {shape.lambda_seconds_per_s:.3f} |",
        f"| reconnecting everyone at the first binding limit ({APIGW_NEW_CONNECTIONS_PER_S}"
        f" new connections /s) | {reconnect_s:,} s |",
    ]
    costs = incident_hour(shape)
    cost = ["| an incident-hour | USD |", "|---|---|"]
    cost += [f"| {c.item} | {_usd(c.usd)} |" for c in costs]
    cost.append(f"| **total** | **{_usd(sum(c.usd for c in costs))}** |")
    sweep = [
        "| the sweep, a month | runs of | USD |",
        "|---|---|---|",
        f"| polling (before) | {POLLING_SWEEP_RUN_S:g} s | {_usd(sweep_month_usd(POLLING_SWEEP_RUN_S))} |",
        f"| delayed flush (now) | {SWEEP_RUN_S:g} s | {_usd(sweep_month_usd())} |",
    ]
    return {
        "limits": "\n".join(limits),
        "per_incident": "\n".join(per_incident),
        "incident_hour": "\n".join(cost),
        "sweep": "\n".join(sweep),
    }


def main() -> None:
    for name, table in tables().items():
        print(f"<!-- table:{name} -->\n{table}\n<!-- /table:{name} -->\n")


if __name__ == "__main__":
    main()
