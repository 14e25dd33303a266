"""Runs every benchmark in one go against one local server and writes bench/RESULTS.md and
bench/chart.png. Started by bench/run.sh, which builds and installs what this needs.

Each measurement runs `--repeats` times; the tables give the median. Exit status 0 even
when a target is missed: RESULTS.md says so plainly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release" / "auditwire"


def log(msg: str) -> None:
    print(f"== {msg}", flush=True)


class Server:
    """`auditwire serve --test-endpoints` (release build, in-memory store) on a free port."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--addr", "127.0.0.1:0", "--test-endpoints"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("listening on "):
            raise SystemExit(f"auditwire serve did not start: {line!r}")
        self.url = line.strip()[len("listening on ") :]

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/__reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=30).read()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: List[str], env: Optional[Dict[str, str]] = None, timeout: float = 1800) -> str:
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-4000:])
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout


def json_lines(text: str) -> List[Dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def median_of(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Per-key median of numeric fields (other fields from the first run)."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = statistics.median(r[k] for r in runs if k in r)
    out["runs"] = len(runs)
    return out


def repeat(n: int, what: str, fn: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    runs = []
    for i in range(n):
        log(f"{what} ({i + 1}/{n})")
        runs.append(fn())
    return median_of(runs)


def wrk(server: Server, seconds: int) -> Dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    body = json.dumps(
        {
            "organization_id": "org_wrk",
            "event": {
                "action": "user.signed_in",
                "occurred_at": now,
                "actor": {"id": "user_1", "type": "user", "name": "Jon Smith"},
                "targets": [{"id": "team_1", "type": "team"}],
                "context": {"location": "123.123.123.123"},
            },
        }
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Authorization"] = "Bearer sk_bench"\n')
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        script = f.name
    server.reset()
    cpu = children_cpu()
    out = run(["wrk", "-t2", "-c64", f"-d{seconds}s", "-s", script, f"{server.url}/audit_logs/events"])
    cpu = children_cpu() - cpu
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"requests_per_sec": rps, "cpu_us_per_request": cpu * 1e6 / max(1, total)}


def rust_delivery(server: Server, events: int) -> Dict[str, Any]:
    out = run(
        ["cargo", "bench", "-q", "-p", "auditwire", "--bench", "delivery"],
        env={
            "AUDITWIRE_BENCH_URL": server.url,
            "AUDITWIRE_BENCH_EVENTS": str(events),
            "AUDITWIRE_BENCH_WORKERS": "16",
            "AUDITWIRE_BENCH_RESET": "1",
        },
    )
    r = json_lines(out)[0]
    return {
        "caller_us": r["emit_mean_us"],
        "events_per_sec": r["events_per_sec"],
        "cpu_us_per_event": r["cpu_us_per_event"],
        "delivered": r["delivered"],
        "events": r["events"],
    }


def c_delivery(server: Server, prefix: Path, events: int) -> Dict[str, Any]:
    exe = prefix / "bench_e2e"
    if not exe.exists():
        subprocess.run(
            [
                "cc", "-std=c11", "-O2", f"-I{prefix}/include", str(ROOT / "tests/c/bench_e2e.c"),
                "-o", str(exe), f"-L{prefix}/lib", "-lauditwire", "-pthread", f"-Wl,-rpath,{prefix}/lib",
            ],
            check=True,
        )
    server.reset()
    r = json_lines(run([str(exe), str(events), "16"], env={"AUDITWIRE_TEST_BASE_URL": server.url}))[0]
    return {
        "caller_us": r["emit_mean_ns"] / 1000,
        "events_per_sec": r["events_per_sec"],
        "cpu_us_per_event": r["cpu_us_per_event"],
        "delivered": r["delivered"],
        "events": r["events"],
    }


def python_pair(server: Server, official: int, events: int) -> Dict[str, Any]:
    server.reset()
    out = run(
        [sys.executable, str(ROOT / "bench/python_vs_workos.py"), server.url, "--json",
         "--official", str(official), "--emit", str(events), "--workers", "16"]
    )
    return json.loads(out[out.index("{"):])


def node_pair(server: Server, official: int, events: int) -> Optional[Dict[str, Any]]:
    script = ROOT / "bench/node_vs_workos.mjs"
    if not script.exists() or shutil.which("node") is None:
        return None
    server.reset()
    out = run(["bash", str(ROOT / "bench/node.sh"), "--url", server.url, "--json",
               "--seq", str(official), "--batches", f"1000,{events // 5}", "--emits", str(events)])
    runs = json_lines(out)
    return runs[-1] if runs else None


def _micros(text: str) -> float:
    """`12.3µs` / `1.2ms` / `900ns` as microseconds."""
    m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}[m.group(2)]


def spool(repeats: int) -> Dict[str, Any]:
    runs: List[Dict[str, Any]] = []
    for i in range(repeats):
        log(f"spool emit ({i + 1}/{repeats})")
        out = run(["cargo", "bench", "-q", "-p", "auditwire", "--bench", "spool"],
                  env={"SPOOL_BENCH_EVENTS": "20000"})
        rates: Dict[str, Any] = {}
        for m in re.finditer(r"threads=(\d+)\s+durability=(\w+)\s+events=\d+\s+rate=\s*([\d.]+)/s\s+"
                             r"p50=\s*(\S+)\s+p99=\s*(\S+)\s+(?:p999=\s*(\S+)\s+)?cpu=\s*([\d.]+)µs/event", out):
            key = f"emit_{m.group(2).lower()}_{m.group(1)}t"
            rates[key] = float(m.group(3))
            rates[key + "_p50_us"] = _micros(m.group(4))
            rates[key + "_p99_us"] = _micros(m.group(5))
            if m.group(6):
                rates[key + "_p999_us"] = _micros(m.group(6))
            rates[key + "_cpu_us"] = float(m.group(7))
        runs.append(rates)
    rates = median_of(runs)
    log("spool drain of a 200,000-event backlog")
    drain = run(["bash", str(ROOT / "bench/spool.sh"), "200000", "32"], env={"SKIP_EMIT_BENCH": "1"})
    for name, key in [("in-memory delivery", "memory_delivery_per_sec"), ("spool drain", "drain_per_sec")]:
        m = re.search(rf"{name}:\s+([\d,]+) events/s", drain)
        if m:
            rates[key] = float(m.group(1).replace(",", ""))
    rates["drain_events"] = 200000
    return rates


def memory() -> Dict[str, Any]:
    out = run(["cargo", "bench", "-q", "-p", "auditwire", "--bench", "memory"])
    return json_lines(out)[0]


def library_size(prefix: Path) -> Dict[str, Any]:
    lib = TARGET / "release" / "libauditwire.so"
    stripped = prefix / "libauditwire.stripped.so"
    shutil.copy(lib, stripped)
    subprocess.run(["strip", str(stripped)], check=True)
    return {"unstripped_bytes": lib.stat().st_size, "stripped_bytes": stripped.stat().st_size}


def machine() -> Dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "load_at_start": os.getloadavg()[0],
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer events (a smoke run)")
    a = ap.parse_args()
    events = 10_000 if a.quick else 50_000
    official = 100 if a.quick else 500

    results: Dict[str, Any] = {"machine": machine(), "repeats": a.repeats}
    prefix = Path(tempfile.mkdtemp(prefix="auditwire-bench-"))
    subprocess.run([str(ROOT / "scripts/install-c.sh"), str(prefix)], check=True, stdout=subprocess.DEVNULL)
    server = Server()
    try:
        results["wrk"] = repeat(a.repeats, "wrk ceiling", lambda: wrk(server, 5))
        results["rust"] = repeat(a.repeats, "auditwire Rust", lambda: rust_delivery(server, events))
        results["c"] = repeat(a.repeats, "auditwire C", lambda: c_delivery(server, prefix, events))
        results["python"] = repeat(a.repeats, "Python: workos vs auditwire", lambda: python_pair(server, official, events))
        node_runs = []
        for i in range(a.repeats):
            log(f"Node: @workos-inc/node vs auditwire ({i + 1}/{a.repeats})")
            r = node_pair(server, official, events)
            if r is None:
                break
            node_runs.append(r)
        results["node"] = median_of(node_runs) if node_runs else None
    finally:
        server.stop()
    results["spool"] = spool(a.repeats)
    log("memory with 1,000,000 events queued")
    results["memory"] = memory()
    results["library"] = library_size(prefix)
    shutil.rmtree(prefix, ignore_errors=True)

    out_dir = ROOT / "bench"
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    import report

    report.write(results, out_dir / "RESULTS.md", out_dir / "chart.png")
    print((out_dir / "RESULTS.md").read_text())
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
