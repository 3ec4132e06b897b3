"""Gateway load: sustained accepted events/s and latency of `uecflow gateway` on loopback.

Run: .venv/bin/python -m benchmarks.gateway_load [--duration 30] [--connections 4 8 16]
Needs wrk (`apt-get install wrk`) and what the integration tests need for Kafka (Java, Maven).
It starts a throwaway broker and `uecflow gateway` (HTTP, rate limit raised out of the way),
then, for each connection count, wrk posts JSON arrays of --batch events (A&E arrivals,
ambulance arrivals and ward states, unique ids) with three trusts' tokens for --duration
seconds. Every answer is counted by status; afterwards the topics' end offsets must hold at least
every event answered 202. Figures go to stdout as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from producers.gateway.credentials import hash_token, new_token
from streams.topics import Topics
from tools.harness import ROOT, UECFLOW, Broker, events_in_kafka, free_port, wait_for
from uecflow.config import load_registry

# wrk runs this in each of its threads; {placeholders} are filled in from Python.
LUA = r"""
local tokens = {TOKENS}
local sites = {SITES}
local batch = {BATCH}
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("me", #threads)
end

function init(args)
  local slot = (me - 1) % #tokens + 1
  mine = sites[slot]
  wrk.headers["Authorization"] = "Bearer " .. tokens[slot]
  wrk.headers["Content-Type"] = "application/json"
  accepted, refused, unavailable = 0, 0, 0
end

local function event(n, i)
  local site = mine[i % #mine + 1]
  local id = string.format("bench-%d-%d-%d", me, n, i)
  local at = '"occurred_at":"2025-11-20T08:00:00Z","site":"' .. site .. '"'
  if i % 10 == 0 then
    return '{"event_id":"' .. id .. '","event_type":"beds.ward_state",' .. at ..
      ',"ward":"Ward 3A","ward_type":"adult_ga","beds_open_core":24,"beds_occupied":23,"nctr":3}'
  elseif i % 5 == 1 then
    return '{"event_id":"' .. id .. '","event_type":"ambulance.arrival",' .. at ..
      ',"handover_id":"h-' .. n .. '-' .. i .. '"}'
  end
  return '{"event_id":"' .. id .. '","event_type":"ae.arrival",' .. at ..
    ',"attendance_id":"a-' .. n .. '-' .. i .. '","arrival_mode":"walk_in"}'
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, batch do
    parts[i] = event(counter, i)
  end
  return wrk.format("POST", "/v1/events", nil, "[" .. table.concat(parts, ",") .. "]")
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  elseif status == 503 then
    unavailable = unavailable + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local a, r, u = 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    r = r + thread:get("refused")
    u = u + thread:get("unavailable")
  end
  io.write(string.format("RESULT accepted=%d refused=%d unavailable=%d errors=%d\n",
    a, r, u, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
  io.write(string.format("LATENCY p50=%d p90=%d p99=%d max=%d\n", latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class Run:
    connections: int
    seconds: float
    accepted: int  # requests answered 202
    refused: int
    unavailable: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    gateway_cpu: float  # seconds of CPU the gateway process used

    def events_per_second(self, batch: int) -> float:
        return self.accepted * batch / self.seconds


def lua_script(directory: Path, tokens: dict[str, str], batch: int) -> Path:
    registry = load_registry()
    trusts = sorted(tokens)
    lua_tokens = ", ".join(f'"{tokens[trust]}"' for trust in trusts)
    lua_sites = ", ".join(
        "{" + ", ".join(f'"{site}"' for site in registry.sites_of_trust(trust)) + "}"
        for trust in trusts
    )
    text = LUA.replace("{TOKENS}", "{" + lua_tokens + "}").replace("{SITES}", "{" + lua_sites + "}")
    path = directory / "post-batches.lua"
    path.write_text(text.replace("{BATCH}", str(batch)))
    return path


def start_gateway(
    bootstrap: str, topics: Topics, directory: Path, tokens: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    credentials = directory / "credentials.toml"
    credentials.write_text(
        "".join(
            f'[[credentials]]\nid = "{trust}-bench"\ntrust = "{trust}"\n'
            f'token_sha256 = "{hash_token(token)}"\n\n'
            for trust, token in tokens.items()
        )
    )
    port = free_port()
    command = [
        str(UECFLOW), "gateway",
        "--bootstrap", bootstrap,
        "--topic-prefix", topics.prefix,
        "--partitions", str(topics.partitions),
        "--credentials", str(credentials),
        "--port", str(port),
        "--rate-limit", "100000",
        "--rate-burst", "100000",
    ]  # fmt: skip
    log = (directory / "gateway.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _healthy(url, process), "the gateway to answer /health", 90)
    return process, url


def _healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"the gateway exited with {process.returncode}")
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path, connections: int, seconds: int, threads: int, pid: int) -> Run:
    command = [
        "wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
        "--timeout", "10s", "--latency", "-s", str(script), f"{url}/v1/events",
    ]  # fmt: skip
    cpu_before, start = cpu_seconds(pid), time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_before
    result = re.search(
        r"RESULT accepted=(\d+) refused=(\d+) unavailable=(\d+) errors=(\d+)", output
    )
    latency = re.search(r"LATENCY p50=(\d+) p90=(\d+) p99=(\d+) max=(\d+)", output)
    if result is None or latency is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    accepted, refused, unavailable, errors = (int(value) for value in result.groups())
    p50, p90, p99, most = (int(value) / 1000 for value in latency.groups())
    return Run(
        connections, elapsed, accepted, refused, unavailable, errors, p50, p90, p99, most, cpu
    )


def gateway_warnings(log: Path) -> list[str]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        level = re.search(r'"level": "(\w+)"', line)
        if (
            level
            and level.group(1) in ("warning", "error")
            and not re.search(r'"message": "request \w+ from ', line)
        ):
            lines.append(line)
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"load average before the run {load}"
    )


def report(runs: list[Run], batch: int, in_kafka: int, sent: int) -> None:
    print(f"Machine: {machine()}")
    print(f"Batches of {batch} events, JSON arrays; wrk on loopback; broker, gateway and wrk")
    print("share the machine.\n")
    print("| connections | accepted events/s | p50 ms | p90 ms | p99 ms | max ms | "
          "503 | other 4xx | socket errors | gateway CPU |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        share = run.gateway_cpu / run.seconds
        print(
            f"| {run.connections} | {run.events_per_second(batch):,.0f} | {run.p50_ms:.0f} | "
            f"{run.p90_ms:.0f} | {run.p99_ms:.0f} | {run.max_ms:.0f} | {run.unavailable} | "
            f"{run.refused} | {run.errors} | {share:.0%} of a core |"
        )
    print(f"\nIn Kafka afterwards: {in_kafka:,} events; answered 202: {sent:,}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30, help="seconds per connection count")
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--batch", type=int, default=100, help="events per request")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds before measuring")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("gateway_load: needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    tokens = {trust: new_token() for trust in load_registry().trusts}
    topics = Topics(prefix=f"bench{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="uecflow-gateway-load-") as temporary:
        directory = Path(temporary)
        broker = Broker(directory / "kafka")
        broker.start()
        gateway = None
        try:
            gateway, url = start_gateway(broker.bootstrap, topics, directory, tokens)
            script = lua_script(directory, tokens, args.batch)
            warm = run_wrk(url, script, 4, args.warm_up, args.threads, gateway.pid)
            runs = [
                run_wrk(url, script, count, args.duration, args.threads, gateway.pid)
                for count in args.connections
            ]
            sent = (warm.accepted + sum(run.accepted for run in runs)) * args.batch
            in_kafka = events_in_kafka(broker.bootstrap, topics)
        finally:
            if gateway is not None:
                gateway.terminate()
                gateway.wait(30)
            broker.stop()
        warnings = gateway_warnings(directory / "gateway.log")
    report(runs, args.batch, in_kafka, sent)
    if warnings:
        print("\nThe gateway's warnings and errors, apart from per-request lines:")
        print("\n".join(f"    {line}" for line in warnings))
    if in_kafka < sent:
        print("gateway_load: Kafka holds fewer events than were acknowledged", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
