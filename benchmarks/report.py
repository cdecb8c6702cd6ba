"""Summaries of a run: medians with min-max, ratios, the Markdown table and the chart."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REFERENCE = "aiohttp"  # bare aiohttp decoding JSON with orjson
LIMIT = "limit"  # the hand-written asyncio HTTP/1.1 client: what Python can do
PEERS = ["aiodocker", "docker-py"]
LABELS = {
    "limit": "limit (hand-written)",
    "aiohttp": "aiohttp + orjson (reference)",
    "aiohttp-json": "aiohttp + stdlib json",
}


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    unit: str
    higher_is_better: bool


METRICS = [
    Metric("ping-c1", "ping, concurrency 1", "req/s", True),
    Metric("ping-c32", "ping, concurrency 32", "req/s", True),
    Metric("inspect-c1", "inspect → client's type, conc. 1", "req/s", True),
    Metric("inspect-c32", "inspect → client's type, conc. 32", "req/s", True),
    Metric("list", "list {list_containers} containers", "ms/call", False),
    Metric("logs", "logs {logs_mb} MB, stdout/stderr apart", "MB/s", True),
    Metric("logs-raw", "logs, raw body read (no demux)", "MB/s", True),
    Metric("logs-rss", "logs: peak RSS of the process", "MB", False),
    Metric("logs-collect", "logs {logs_mb} MB held whole (`demux()`)", "MB/s", True),
    Metric("logs-collect-rss", "logs held whole: peak RSS", "MB", False),
    Metric("events-p50", "events: delivery latency p50", "ms", False),
    Metric("events-p99", "events: delivery latency p99", "ms", False),
    Metric("exec-rt", "exec `true` round trip", "ms", False),
    Metric("exec-out", "exec output {exec_mib} MiB", "MB/s", True),
    Metric("exec-out-raw", "exec output, raw body read (no demux)", "MB/s", True),
    Metric("import", "import time (fresh process)", "ms", False),
    Metric("cold-start", "cold start: import + first inspect", "ms", False),
    Metric("cold-event", "cold start: import + first event", "ms", False),
]


def _stream_metrics(data: dict[str, Any]) -> list[Metric]:
    """Rows for the streams scenarios that ran (their stream counts come from the sizes)."""
    names = sorted(
        {r["scenario"] for r in data["runs"] if re.fullmatch(r"(stats|logs)-\d+", r["scenario"])},
        key=lambda n: (n.split("-")[0], int(n.split("-")[1])),
    )
    out = []
    for name in names:
        kind, n = name.split("-")
        what = "stats" if kind == "stats" else "follow-log"
        out.append(
            Metric(f"{name}-mem", f"{n} {what} streams: memory per open stream", "KiB", False)
        )
    return out


CPU_UNITS = {
    "ping-c1": "µs/request",
    "ping-c32": "µs/request",
    "inspect-c1": "µs/request",
    "inspect-c32": "µs/request",
    "list": "ms/call",
    "logs": "ms/MB",
    "events": "µs/event",
    "exec-rt": "ms/round trip",
    "exec-out": "ms/MB",
    "import": "ms",
    "cold-start": "ms",
    "logs-collect": "ms/MB",
    "cold-event": "ms",
}


def _cpu_units(data: dict[str, Any]) -> dict[str, str]:
    units = dict(CPU_UNITS)
    for r in data["runs"]:
        name = r["scenario"]
        if name.startswith("stats-"):
            units[name] = "µs/sample"
        elif re.fullmatch(r"logs-\d+", name):
            units[name] = "ms/MB"
    return units


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("aiodock", "aiohttp", "aiodocker", "docker", "orjson", "cattrs"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "load": os.getloadavg()[0],
    }


def _values(data: dict[str, Any], key: str, client: str) -> list[float]:
    out = []
    for run in data["runs"]:
        if run["client"] != client:
            continue
        if key in ("logs-rss", "logs-collect-rss"):
            if run["scenario"] == key[:-4] and run["metrics"]:
                out.append(float(run["rss_mb"]))
        elif key in run["metrics"]:
            out.append(float(run["metrics"][key]))
    return out


def _errors(data: dict[str, Any], key: str, client: str) -> list[str]:
    scenario = {
        "logs-rss": "logs",
        "logs-collect-rss": "logs-collect",
        "events-p50": "events",
        "events-p99": "events",
    }.get(key, key)
    if key.endswith("-mem"):
        scenario = key[:-4]
    seen: list[str] = []
    for run in data["runs"]:
        if run["client"] == client and run["scenario"] == scenario:
            for e in run["errors"]:
                if e not in seen:
                    seen.append(e)
    return seen


def summarize(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{metric: {client: {median, min, max, n, errors, ratio}}}``."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for metric in METRICS + _stream_metrics(data):
        row: dict[str, dict[str, Any]] = {}
        for client in data["clients"]:
            values = _values(data, metric.key, client)
            errors = _errors(data, metric.key, client)
            if not values and not errors:
                continue
            row[client] = {
                "median": statistics.median(values) if values else None,
                "min": min(values) if values else None,
                "max": max(values) if values else None,
                "n": len(values),
                "errors": errors,
            }
        ref = row.get(REFERENCE, {}).get("median")
        for cell in row.values():
            med = cell["median"]
            cell["ratio"] = med / ref if med is not None and ref else None
        if row:
            table[metric.key] = row
    return table


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _title(metric: Metric, data: dict[str, Any]) -> str:
    sizes = data["sizes"]
    return metric.title.format(
        list_containers=sizes["list_containers"],
        logs_mb=round((sizes["logs_stdout"] + sizes["logs_stderr"]) / 1e6),
        exec_mib=round(sizes["exec_output"] / 2**20),
    )


def _advantage(metric: Metric, ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "-"
    factor = ours / theirs if metric.higher_is_better else theirs / ours
    return f"{factor:.2f}x"


def markdown(data: dict[str, Any]) -> str:
    table = summarize(data)
    machine = data["machine"]
    versions = machine["versions"]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(data["started"]))
    lines = [
        "# aiodock benchmarks",
        "",
        f"Run {when}{' (quick run: small sizes)' if data['quick'] else ''}; "
        f"machine: {machine['nproc']} CPUs, {machine['model']}, Linux {machine['kernel']}, "
        f"Python {machine['python']}; Docker Engine {data['engine']['version']} "
        f"(API {data['engine']['api']}), unix socket; load average at the end "
        f"{machine['load']:.2f}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v is not None) + ".",
        "",
        *(line for note in data.get("notes", []) for line in (note, "")),
        f"Each cell: median of {data['repetitions']} repetitions (min-max), each repetition a "
        "fresh process per client, clients interleaved; `x ref` is the median divided by "
        "the reference's median from the same run. The reference is bare aiohttp decoding "
        "JSON with orjson (what a user after speed writes by hand; aiodock decodes with "
        "orjson too); **limit** is a minimal hand-written asyncio HTTP/1.1 client over the "
        "unix socket with orjson (`benchmarks/client_limit.py`): about as little as Python "
        "can spend per request. aiohttp with the stdlib `json` module is a secondary row. "
        "↑ higher is better, ↓ lower is better. The last columns say how many times better "
        "aiodock is than each peer and than the limit (below 1.00x: worse).",
        "",
    ]
    clients = data["clients"]
    peers = [c for c in PEERS if c in clients]
    versus = [LIMIT, *peers] if LIMIT in clients else peers
    head = (
        ["scenario", "unit"]
        + [LABELS.get(c, c) for c in clients]
        + [f"aiodock vs {p}" for p in versus]
    )
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
    notes: list[str] = []
    for metric in METRICS + _stream_metrics(data):
        row = table.get(metric.key)
        if not row:
            continue
        arrow = "↑" if metric.higher_is_better else "↓"
        cells = [_title(metric, data), f"{metric.unit} {arrow}"]
        for client in clients:
            cell = row.get(client)
            if cell is None:
                cells.append("-")
                continue
            text = (
                "✗ failed"
                if cell["median"] is None
                else (f"{_fmt(cell['median'])} ({_fmt(cell['min'])}-{_fmt(cell['max'])})")
            )
            if cell["ratio"] is not None and client != REFERENCE:
                text += f" · {cell['ratio']:.2f}x ref"
            if cell["errors"]:
                notes.append(f"{client}, {_title(metric, data)}: " + "; ".join(cell["errors"]))
                if cell["median"] is not None:
                    text = f"✗ {text} [{len(notes)}]"
                else:
                    text += f" [{len(notes)}]"
            cells.append(text)
        ours = row.get("aiodock", {}).get("median")
        for peer in versus:
            cells.append(_advantage(metric, ours, row.get(peer, {}).get("median")))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(_targets(data, table))
    lines.extend(_cpu_table(data, clients))
    if notes:
        lines.append("Failures (✗: the client returned wrong or missing data):")
        lines.append("")
        lines.extend(f"{i}. {n}" for i, n in enumerate(notes, 1))
        lines.append("")
    lines.extend(
        [
            "How each client is used:",
            "",
            "- **limit**: `benchmarks/client_limit.py`, an `asyncio.Protocol` per connection, "
            "a keep-alive pool, a parser for Content-Length, chunked and read-to-close "
            "bodies, orjson; body bytes go to the consumer as `memoryview` slices of the "
            "received chunk. Results are dicts.",
            "- **aiohttp + orjson** (reference): one `ClientSession` on a `UnixConnector`, the "
            "same requests written by hand; JSON bodies read whole and decoded with "
            "`orjson.loads`; multiplexed output split by a minimal inline loop hashing "
            "payloads straight from the received chunks; exec started without the HTTP "
            "upgrade (raw body read to the end). **aiohttp + stdlib json** is the same with "
            "`response.json()`.",
            "- **aiodock**: its public API (`system.ping`, `containers.inspect/list/logs`, "
            "`system.events`, `exec.spawn` + `wait`); results are its typed models; logs "
            "are one request whose frames say stdout or stderr.",
            "- **aiodocker**: its public API; it has no ping, so ping goes through its "
            "request helper `_query`. Logs are text (UTF-8, invalid bytes dropped) and one "
            "request per stream, so two requests; `containers.get` and `list` return "
            "`DockerContainer` objects.",
            "- **docker-py**: the `docker` package called through `loop.run_in_executor` on a "
            "thread pool as wide as the concurrency (connection pool as wide too); "
            "`containers.get` returns `Container`; `containers.list` inspects every "
            "container it lists (its default); logs take two requests (it cannot "
            "demultiplex them); `exec_run(demux=True)`.",
            "",
            "Scenarios: logs come from a container that wrote random bytes (no newlines, "
            "so the log copier keeps them in 16 KiB pieces) with the `local` log driver, "
            "which stores bytes exactly; every client's stdout and stderr byte counts and "
            "sha256 are checked against the files the container printed. Events are "
            "volume create/destroy pairs made by the harness after the client is "
            "subscribed; latency is the client's receive time minus the daemon's `timeNano`. "
            "Exec round trips are create + start + read to the end + exit code; the exec "
            "output is checked like logs. Import time is `import X` in a fresh "
            "interpreter (the interpreter's own start excluded; best of three per "
            "repetition); cold start is the same "
            "fresh interpreter timed from before the import to the end of a first inspect "
            "(client, connection, API version, result type), so lazily imported modules "
            "count there; cold start to the first event subscribes with `since` to a "
            "volume event the harness made just before (the daemon replays it). Logs held "
            "whole: every client keeps the whole output in memory, demultiplexed "
            "(aiodock: `logs(...).demux()`; the others append payloads to one `bytearray` "
            "per stream), then checks it; the peak RSS is the process's `VmHWM`. Streams: "
            "N concurrent follow streams on one client (stats on a few sleeping "
            "containers; follow logs with `tail=0` on containers printing a 100-byte line "
            "every 10 ms), client CPU over a fixed time per sample or per MB; memory per "
            "stream is the resident size with all N open minus before (after a first "
            "stream opened and closed, so first-use imports do not count), over N.",
            "",
        ]
    )
    return "\n".join(lines)


# (metric, reference metric, reference client, bound, "min" or "max"): aiodock's
# median over the reference client's median, same run. ``cpu:`` compares client CPU
# time per unit of work.
TARGETS = [
    ("ping-c1", "ping-c1", REFERENCE, 1.0, "min"),
    ("ping-c32", "ping-c32", REFERENCE, 1.0, "min"),
    ("inspect-c1", "inspect-c1", REFERENCE, 1.0, "min"),
    ("inspect-c32", "inspect-c32", REFERENCE, 1.0, "min"),
    ("cpu:inspect-c32", "cpu:inspect-c32", REFERENCE, 1.1, "max"),
    ("list", "list", REFERENCE, 1.0, "max"),
    ("cpu:list", "cpu:list", REFERENCE, 1.3, "max"),
    ("cpu:ping-c32", "cpu:ping-c32", LIMIT, 2.0, "max"),
    ("cpu:inspect-c32", "cpu:inspect-c32", LIMIT, 2.2, "max"),
    ("logs-collect-rss", "logs-collect-rss", LIMIT, 1.1, "max"),
    ("logs-collect", "logs-collect", LIMIT, 0.95, "min"),
    ("logs", "logs-raw", REFERENCE, 0.95, "min"),
    ("exec-out", "exec-out-raw", REFERENCE, 0.9, "min"),
    ("events-p50", "events-p50", REFERENCE, 1.1, "max"),
    ("events-p99", "events-p99", REFERENCE, 1.1, "max"),
    ("import", "import", REFERENCE, 1.1, "max"),
    ("cpu:import", "cpu:import", REFERENCE, 1.1, "max"),
]
NAMES = {REFERENCE: "bare aiohttp + orjson", LIMIT: "the limit client"}


def _cpu_median(data: dict[str, Any], key: str, client: str) -> float | None:
    values = [
        r["cpu"][key] for r in data["runs"] if r["client"] == client and key in r.get("cpu", {})
    ]
    return statistics.median(values) if values else None


def _targets(data: dict[str, Any], table: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    rows = []
    for key, ref_key, ref_client, bound, kind in TARGETS:
        if key.startswith("cpu:"):
            ours = _cpu_median(data, key[4:], "aiodock")
            ref = _cpu_median(data, ref_key[4:], ref_client)
            key = f"{key[4:]} (client CPU)"
            ref_key = key
        else:
            ours = table.get(key, {}).get("aiodock", {}).get("median")
            ref = table.get(ref_key, {}).get(ref_client, {}).get("median")
        if not ours or not ref:
            continue
        ratio = ours / ref
        met = ratio >= bound if kind == "min" else ratio <= bound
        what = "at least" if kind == "min" else "at most"
        name = NAMES.get(ref_client, ref_client)
        against = name if ref_key == key else f"{name}'s {ref_key}"
        rows.append(
            f"| {key} | {what} {bound:.2f}x {against} | {ratio:.2f}x | "
            f"{'met' if met else 'NOT met'} |"
        )
    if not rows:
        return []
    return [
        "Targets (aiodock's median over the named client's median, same run):",
        "",
        "| metric | target | measured | |",
        "|---|---|---:|---|",
        *rows,
        "",
    ]


def _cpu_table(data: dict[str, Any], clients: list[str]) -> list[str]:
    rows = []
    for key, unit in _cpu_units(data).items():
        values = {
            c: [r["cpu"][key] for r in data["runs"] if r["client"] == c and key in r.get("cpu", {})]
            for c in clients
        }
        if not any(values.values()):
            continue
        medians = {c: statistics.median(v) for c, v in values.items() if v}
        ref = medians.get(REFERENCE)
        cells = [key, f"{unit} ↓"]
        for c in clients:
            if c not in medians:
                cells.append("-")
                continue
            text = f"{_fmt(medians[c])} ({_fmt(min(values[c]))}-{_fmt(max(values[c]))})"
            if ref and c != REFERENCE:
                text += f" · {medians[c] / ref:.2f}x ref"
            limit = medians.get(LIMIT)
            if limit and c == "aiodock":
                text += f" · {medians[c] / limit:.2f}x limit"
            cells.append(text)
        rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return []
    head = ["scenario", "unit", *(LABELS.get(c, c) for c in clients)]
    return [
        "Client CPU time (user + system of the client's process, all threads, during the "
        "timed part), per unit of work. It varies much less than wall time when the "
        "machine is busy, and shows each client's own overhead where the daemon is the "
        "bottleneck:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * len(clients)) + "|",
        *rows,
        "",
    ]


def chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summarize(data)
    clients = data["clients"]
    # Rows only the reference has (raw reads) say nothing in a relative chart.
    metrics = [
        m
        for m in METRICS + _stream_metrics(data)
        if m.key in table and set(table[m.key]) - {REFERENCE}
    ]
    colors = {
        "limit": "#000000",
        "aiohttp": "#9e9e9e",
        "aiohttp-json": "#d0d0d0",
        "aiodock": "#1f77b4",
        "aiodocker": "#ff7f0e",
        "docker-py": "#2ca02c",
    }
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(metrics) * len(clients) / 2 + 1.8))
    height = 0.8 / len(clients)
    labels = []
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        labels.append(f"{_title(metric, data)} ({metric.unit})")
        row = table[metric.key]
        for j, client in enumerate(clients):
            cell = row.get(client)
            if cell is None or cell["ratio"] is None:
                continue
            speed = cell["ratio"] if metric.higher_is_better else 1 / cell["ratio"]
            y = i + (j - (len(clients) - 1) / 2) * height
            bar = ax.barh(
                y,
                speed,
                height=height,
                color=colors.get(client, "#333333"),
                hatch="//" if cell["errors"] else None,
                label=LABELS.get(client, client) if client not in seen else None,
            )
            seen.add(client)
            ax.bar_label(
                bar,
                labels=[f"{speed:.2f}" + (" ✗" if cell["errors"] else "")],
                fontsize=7,
                padding=2,
            )
    ax.set_yticks(range(len(metrics)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.xaxis.set_major_locator(FixedLocator([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="#555555", linewidth=0.8)
    ax.set_xlabel("relative to bare aiohttp + orjson (higher is better; hatched ✗ = wrong data)")
    machine = data["machine"]
    when = time.strftime("%Y-%m-%d", time.gmtime(data["started"]))
    ax.set_title(
        f"aiodock vs peers, {when} — {machine['nproc']} CPUs {machine['model']}, "
        f"Linux {machine['kernel']}, load average {machine['load']:.1f}",
        fontsize=9,
    )
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
