"""The benchmark run: ceilings, then every scenario with 1 worker and again with 2.

Each phase (worker count) starts from an empty database and Redis db, measures the bare Sanic
ceiling with the same pinning, then starts the provider in production mode and runs the
scenarios against it with wrk (or the login driver) pinned to the load core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from provider.crypto.keys import write_key
from scripts.bench_run import peer, peer_browser, profile, report, seed, servers, wrk
from scripts.bench_run.browser import FlowError, sign_in
from scripts.bench_run.report import Ceilings, Row
from scripts.bench_run.servers import ROOT, Server

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/provider_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
# What --scenarios may pick (the bare ceiling always runs; "login" includes the JWKS sampler).
SELECTABLE = (
    "discovery",
    "jwks",
    "cc_rs256",
    "cc_es256",
    "refresh",
    "userinfo",
    "introspection",
    "login",
    "memory",
)
DISCOVERY_PATH = "/.well-known/openid-configuration"
# The JWKS sampler during the login load: this many connections, each pausing this long.
JWKS_SAMPLER_CONNECTIONS = 2
JWKS_SAMPLER_PAUSE_MS = 20

REFRESH_SCOPE = "offline_access"


@dataclass(frozen=True)
class Options:
    quick: bool
    duration: int
    warmup: int
    connections: int
    workers: list[int]
    login_concurrency: int
    login_seconds: int
    login_users: int
    rss_requests: int
    refresh_rate_cap: int
    refresh_sessions: int
    profile: str | None
    scenarios: list[str]
    output: Path
    database_url: str
    redis_url: str
    cpus: list[int]
    # None: measure the peer when node and npm are installed.
    peer: bool | None = None


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Load benchmark of the provider's hot paths (PostgreSQL + Redis + wrk).",
    )
    parser.add_argument("--quick", action="store_true", help="~1 s per scenario, tiny counts")
    parser.add_argument("--duration", type=int, help="seconds per scenario (default 15; quick 1)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up (default 2; quick 0)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts (default 1,2)"
    )
    parser.add_argument(
        "--login-concurrency", type=int, help="virtual users signing in (default 6; quick 2)"
    )
    parser.add_argument("--login-users", type=int, help="accounts the logins cycle through")
    parser.add_argument(
        "--rss-requests", type=int, help="token requests of the memory run (default 100000)"
    )
    parser.add_argument(
        "--refresh-rate-cap",
        type=int,
        help="refresh tokens minted per second of run time (default 10000; quick 1000)",
    )
    parser.add_argument(
        "--refresh-sessions",
        type=int,
        default=1,
        help="sessions the pre-minted refresh families are spread over (default 1)",
    )
    parser.add_argument(
        "--profile",
        choices=[s for s in report.SCENARIOS if s not in ("bare", "jwks_during_login")],
        help="sample the first worker with py-spy during this scenario (1-worker phase)",
    )
    parser.add_argument(
        "--scenarios",
        help=f"comma-separated subset of {','.join(SELECTABLE)} (default: all)",
    )
    parser.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        help="also measure node-oidc-provider 9 in the 1-worker phase (default: when node and "
        "npm are installed)",
    )
    parser.add_argument("--output", type=Path, default=Path("var/bench"), help="results folder")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    scenarios = [s.strip() for s in (args.scenarios or ",".join(SELECTABLE)).split(",")]
    unknown = [s for s in scenarios if s not in SELECTABLE]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose among {', '.join(SELECTABLE)}")
    output = args.output if args.output.is_absolute() else ROOT / args.output
    return Options(
        quick=quick,
        duration=args.duration or (1 if quick else 15),
        warmup=args.warmup if args.warmup is not None else (0 if quick else 2),
        connections=args.connections,
        workers=[int(w) for w in args.workers.split(",") if w.strip()],
        login_concurrency=args.login_concurrency or (2 if quick else 6),
        # A sign-in costs a few hundred ms of Argon2id: a 1 s window would often count none.
        login_seconds=max(args.duration or 0, 2) if quick else (args.duration or 15),
        login_users=args.login_users or (10 if quick else 200),
        rss_requests=args.rss_requests or (400 if quick else 100_000),
        refresh_rate_cap=args.refresh_rate_cap or (1000 if quick else 10_000),
        refresh_sessions=max(args.refresh_sessions, 1),
        profile=args.profile,
        scenarios=scenarios,
        output=output,
        database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        cpus=sorted(os.sched_getaffinity(0)),
        peer=args.peer,
    )


def basic(client: seed.ClientCredentials) -> str:
    pair = f"{client.client_id}:{client.secret}".encode()
    return "Authorization: Basic " + base64.b64encode(pair).decode()


def cpu_plan(available: list[int], workers: int) -> tuple[str, str, bool]:
    """(server CPUs, load CPUs, whether they share): the server gets the first `workers` CPUs,
    the load generators the next one, or the last of the server's when none is left."""
    server = available[:workers]
    rest = [cpu for cpu in available if cpu not in server]
    load = rest[:1] or available[-1:]
    return ",".join(map(str, server)), ",".join(map(str, load)), not rest


