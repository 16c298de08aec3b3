"""Benchmark of how long `initiatief serve` takes to answer, next to a minimal FastAPI app.

Run on demand (the default run deselects the `benchmark` marker):

    pytest -m benchmark tests/benchmarks/test_serve_start.py -s

The issue asks for "ready in about two seconds" on the embedded SQLite. Measured: the time
from starting the process until `GET /api/health` answers 200, on a fresh data directory (the
database is created, migrated and seeded) and again on that existing one, against the same
time for a FastAPI app with one endpoint served by uvicorn in the same way (the floor that
Python, FastAPI and uvicorn set on this machine). The runs alternate, so a busy moment of the
machine falls on both alike; medians of RUNS are printed, with the ratio.
"""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
GOAL_SECONDS = 2.0

MINIMAL_APP = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()

@app.get("/api/health")
async def health():
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _time_to_ready(command: list[str], env: dict[str, str], port: int) -> float:
    """Seconds from start until /api/health answers 200; a light poll every 10 ms."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 30:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                connection.request("GET", "/api/health")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.01)
            finally:
                connection.close()
        raise AssertionError(f"{command[:3]} did not answer within 30 s")
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_start_next_to_a_minimal_app(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INITIATIEF_")}
    minimal = tmp_path / "minimal.py"
    minimal.write_text(MINIMAL_APP)
    fresh, existing, floor = [], [], []
    for n in range(RUNS):
        data = tmp_path / f"data{n}"
        serve_env = {**env, "INITIATIEF_DATA_DIR": str(data)}
        for target in (fresh, existing):  # the second start finds the database of the first
            port = _free_port()
            command = [sys.executable, "-c", "from workflow.cli import main; main()", "serve",
                       "--port", str(port)]
            target.append(_time_to_ready(command, serve_env, port))
        port = _free_port()
        floor.append(_time_to_ready([sys.executable, str(minimal), str(port)], env, port))
    base = statistics.median(floor)
    print(f"\n`initiatief serve` until /api/health answers, median of {RUNS} (goal: about "
          f"{GOAL_SECONDS:.0f} s)")
    for name, times in (("minimal FastAPI app (baseline)", floor), ("serve, fresh data directory", fresh),
                        ("serve, existing database", existing)):
        median = statistics.median(times)
        print(f"{name:<32} {median:6.2f} s  (fastest {min(times):.2f}, slowest {max(times):.2f}; "
              f"{median / base:.1f}x the baseline)")
