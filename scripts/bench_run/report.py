"""Targets of the issue, checked against one run, and the markdown table of the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The scenarios in the order they run and are reported; `label` is what the table shows.
SCENARIOS: dict[str, str] = {
    "bare": "bare Sanic JSON (ceiling)",
    "discovery": "discovery",
    "jwks": "JWKS",
    "cc_rs256": "client_credentials RS256",
    "cc_es256": "client_credentials ES256",
    "refresh": "refresh_token rotation",
    "userinfo": "userinfo",
    "introspection": "introspection",
    "login": "login (authorize → login → token)",
    "jwks_during_login": "JWKS during logins",
}
RSS_LIMIT_MB = 150.0
# RSS growth over the second half of the long token run above which memory counts as growing.
RSS_GROWTH_MB = 4.0
REFRESH_TARGET_RPS = 1200.0
# Seconds from `provider serve` to a healthy /health on the embedded defaults (issue 18).
COLD_START_TARGET_S = 1.5
JWKS_P99_TARGET_MS = 20.0


@dataclass
class Row:
    scenario: str
    workers: int
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    ratio_to_bare: float | None = None
    target: str = ""
    met: bool | None = None
    notes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return SCENARIOS.get(self.scenario, self.scenario)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, **asdict(self)}


@dataclass(frozen=True)
class Ceilings:
    """What the targets are relative to, for one phase (one worker count)."""

    bare_rps: float | None
    rsa_per_second: float
    argon2_seconds: float
    server_cores: int


def judge(row: Row, ceilings: Ceilings) -> None:
    """Fill in the ratio to bare, the target and whether it was met (never with errors)."""
    if row.rps is not None and ceilings.bare_rps and row.scenario not in ("bare", "login"):
        row.ratio_to_bare = round(row.rps / ceilings.bare_rps, 3)
    goal: float | None = None
    if row.scenario in ("discovery", "jwks"):
        row.target, goal = "≥ 0.9 x bare", 0.9 * (ceilings.bare_rps or 0)
    elif row.scenario == "cc_es256":
        row.target, goal = "≥ 0.5 x bare", 0.5 * (ceilings.bare_rps or 0)
    elif row.scenario in ("userinfo", "introspection"):
        row.target, goal = "≥ 0.4 x bare", 0.4 * (ceilings.bare_rps or 0)
    elif row.scenario == "cc_rs256":
        ceiling = ceilings.rsa_per_second * ceilings.server_cores
        row.target = f"≥ 0.8 x RSA ceiling ({ceiling:,.0f}/s)"
        goal = 0.8 * ceiling
    elif row.scenario == "refresh" and row.workers == 1:
        row.target, goal = f"≥ {REFRESH_TARGET_RPS:,.0f}/s", REFRESH_TARGET_RPS
    elif row.scenario == "login":
        ceiling = ceilings.server_cores / ceilings.argon2_seconds
        row.target = f"≥ 0.85 x {ceilings.server_cores} core/Argon2 ({0.85 * ceiling:.1f}/s)"
        goal = 0.85 * ceiling
    if row.scenario == "jwks_during_login":
        row.target = f"p99 < {JWKS_P99_TARGET_MS:.0f} ms"
        if row.p99_ms is not None:
            row.met = row.p99_ms < JWKS_P99_TARGET_MS and not row.errors
        return
    if goal is None or row.rps is None:
        return
    row.met = row.rps >= goal and not row.errors
    if row.errors:
        row.notes.append("errors: not met whatever the rate")


def judge_memory(workers: list[dict[str, Any]]) -> None:
    """RSS < 150 MB per worker after the long token run, and not growing over its second half."""
    for worker in workers:
        first, last = worker.get("rss_mb_checks", [None, None])[:2]
        if first is None or last is None:
            worker["met"] = None
            continue
        worker["growth_mb"] = round(last - first, 1)
        worker["growing"] = worker["growth_mb"] > RSS_GROWTH_MB
        worker["met"] = last < RSS_LIMIT_MB and not worker["growing"]


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _met(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | workers | req/s | p50 ms | p99 ms | errors | x bare | target | met? |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        rate_digits = 1 if row.scenario == "login" else 0
        lines.append(
            f"| {row.label} | {row.workers} | {_number(row.rps, rate_digits)} "
            f"| {_number(row.p50_ms, 1)} | {_number(row.p99_ms, 1)} "
            f"| {_number(row.errors) if row.errors is not None else '—'} "
            f"| {_number(row.ratio_to_bare, 2)} | {row.target or '—'} | {_met(row.met)} |"
        )
    return "\n".join(lines)


def memory_table(phases: list[dict[str, Any]]) -> str:
    lines = [
        "| workers | worker | token requests | RSS after half MB | RSS after all MB "
        "| growth MB | peak RSS (VmHWM) MB | target | met? |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for phase in phases:
        memory = phase.get("memory", {})
        for n, worker in enumerate(memory.get("workers", [])):
            checks = worker.get("rss_mb_checks", [])
            lines.append(
                f"| {phase['workers']} | {n} | {_number(memory.get('requests'))} "
                f"| {_number(checks[0] if checks else None, 1)} "
                f"| {_number(checks[1] if len(checks) > 1 else None, 1)} "
                f"| {_number(worker.get('growth_mb'), 1)} "
                f"| {_number(worker.get('peak_rss_mb'), 1)} "
                f"| < {RSS_LIMIT_MB:.0f} MB, growth ≤ {RSS_GROWTH_MB:.0f} MB "
                f"| {_met(worker.get('met'))} |"
            )
    return "\n".join(lines)


def cold_start_line(cold: dict[str, Any] | None) -> str:
    if not cold:
        return "Cold start: not measured."
    met = cold["health_s"] < COLD_START_TARGET_S
    return (
        f"Cold start of `provider serve` on the embedded defaults (fresh directory: SQLite "
        f"migrated, key created) to a healthy `/health`: {cold['health_s']:.2f} s, median of "
        f"{cold['tries']} (slowest {cold['health_max_s']:.2f} s); to `/ready` 200: "
        f"{cold['ready_s']:.2f} s. Target < {COLD_START_TARGET_S} s: {_met(met)}."
    )


def markdown(results: dict[str, Any], rows: list[Row]) -> str:
    machine = results["machine"]
    options = results["options"]
    micro = results["micro"]
    rsa, argon2 = micro["rsa"], micro["argon2"]
    params = argon2["params"]
    parts = [
        "# Benchmark results",
        "",
        f"Run {results['date']} with `scripts/bench{' --quick' if options['quick'] else ''}`: "
        f"{options['duration']} s per scenario after {options['warmup']} s of warm-up, "
        f"wrk -t1 -c{options['connections']}, {options['login_concurrency']} virtual users "
        "for the login.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM, "
        f"{machine['kernel']}; Python {machine['python']}, Sanic {machine['sanic']}, "
        f"PostgreSQL {machine['postgresql']}, Redis {machine['redis']}. "
        f"Load average before the run: {machine['loadavg_before']}, after: "
        f"{machine.get('loadavg_after', '—')}.",
        "",
        "Pinning: " + "; ".join(phase["pinning"] for phase in results["phases"]) + ".",
        "",
        f"Ceilings measured on the server's core (CPU time; wall time in brackets): one RS256 "
        f"signature {rsa['cpu_ms']:.2f} ms ({rsa['wall_ms']:.2f} ms), so "
        f"{rsa['per_second']:,.0f}/s per core; one Argon2id verify (t={params['time_cost']}, "
        f"m={params['memory_cost_kib']} KiB, p={params['lanes']}) {argon2['cpu_ms']:.0f} ms "
        f"({argon2['wall_ms']:.0f} ms).",
        "",
        cold_start_line(micro.get("cold_start")),
        "",
        table(rows),
        "",
        "Errors are non-2xx/3xx responses plus socket errors; req/s counts successful responses "
        "only, and a row with errors never meets its target.",
        "",
        "## Memory (long client_credentials ES256 run, RSS per worker)",
        "",
        memory_table(results["phases"]),
        "",
        "The peak (VmHWM) covers the whole phase, the login scenario included, where every "
        f"Argon2id verify in flight holds its {params['memory_cost_kib'] // 1024} MiB.",
    ]
    notes = [
        f"- {row.label}, {row.workers} worker(s): {'; '.join(row.notes)}"
        for row in rows
        if row.notes
    ]
    for phase in results["phases"]:
        log = phase.get("server_log", {})
        if log.get("warnings") or log.get("errors"):
            messages = "; ".join(f"{n}x {m}" for m, n in log.get("by_message", {}).items())
            notes.append(
                f"- server log, {phase['workers']} worker(s): {log.get('errors', 0)} errors, "
                f"{log.get('warnings', 0)} warnings ({messages})"
            )
    if notes:
        parts += ["", "## Notes", "", *notes]
    profiles = [p for p in results["phases"] if p.get("profile")]
    for phase in profiles:
        profile = phase["profile"]
        parts += [
            "",
            f"## Profile: {SCENARIOS.get(profile['scenario'], profile['scenario'])}, "
            f"{phase['workers']} worker(s)",
            "",
            f"py-spy, thread holding the GIL only: {profile['samples']} samples, GIL held "
            f"{profile['gil_busy_pct']}% of the time; collapsed stacks in `{profile['file']}`. "
            "Samples are wall-clock: where the database or Redis shares the worker's core, the "
            "time they run after a query is written can show up in the frame that wrote it "
            "(asyncpg's execute, redis-py's writelines).",
            "",
            "| self % | total % | frame |",
            "|---:|---:|---|",
            *(
                f"| {frame['self_pct']:.1f} | {frame['total_pct']:.1f} | `{frame['frame']}` |"
                for frame in profile["top"]
            ),
            "",
            "Hottest call paths (leaf first):",
            "",
            *(f"- {path['pct']:.1f}% `{path['path']}`" for path in profile["top_paths"]),
        ]
    return "\n".join(parts) + "\n"