class Phase:
    """One worker count: stores reset, bare ceiling, provider scenarios, memory."""

    def __init__(
        self, options: Options, workers: int, micro: dict[str, Any], with_peer: bool = False
    ) -> None:
        self.options = options
        self.workers = workers
        self.server_cpus, self.load_cpus, self.shared = cpu_plan(options.cpus, workers)
        self.dir = options.output / f"workers-{workers}"
        self.micro = micro
        self.rows: list[Row] = []
        self.with_peer = with_peer and workers == 1
        self.peer_rows: list[Row] = []
        self.result: dict[str, Any] = {"workers": workers, "pinning": self.pinning()}
        self.secret_key = seed.random_secret_key()
        self.rps: dict[str, float] = {}
        self._access_token: str | None = None

    def pinning(self) -> str:
        shared = " (shared with the server: numbers are lower than with a free core)"
        return (
            f"{self.workers} worker(s) on CPU {self.server_cpus}, load generators on CPU "
            f"{self.load_cpus}{shared if self.shared else ''}"
        )

    # -- running one scenario ---------------------------------------------------------------

    def wrk(
        self,
        name: str,
        url: str,
        *,
        script: str | None = None,
        headers: tuple[str, ...] = (),
        args: tuple[str, ...] = (),
        warmup_args: tuple[str, ...] | None = None,
        done_file: bool = False,
        server: Server | None = None,
        side: str = "ours",
    ) -> Row:
        """A warm-up run (discarded), then the measured one. With `done_file`, the script's
        last argument is a file it writes when it has nothing left to send (wrk then stops).
        The row carries the server's RSS right after the run."""
        options = self.options
        name = name if side == "ours" else f"{side}-{name}"
        if options.warmup:
            warm_args = args if warmup_args is None else warmup_args
            warm_stop = self.dir / f"{name}.warmup.done" if done_file else None
            warm = wrk.command(
                url,
                cpus=self.load_cpus,
                seconds=options.warmup,
                connections=options.connections,
                script=script,
                headers=headers,
                script_args=(*warm_args, str(warm_stop)) if warm_stop else warm_args,
            )
            wrk.run(warm, self.dir / f"{name}.warmup.txt", options.warmup, warm_stop)
        stop = self.dir / f"{name}.done" if done_file else None
        command = wrk.command(
            url,
            cpus=self.load_cpus,
            seconds=options.duration,
            connections=options.connections,
            script=script,
            headers=headers,
            script_args=(*args, str(stop)) if stop else args,
        )
        sampler = self._start_profile(name, server)
        result = wrk.run(command, self.dir / f"{name}.txt", options.duration, stop)
        self._finish_profile(sampler)
        row = Row(
            scenario=name.removeprefix(f"{side}-"),
            workers=self.workers,
            side=side,
            rps=round(result.ok_rps, 1),
            p50_ms=result.percentiles_ms.get(50),
            p99_ms=result.percentiles_ms.get(99),
            errors=result.errors,
            rss_mb=rss_mb(server),
            detail=result.as_dict(),
        )
        if result.non_2xx:
            row.notes.append(f"{result.non_2xx} non-2xx/3xx responses")
        if any(result.socket_errors.values()):
            row.notes.append(f"socket errors {result.socket_errors}")
        if side == "ours":
            self.rps[name] = result.ok_rps
        return row

    def _start_profile(
        self, name: str, server: Server | None, seconds: int | None = None
    ) -> tuple[subprocess.Popen[bytes], Path, str, int] | None:
        if self.options.profile != name or server is None or self.workers != 1:
            return None
        if not profile.available():
            print("py-spy is not installed (.venv/bin/pip install py-spy): no profile", flush=True)
            return None
        output = self.dir / f"profile-{name}.txt"
        pid = server.worker_pids()[0]
        seconds = seconds or self.options.duration
        process = profile.start(pid, seconds, output, self.load_cpus)
        return process, output, name, seconds

    def _finish_profile(
        self, sampler: tuple[subprocess.Popen[bytes], Path, str, int] | None
    ) -> None:
        if sampler is None:
            return
        process, output, name, seconds = sampler
        _, stderr = process.communicate(timeout=self.options.login_seconds + 120)
        if process.returncode != 0 or not output.exists():
            print(f"py-spy failed: {stderr.decode(errors='replace')[-500:]}", flush=True)
            return
        summary = profile.summarise(output, seconds)
        relative = output.relative_to(self.options.output)
        self.result["profile"] = {"scenario": name, "file": str(relative), **summary}

    def attempt(self, name: str, run: Any, *, side: str = "ours", selector: str = "") -> None:
        """Run one scenario (when it, or `selector`, was chosen); a failure is a row with the
        reason, and the run goes on."""
        if name != "bare" and (selector or name) not in self.options.scenarios:
            return
        rows = self.rows if side == "ours" else self.peer_rows
        print(f"[workers={self.workers}] {Row(name, self.workers, side).label} …", flush=True)
        began = time.monotonic()
        try:
            produced = run()
        except Exception as exc:
            row = Row(name, self.workers, side, notes=[f"failed: {exc}"[:400]])
            print(f"  failed: {exc}", flush=True)
            rows.append(row)
            self.result["failed"] = True
            return
        for row in produced if isinstance(produced, list) else [produced]:
            rows.append(row)
            print(
                f"  {row.label}: {row.rps} req/s, p50 {row.p50_ms} ms, p99 {row.p99_ms} ms, "
                f"errors {row.errors}",
                flush=True,
            )
        print(f"  ({time.monotonic() - began:.1f} s)", flush=True)

    def paced(
        self,
        row: Row,
        url: str,
        *,
        headers: tuple[str, ...] = (),
        body: str | None = None,
        refresh_tokens: Callable[[int], Path] | None = None,
    ) -> None:
        """The same request again at a fixed rate, 70 % of the peak just measured, for as long
        as the measured run: its p99 (counted from when each request was due) goes on the row.
        `refresh_tokens(n)` gives a file of n fresh refresh tokens (each is used once)."""
        if not row.rps or row.errors:
            return
        rate = round(report.PACED_SHARE * row.rps, 1)
        seconds = self.options.duration
        args = [sys.executable, "-m", "scripts.bench_run.paced", url]
        args += ["--rate", str(rate), "--seconds", str(seconds)]
        for header in headers:
            args += ["-H", header]
        if refresh_tokens is not None:
            args += ["--refresh-tokens", str(refresh_tokens(math.ceil(rate * seconds)))]
        elif body is not None:
            args += ["--body", body]
        name = row.scenario if row.side == "ours" else f"{row.side}-{row.scenario}"
        completed = subprocess.run(
            ["taskset", "-c", self.load_cpus, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        (self.dir / f"{name}.paced.txt").write_text(completed.stdout + completed.stderr)
        result = wrk.parse_extra(completed.stdout)
        if completed.returncode != 0 or not result:
            row.notes.append(f"fixed-rate run failed: {completed.stderr.strip()[-300:]}")
            return
        row.detail["paced"] = result
        row.p99_paced_ms = result["p99_ms"]
        if result["non_2xx"] or result["errors"]:
            row.notes.append(
                f"fixed-rate run: {result['non_2xx']} non-2xx, {result['errors']} socket errors"
            )
        if result["achieved_rps"] < 0.95 * rate:
            row.notes.append(
                f"fixed-rate run reached {result['achieved_rps']:,.0f} of {rate:,.0f} req/s"
            )
        print(
            f"  at {rate:,.0f} req/s (70 % of the peak): p50 {result['p50_ms']} ms, "
            f"p99 {result['p99_ms']} ms",
            flush=True,
        )

    # -- the phase ----------------------------------------------------------------------------

    def run(self) -> list[Row]:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        options = self.options
        print(f"[workers={self.workers}] resetting the database and Redis, seeding …", flush=True)
        began = time.monotonic()
        asyncio.run(seed.reset_stores(options.database_url, options.redis_url))
        self.seeded = asyncio.run(
            seed.seed(options.database_url, self.secret_key.encode(), options.login_users)
        )
        print(f"  done ({time.monotonic() - began:.1f} s)", flush=True)
        self.attempt("bare", self.bare)
        began = time.monotonic()
        provider = self.start_provider()
        print(
            f"[workers={self.workers}] provider up ({time.monotonic() - began:.1f} s)", flush=True
        )
        try:
            self.scenarios(provider)
            self.result["worker_memory"] = [
                {"pid": pid, **servers.memory_mb(pid)} for pid in provider.worker_pids()
            ]
        finally:
            provider.stop()
        self.result["server_log"] = summarise_log(provider.log())
        if self.with_peer:
            self.run_peer()
        bare = next((r.rps for r in self.rows if r.scenario == "bare" and r.rps), None)
        ceilings = Ceilings(
            bare_rps=bare,
            rsa_per_second=self.micro["rsa"]["per_second"],
            argon2_seconds=self.micro["argon2"]["cpu_ms"] / 1000,
            server_cores=len(self.server_cpus.split(",")),
        )
        for row in self.rows:
            report.judge(row, ceilings)
        report.judge_memory(self.result.get("memory", {}).get("workers", []))
        return self.rows + self.peer_rows

    def bare(self) -> Row:
        port = servers.free_port()
        server = servers.start(
            "bare Sanic",
            [
                str(ROOT / "scripts" / "bench_bare.py"),
                *("--port", str(port), "--workers", str(self.workers)),
            ],
            cpus=self.server_cpus,
            port=port,
            workers=self.workers,
            env={},
            cwd=self.dir / "bare",
            log_path=self.dir / "bare.log",
            ready_path="/",
        )
        try:
            return self.wrk("bare", server.url + "/", server=server)
        finally:
            server.stop()

    def provider_env(self, port: int) -> dict[str, str]:
        return {
            "PROVIDER_ENV": "prod",
            "PROVIDER_SECRET_KEY": self.secret_key,
            "PROVIDER_ISSUER": f"http://127.0.0.1:{port}",
            "PROVIDER_HOST": "127.0.0.1",
            "PROVIDER_PORT": str(port),
            "PROVIDER_DATABASE_URL": self.options.database_url,
            "PROVIDER_REDIS_URL": self.options.redis_url,
            "PROVIDER_KEYS_DIR": str(self.options.output / "keys"),
            "PROVIDER_LOG_FORMAT": "json",
            "PROVIDER_LOG_LEVEL": "WARNING",
            # The checks still run (Redis round trips included); only the thresholds are out of
            # reach, or every account would be refused after 10 sign-ins a minute.
            "PROVIDER_RATELIMIT_LOGIN_PER_IP": "100000000",
            "PROVIDER_RATELIMIT_LOGIN_PER_ACCOUNT": "100000000",
            "PROVIDER_GRACEFUL_SHUTDOWN_TIMEOUT": "2",
            # Every client is seeded before the start and changed only through the provider.
            "PROVIDER_CLIENT_CACHE": "true",
        }

    def start_provider(self) -> Server:
        port = servers.free_port()
        return servers.start(
            "provider",
            ["-m", "provider", "serve", "--workers", str(self.workers)],
            cpus=self.server_cpus,
            port=port,
            workers=self.workers,
            env=self.provider_env(port),
            cwd=self.dir / "server",
            log_path=self.dir / "server.log",
            ready_path="/health",
        )

    def scenarios(self, server: Server) -> None:
        url = server.url
        seeded = self.seeded
        self.attempt(
            "discovery", lambda: self.wrk("discovery", url + DISCOVERY_PATH, server=server)
        )
        self.attempt("jwks", lambda: self.wrk("jwks", url + "/jwks", server=server))
        self.attempt(
            "cc_rs256", lambda: self.client_credentials("cc_rs256", seeded.rs256_client, server)
        )
        self.attempt(
            "cc_es256", lambda: self.client_credentials("cc_es256", seeded.es256_client, server)
        )
        self.attempt("refresh", lambda: self.refresh(server))
        self.attempt("userinfo", lambda: self.userinfo(server, self.access_token(server)))
        self.attempt(
            "introspection",
            lambda: self.introspection(server, self.access_token(server), seeded.code_client),
        )
        self.attempt("login", lambda: self.login(server, seeded.code_client))
        self.attempt("memory", lambda: self.memory(server))

    def client_credentials(
        self, name: str, client: seed.ClientCredentials, server: Server, side: str = "ours"
    ) -> Row:
        headers = (basic(client),)
        body = "grant_type=client_credentials"
        row = self.wrk(
            name,
            server.url + "/token",
            script="post_form.lua",
            headers=headers,
            args=(body,),
            server=server,
            side=side,
        )
        self.paced(row, server.url + "/token", headers=headers, body=body)
        return row

    def refresh(self, server: Server) -> Row:
        options = self.options
        tokens = asyncio.run(_sign_in(server.url, self.seeded))
        sid = _claims(tokens["access_token"])["sid"]
        warm_count, main_count = self.refresh_token_counts()
        minted = asyncio.run(
            seed.mint_refresh_tokens(
                options.database_url,
                session_id=sid,
                client_id=self.seeded.refresh_client.client_id,
                scope=REFRESH_SCOPE,
                count=warm_count + main_count,
                sessions=options.refresh_sessions,
            )
        )
        warm_file = seed.write_lines(self.dir / "refresh-tokens.warmup", minted[:warm_count])
        main_file = seed.write_lines(self.dir / "refresh-tokens", minted[warm_count:])
        row = self.wrk(
            "refresh",
            server.url + "/token",
            script="refresh.lua",
            headers=(basic(self.seeded.refresh_client),),
            args=(str(main_file),),
            warmup_args=(str(warm_file),),
            done_file=True,
            server=server,
        )
        row.detail["scope"] = REFRESH_SCOPE
        row.detail["sessions"] = options.refresh_sessions
        _note_exhausted(row)

        def fresh_tokens(count: int) -> Path:
            more = asyncio.run(
                seed.mint_refresh_tokens(
                    options.database_url,
                    session_id=sid,
                    client_id=self.seeded.refresh_client.client_id,
                    scope=REFRESH_SCOPE,
                    count=count,
                    sessions=options.refresh_sessions,
                )
            )
            return seed.write_lines(self.dir / "refresh-tokens.paced", more)

        self.paced(
            row,
            server.url + "/token",
            headers=(basic(self.seeded.refresh_client),),
            refresh_tokens=fresh_tokens,
        )
        return row

    def refresh_token_counts(self) -> tuple[int, int]:
        """How many refresh tokens the warm-up and the measured run may use."""
        options = self.options
        return (
            options.warmup * options.refresh_rate_cap,
            options.duration * options.refresh_rate_cap,
        )

    def access_token(self, server: Server) -> str:
        """One access token (with a live session behind it) from a real sign-in, made once."""
        if self._access_token is None:
            tokens = asyncio.run(_sign_in(server.url, self.seeded))
            self._access_token = str(tokens["access_token"])
        return self._access_token

    def userinfo(self, server: Server, token: str, side: str = "ours") -> Row:
        headers = ("Authorization: Bearer " + token,)
        row = self.wrk(
            "userinfo", server.url + "/userinfo", headers=headers, server=server, side=side
        )
        self.paced(row, server.url + "/userinfo", headers=headers)
        return row

    def introspection(
        self, server: Server, token: str, client: seed.ClientCredentials, side: str = "ours"
    ) -> Row:
        headers, body = (basic(client),), "token=" + token
        row = self.wrk(
            "introspection",
            server.url + "/introspect",
            script="post_form.lua",
            headers=headers,
            args=(body,),
            server=server,
            side=side,
        )
        self.paced(row, server.url + "/introspect", headers=headers, body=body)
        return row

    def login(
        self, server: Server, client: seed.ClientCredentials, side: str = "ours"
    ) -> list[Row]:
        """Virtual users signing in again and again (the login driver), with a paced JWKS
        sampler beside them; `side` picks the flow the driver follows."""
        options = self.options
        prefix = "" if side == "ours" else f"{side}-"
        config = {
            "url": server.url,
            "flow": side,
            "client": {
                "client_id": client.client_id,
                "secret": client.secret,
                "redirect_uri": client.redirect_uri,
            },
            "emails": self.seeded.login_emails,
            "password": self.seeded.password,
            "concurrency": options.login_concurrency,
            "warmup": options.warmup,
            "duration": options.login_seconds,
        }
        config_path = self.dir / f"{prefix}login.json"
        config_path.write_text(json.dumps(config))
        driver = subprocess.Popen(
            [
                *("taskset", "-c", self.load_cpus, sys.executable),
                *("-m", "scripts.bench_run.login_load", str(config_path)),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        sampler_log = self.dir / f"{prefix}jwks_during_login.txt"
        sampler: subprocess.Popen[str] | None = None
        try:
            time.sleep(options.warmup)
            sampler = wrk.start(
                wrk.command(
                    server.url + "/jwks",
                    cpus=self.load_cpus,
                    seconds=options.login_seconds,
                    connections=JWKS_SAMPLER_CONNECTIONS,
                    script="paced_get.lua",
                    script_args=(str(JWKS_SAMPLER_PAUSE_MS),),
                ),
                sampler_log,
            )
            prof = self._start_profile(f"{prefix}login", server, options.login_seconds)
            out, err = driver.communicate(timeout=options.warmup + options.login_seconds + 180)
            self._finish_profile(prof)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.wait()
        (self.dir / f"{prefix}login.txt").write_text(out + err)
        if driver.returncode != 0:
            raise RuntimeError(f"login driver exited with {driver.returncode}: {err[-800:]}")
        result = json.loads(out.strip().splitlines()[-1])
        login = Row(
            scenario="login",
            workers=self.workers,
            side=side,
            rps=result["rps"],
            p50_ms=result["p50_ms"],
            p99_ms=result["p99_ms"],
            errors=result["errors"],
            rss_mb=rss_mb(server),
            detail=result,
        )
        if result["errors"]:
            login.notes.append(f"errors by step: {result['errors_by_step']}")
        rows = [login]
        jwks_result = wrk.finish(sampler, sampler_log, timeout_s=options.login_seconds + 60)
        rows.append(
            Row(
                scenario="jwks_during_login",
                workers=self.workers,
                side=side,
                rps=round(jwks_result.ok_rps, 1),
                p50_ms=jwks_result.percentiles_ms.get(50),
                p99_ms=jwks_result.percentiles_ms.get(99),
                errors=jwks_result.errors,
                detail=jwks_result.as_dict(),
            )
        )
        return rows

    def memory(self, server: Server) -> list[Row]:
        """RSS of each worker after half and after all of a long client_credentials run."""
        options = self.options
        half = max(options.rss_requests // 2, 1)
        rate = max(self.rps.get("cc_es256", 0.0), 20.0)
        bound = min(math.ceil(half / (0.5 * rate)) + 10, 3600)
        client = self.seeded.es256_client
        pids = server.worker_pids()
        checks: dict[int, list[float]] = {pid: [] for pid in pids}
        seen = 0
        runs = []
        for n in range(2):
            stop = self.dir / f"memory-{n + 1}.done"
            command = wrk.command(
                server.url + "/token",
                cpus=self.load_cpus,
                seconds=bound,
                connections=options.connections,
                script="post_form.lua",
                headers=(basic(client),),
                script_args=("grant_type=client_credentials", str(half), str(stop)),
            )
            result = wrk.run(command, self.dir / f"memory-{n + 1}.txt", bound, stop)
            seen += int(result.extra.get("responses", result.requests))
            runs.append(result.as_dict())
            for pid in pids:
                checks[pid].append(servers.memory_mb(pid)["rss_mb"])
        self.result["memory"] = {
            "client": "client_credentials ES256",
            "requests": seen,
            "runs": runs,
            "workers": [
                {"pid": pid, "rss_mb_checks": checks[pid], **servers.memory_mb(pid)} for pid in pids
            ],
        }
        print(f"  RSS per worker after {seen} token requests: {checks}", flush=True)
        return []

    # -- the peer ---------------------------------------------------------------------------

    def run_peer(self) -> None:
        """node-oidc-provider with clients, keys, lifetimes and accounts like the provider's,
        pinned to the same core, through the same scenarios."""
        seeded = self.seeded
        clients = peer.new_clients()
        settings = peer.config(
            port=servers.free_port(),
            keys=peer.signing_keys(self.options.output / "keys"),
            clients=clients,
            emails=[seeded.bench_email, *seeded.login_emails],
            password_hash=seeded.password_hash,
            cookie_key=secrets.token_urlsafe(32),
        )
        began = time.monotonic()
        try:
            server = peer.start(settings, cpus=self.server_cpus, folder=self.dir)
        except RuntimeError as exc:
            print(f"[workers={self.workers}] node-oidc-provider did not start: {exc}", flush=True)
            self.result["peer_failed"] = str(exc)[-2000:]
            self.result["failed"] = True
            return
        print(
            f"[workers={self.workers}] node-oidc-provider up ({time.monotonic() - began:.1f} s)",
            flush=True,
        )
        try:
            self.peer_scenarios(server, clients)
            self.result["peer_memory"] = servers.memory_mb(server.process.pid)
        finally:
            server.stop()
        self.result["peer_log"] = server.log()[-2000:]

    def peer_scenarios(self, server: Server, clients: peer.PeerClients) -> None:
        url = server.url
        token = ""

        def user_token() -> str:
            nonlocal token
            if not token:
                token = asyncio.run(_peer_sign_in(url, clients.code, self.seeded))
            return token

        def attempt(name: str, run: Any, selector: str = "") -> None:
            self.attempt(name, run, side="peer", selector=selector)

        attempt(
            "discovery",
            lambda: self.wrk("discovery", url + DISCOVERY_PATH, server=server, side="peer"),
        )
        attempt("jwks", lambda: self.wrk("jwks", url + "/jwks", server=server, side="peer"))
        for name, client in (("cc_opaque", clients.opaque), ("cc_jwt", clients.jwt)):
            attempt(
                name,
                lambda name=name, client=client: self.client_credentials(
                    name, client, server, side="peer"
                ),
                selector="cc_rs256",
            )
        attempt("userinfo", lambda: self.userinfo(server, user_token(), side="peer"))
        attempt(
            "introspection",
            lambda: self.introspection(server, user_token(), clients.code, side="peer"),
        )
        attempt("login", lambda: self.login(server, clients.code, side="peer"))
        # Last: the peer holds its stock of minted refresh tokens in its own memory, which
        # would weigh on the RSS of every scenario after it (ours are rows in PostgreSQL).
        attempt("refresh", lambda: self.peer_refresh(server, clients.refresh))

    def peer_refresh(self, server: Server, client: seed.ClientCredentials) -> Row:
        """Rotation of refresh tokens the peer minted in bulk, each with its own grant."""
        warm_count, main_count = self.refresh_token_counts()
        minted = peer.mint_refresh_tokens(server.url, warm_count + main_count)
        warm_file = seed.write_lines(self.dir / "peer-refresh-tokens.warmup", minted[:warm_count])
        main_file = seed.write_lines(self.dir / "peer-refresh-tokens", minted[warm_count:])
        row = self.wrk(
            "refresh",
            server.url + "/token",
            script="refresh.lua",
            headers=(basic(client),),
            args=(str(main_file),),
            warmup_args=(str(warm_file),),
            done_file=True,
            server=server,
            side="peer",
        )
        _note_exhausted(row)

        def fresh_tokens(count: int) -> Path:
            more = peer.mint_refresh_tokens(server.url, count)
            return seed.write_lines(self.dir / "peer-refresh-tokens.paced", more)

        self.paced(
            row, server.url + "/token", headers=(basic(client),), refresh_tokens=fresh_tokens
        )
        return row


def rss_mb(server: Server | None) -> float | None:
    """Resident memory of the server's request-serving processes, summed, in MB."""
    if server is None:
        return None
    return round(sum(servers.memory_mb(pid)["rss_mb"] for pid in server.worker_pids()), 1)


def _note_exhausted(row: Row) -> None:
    script = row.detail.get("script", {})
    if script.get("exhausted"):
        row.notes.append(
            f"all {script.get('tokens_available')} tokens used in "
            f"{row.detail['seconds']:.1f} s, before the end of the run (the rate is over "
            "that time; raise --refresh-rate-cap for a full-length run)"
        )


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


async def _sign_in(url: str, seeded: seed.Seeded) -> dict[str, Any]:
    """The tokens of one real sign-in of the bench account. Retried a few times: right after a
    saturating scenario the provider may still serve its cache from memory (Redis timed out),
    and a sign-in flow that straddles that switch is lost."""
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for _ in range(5):
            try:
                return await sign_in(http, seeded.code_client, seeded.bench_email, seeded.password)
            except FlowError as exc:
                failures.append(str(exc))
                print(f"  sign-in for the set-up failed, retrying: {exc}", flush=True)
                await asyncio.sleep(3)
    raise RuntimeError("sign-in for the set-up failed: " + "; ".join(failures))


async def _peer_sign_in(url: str, client: seed.ClientCredentials, seeded: seed.Seeded) -> str:
    """The access token of one sign-in of the bench account at the peer (opaque, userinfo's)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        tokens = await peer_browser.sign_in(http, client, seeded.bench_email, seeded.password)
    return str(tokens["access_token"])


def summarise_log(text: str) -> dict[str, Any]:
    """Warnings and errors the server logged (JSON lines), counted by message."""
    counts: dict[str, int] = {}
    other = 0
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            other += "Traceback" in line
            continue
        if not isinstance(entry, dict) or entry.get("level") not in ("warning", "error"):
            continue
        key = f"{entry['level']}: {entry.get('logger', '')}: {entry.get('message', '')}"[:200]
        counts[key] = counts.get(key, 0) + 1
    return {
        "warnings": sum(n for k, n in counts.items() if k.startswith("warning")),
        "errors": sum(n for k, n in counts.items() if k.startswith("error")) + other,
        "by_message": dict(sorted(counts.items(), key=lambda item: -item[1])[:10]),
    }


def _pinned_report(
    options: Options, module: str, *args: str, on_load_cpus: bool = False
) -> dict[str, Any]:
    """Run `module` pinned like the one-worker server (or, with `on_load_cpus`, where its load
    generators run); its last output line is a JSON report."""
    server_cpus, load_cpus, _ = cpu_plan(options.cpus, 1)
    completed = subprocess.run(
        [
            *("taskset", "-c", load_cpus if on_load_cpus else server_cpus),
            *(sys.executable, "-m", module, *args),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def micro_benchmarks(options: Options, keys_dir: Path) -> dict[str, Any]:
    signatures, verifies = (30, 2) if options.quick else (300, 10)
    return _pinned_report(
        options, "scripts.bench_run.micro", str(keys_dir), str(signatures), str(verifies)
    )


def cold_start(options: Options) -> dict[str, Any]:
    """`provider serve` on the embedded defaults, pinned like the one-worker server; the poller
    that waits for its first 200 runs on the load generators' core."""
    server_cpus, _, _ = cpu_plan(options.cpus, 1)
    tries = str(3 if options.quick else 7)
    return _pinned_report(
        options, "scripts.bench_run.cold_start", tries, server_cpus, on_load_cpus=True
    )


def machine(options: Options) -> dict[str, Any]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    import sanic

    return {
        "cpu": cpu,
        "cores": len(options.cpus),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sanic": sanic.__version__,
        "wrk": subprocess.run(
            [wrk.wrk_path(), "-v"], capture_output=True, text=True, check=False
        ).stdout.split(" [")[0],
        **asyncio.run(_service_versions(options)),
        "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


async def _service_versions(options: Options) -> dict[str, str]:
    import asyncpg
    import redis.asyncio as redis

    conn = await asyncpg.connect(seed.asyncpg_dsn(options.database_url, "postgres"))
    try:
        postgresql = str(await conn.fetchval("SHOW server_version")).split(" ")[0]
    finally:
        await conn.close()
    client = redis.Redis.from_url(options.redis_url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    return {"postgresql": postgresql, "redis": str(info.get("redis_version", "?"))}


def prepare_peer(options: Options) -> dict[str, Any]:
    """Install the peer when it is to be measured: {"versions": …}, or {"skipped": why}."""
    if options.peer is False:
        return {"skipped": "--no-peer"}
    if 1 not in options.workers:
        return {"skipped": "the peer runs beside the 1-worker phase, and --workers has no 1"}
    missing = peer.tools_missing()
    if missing and options.peer is None:
        print(f"bench: {missing}: the peer (node-oidc-provider) is not measured", flush=True)
        return {"skipped": missing}
    print("installing the peer (node-oidc-provider) …", flush=True)
    try:
        versions = peer.install()
    except peer.PeerUnavailable as exc:
        print(f"bench: the peer (node-oidc-provider) is not measured: {exc}", flush=True)
        return {"skipped": str(exc)}
    print(f"  node-oidc-provider {versions['oidc_provider']} on Node.js {versions['node']}")
    return {"versions": versions}


def check_prerequisites() -> str | None:
    if shutil.which("wrk") is None:
        return wrk.MISSING_WRK
    if shutil.which("taskset") is None:
        return "taskset is not installed: apt-get install util-linux"
    if len(os.sched_getaffinity(0)) < 2:
        return "the benchmark needs at least 2 CPUs (one for the server, one for the load)"
    return None


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    problem = check_prerequisites()
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    options.output.mkdir(parents=True, exist_ok=True)
    keys_dir = options.output / "keys"
    shutil.rmtree(keys_dir, ignore_errors=True)
    write_key(keys_dir, "RS256", active_from=time.time())
    write_key(keys_dir, "ES256", active_from=time.time())
    started = datetime.now(UTC)
    try:
        about = machine(options)
    except Exception as exc:
        print(f"bench: PostgreSQL or Redis is not reachable: {exc}", file=sys.stderr)
        return 2
    # The orchestrator only waits on its children: keep it off the server's core.
    os.sched_setaffinity(0, {int(cpu) for cpu in cpu_plan(options.cpus, 1)[1].split(",")})
    print("measuring the RS256 and Argon2id ceilings …", flush=True)
    micro = micro_benchmarks(options, keys_dir)
    print("measuring the cold start …", flush=True)
    micro["cold_start"] = cold_start(options)
    peer_state = prepare_peer(options)
    rows: list[Row] = []
    phases: list[dict[str, Any]] = []
    for workers in options.workers:
        phase = Phase(options, workers, micro, with_peer="skipped" not in peer_state)
        rows += phase.run()
        phases.append(phase.result)
    about["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": about,
        "options": {
            "quick": options.quick,
            "duration": options.duration,
            "warmup": options.warmup,
            "connections": options.connections,
            "workers": options.workers,
            "login_concurrency": options.login_concurrency,
            "login_seconds": options.login_seconds,
            "login_users": options.login_users,
            "rss_requests": options.rss_requests,
            "refresh_rate_cap": options.refresh_rate_cap,
            "refresh_sessions": options.refresh_sessions,
            "scenarios": options.scenarios,
            "peer": options.peer,
        },
        "micro": micro,
        "peer": peer_state,
        "phases": phases,
        "scenarios": [row.as_dict() for row in rows],
    }
    text = report.markdown(results, rows)
    (options.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (options.output / "results.md").write_text(text)
    print()
    print(text)
    failed = [phase["workers"] for phase in phases if phase.get("failed")]
    if failed:
        print(f"bench: some scenarios failed (workers={failed}); see above", file=sys.stderr)
        return 1
    return 0
