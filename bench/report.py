"""Turns bench/results.json (from bench/run.py) into bench/RESULTS.md and bench/chart.png."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple


def _num(v: Any, fmt: str = "{:,.0f}") -> str:
    return "—" if v is None else fmt.format(v)


def _rows(r: Dict[str, Any]) -> List[Tuple[str, Optional[float], Optional[float], Optional[float]]]:
    """(client, caller µs per event, end-to-end events/s, client CPU µs per delivered event)."""
    rows: List[Tuple[str, Optional[float], Optional[float], Optional[float]]] = []
    py = r.get("python") or {}
    node = r.get("node") or {}
    if node:
        rows.append((f"@workos-inc/node {node.get('official_version', '')} (await each)".strip(),
                     node.get("official_call_us"), node.get("official_events_per_sec"), node.get("official_cpu_us_per_event")))
        rows.append((f"@workos-inc/node {node.get('official_version', '')} (Promise.all)".strip(),
                     None, node.get("official_batch_events_per_sec"), None))
        rows.append(("auditwire Node (emit)", node.get("auditwire_emit_us"), node.get("auditwire_events_per_sec"),
                     node.get("auditwire_cpu_us_per_event")))
        rows.append(("auditwire Node (createEvent, Promise.all)", None, node.get("auditwire_batch_events_per_sec"), None))
    if py:
        rows.append((f"workos (Python) {py.get('workos_version', '')}".strip(), py.get("official_create_event_us"),
                     py.get("official_events_per_s"), py.get("official_cpu_us_per_event")))
        rows.append(("auditwire Python (emit)", py.get("auditwire_emit_us"), py.get("auditwire_events_per_s"),
                     py.get("auditwire_cpu_us_per_event")))
    for key, name in [("c", "auditwire C (emit_json)"), ("rust", "auditwire Rust (emit)")]:
        x = r.get(key) or {}
        if x:
            rows.append((name, x.get("caller_us"), x.get("events_per_sec"), x.get("cpu_us_per_event")))
    return rows


def _spool(sp: Dict[str, Any], key: str) -> str:
    """`rate/s, p50 …, p99 …, p99.9 …, CPU … per event` of one spool emit row."""
    if not sp.get(f"emit_{key}"):
        return "—"
    p999 = sp.get(f"emit_{key}_p999_us")
    tail = "" if p999 is None else f", p99.9 {p999:,.0f} µs"
    return (f"{sp[f'emit_{key}']:,.0f} events/s, p50 {sp.get(f'emit_{key}_p50_us', float('nan')):,.0f} µs, "
            f"p99 {sp.get(f'emit_{key}_p99_us', float('nan')):,.0f} µs{tail}, CPU {sp.get(f'emit_{key}_cpu_us', float('nan')):.1f} µs per event")


def _ratio(a: Any, b: Any) -> str:
    return f"{a / b:.0%}" if a and b else "—"


def _targets(r: Dict[str, Any]) -> List[Tuple[str, str, bool]]:
    out: List[Tuple[str, str, bool]] = []
    wrk = (r.get("wrk") or {}).get("requests_per_sec") or 0.0
    rust = r.get("rust") or {}
    if wrk and rust:
        ratio = rust["events_per_sec"] / wrk
        out.append(("Rust delivery ≥ 50% of the wrk ceiling", f"{ratio:.0%}", ratio >= 0.5))
        cpu = rust["cpu_us_per_event"]
        out.append(("client CPU ≤ 25 µs per delivered event (Rust)", f"{cpu:.1f} µs", cpu <= 25))
    py = r.get("python") or {}
    if py:
        out.append(("Python end-to-end ≥ 10× workos", f"{py['throughput_ratio']:.1f}×", py["throughput_ratio"] >= 10))
        out.append(("Python emit ≥ 100× faster than workos create_event", f"{py['emit_speedup']:.0f}×", py["emit_speedup"] >= 100))
    node = r.get("node") or {}
    if node and node.get("official_events_per_sec"):
        ratio = node["auditwire_events_per_sec"] / node["official_events_per_sec"]
        out.append(("Node end-to-end ≥ 10× @workos-inc/node (emit vs await each)", f"{ratio:.1f}×", ratio >= 10))
        best = node["auditwire_events_per_sec"] / node["official_batch_events_per_sec"]
        out.append(("Node end-to-end ≥ 10× @workos-inc/node (emit vs its Promise.all)", f"{best:.1f}×", best >= 10))
        idle = node.get("auditwire_emit_idle_us")
        if idle is not None:
            out.append(("Node event-loop time per emit ≤ 5 µs (delivery idle)", f"{idle:.2f} µs", idle <= 5))
        out.append(("Node event-loop time per emit ≤ 5 µs (while delivering)", f"{node['auditwire_emit_us']:.2f} µs", node["auditwire_emit_us"] <= 5))
    elif not node:
        out.append(("Node end-to-end ≥ 10× @workos-inc/node", "not measured", False))
    sp = r.get("spool") or {}
    if sp.get("emit_process_8t"):
        rate = sp["emit_process_8t"]
        out.append(("spool emit from 8 threads ≥ 100,000 events/s (no fsync)", f"{rate:,.0f}/s", rate >= 100_000))
        p99 = sp.get("emit_process_8t_p99_us", float("nan"))
        out.append(("spool emit p99 ≤ 200 µs, 8 threads (no fsync)", f"{p99:,.0f} µs", p99 <= 200))
    return out


def write(r: Dict[str, Any], md: Path, png: Path) -> None:
    m = r["machine"]
    wrk = r.get("wrk") or {}
    lines = [
        "# Benchmark results",
        "",
        f"One run of `bench/run.sh` on {m['date']}: {m['cores']} cores ({m['cpu']}), Linux {m['kernel']}, "
        f"load {m['load_at_start']:.2f} at the start. Every figure is the median of {r['repeats']} runs. "
        "Client and server share the machine: every client competes with the server for the same cores.",
        "",
        f"**Server ceiling (`wrk -t2 -c64`, same server, same run): {_num(wrk.get('requests_per_sec'))} requests/s**, "
        f"wrk's own CPU {_num(wrk.get('cpu_us_per_request'), '{:.1f}')} µs per request.",
        "",
        "| client | caller µs per event | end-to-end events/s | vs wrk ceiling | client CPU µs per delivered event |",
        "|---|---:|---:|---:|---:|",
    ]
    ceiling = wrk.get("requests_per_sec") or 0
    for name, caller, eps, cpu in _rows(r):
        share = f"{eps / ceiling:.0%}" if (eps and ceiling) else "—"
        lines.append(f"| {name} | {_num(caller, '{:,.2f}')} | {_num(eps)} | {share} | {_num(cpu, '{:.1f}')} |")
    lines += [
        "",
        "Official SDKs send one blocking request per call, so their caller time is a full round trip and their "
        "end-to-end rate is sequential calls. auditwire's caller time is `emit` (validate + enqueue, measured while "
        "delivery runs); end to end is emit-all-then-flush.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
    ]
    for name, value, ok in _targets(r):
        lines.append(f"| {name} | {value} | {'yes' if ok else '**missed**'} |")
    sp = r.get("spool") or {}
    mem = r.get("memory") or {}
    lib = r.get("library") or {}
    lines += [
        "",
        "## Spool, memory, size",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| spool emit, 1 thread (durability: process) | {_spool(sp, 'process_1t')} |",
        f"| spool emit, 8 threads (durability: process) | {_spool(sp, 'process_8t')} |",
        f"| spool emit, 1 thread (fsync per commit) | {_spool(sp, 'powerloss_1t')} |",
        f"| spool emit, 8 threads (fsync per commit) | {_spool(sp, 'powerloss_8t')} |",
        f"| spool drain of a {sp.get('drain_events', 0):,}-event backlog | {_num(sp.get('drain_per_sec'))} events/s; in-memory delivery of the same: {_num(sp.get('memory_delivery_per_sec'))} ({_ratio(sp.get('drain_per_sec'), sp.get('memory_delivery_per_sec'))}) |",
        f"| peak RSS with {mem.get('events', 0):,} events queued | {_num(mem.get('peak_rss_mib'), '{:,.0f}')} MiB ({_num(mem.get('bytes_per_event'), '{:,.0f}')} bytes per event) |",
        f"| libauditwire.so, stripped | {_num((lib.get('stripped_bytes') or 0) / 1e6, '{:.1f}')} MB |",
        "",
        "![events per second, official SDKs vs auditwire](chart.png)",
        "",
    ]
    md.write_text("\n".join(lines))
    _chart(r, png)


def _chart(r: Dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [x for x in _rows(r) if x[2]]
    names = [x[0] for x in rows]
    eps = [x[2] for x in rows]
    caller = [x[1] or 0 for x in rows]
    colors = ["#9e9e9e" if not n.startswith("auditwire") else "#2e7d32" for n in names]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.8))
    a1.barh(names, eps, color=colors)
    ceiling = (r.get("wrk") or {}).get("requests_per_sec")
    if ceiling:
        a1.axvline(ceiling, color="#c62828", linestyle="--", label=f"wrk ceiling {ceiling:,.0f}/s")
        a1.legend(loc="lower right")
    a1.set_xscale("log")
    a1.set_xlabel("end-to-end events/s (log scale, higher is better)")
    a1.invert_yaxis()
    a2.barh(names, caller, color=colors)
    a2.set_xscale("log")
    a2.set_xlabel("caller µs per event (log scale, lower is better)")
    a2.invert_yaxis()
    a2.set_yticklabels([])
    fig.suptitle(f"auditwire vs the official SDKs — {r['machine']['cores']} cores, one local server")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent
    write(json.loads((root / "results.json").read_text()), root / "RESULTS.md", root / "chart.png")
