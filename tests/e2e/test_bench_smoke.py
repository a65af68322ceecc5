"""`scripts/bench --quick` end to end: every scenario yields a row, the results files are written.

Not timed and nothing asserted about speed: the point is that the harness runs. It needs
PostgreSQL and Redis (the test ones) and wrk; it uses its own database next to the test one.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from scripts.bench_run.report import COMPARISON, SCENARIOS
from scripts.bench_run.seed import asyncpg_dsn
from tests.support import ROOT

pytestmark = pytest.mark.e2e

IN_CI = os.environ.get("CI", "").lower() == "true"


def _requirement(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture
def bench_database() -> str:
    """A database beside the test database (the bench drops and re-creates it)."""
    url = os.environ.get("PROVIDER_TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        _requirement("the benchmark needs PostgreSQL (PROVIDER_TEST_DATABASE_URL)")
    if not os.environ.get("PROVIDER_TEST_REDIS_URL"):
        _requirement("the benchmark needs Redis (PROVIDER_TEST_REDIS_URL)")
    if shutil.which("wrk") is None:
        _requirement("wrk is not installed (apt-get install wrk)")
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("the benchmark needs 2 CPUs")
    name = urlsplit(url).path.lstrip("/") + "_bench"
    return urlsplit(url)._replace(path="/" + name).geturl()


async def _drop(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    conn = await asyncpg.connect(asyncpg_dsn(database_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def test_quick_bench_reports_every_scenario(bench_database: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": bench_database,
        "BENCH_REDIS_URL": os.environ["PROVIDER_TEST_REDIS_URL"],
        "PYTHONPATH": str(ROOT),
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "scripts.bench_run", "--quick", "--output", str(tmp_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        asyncio.run(_drop(bench_database))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]

    results = json.loads((tmp_path / "results.json").read_text())
    rows = {(row["side"], row["scenario"], row["workers"]): row for row in results["scenarios"]}
    for workers in (1, 2):
        for scenario in SCENARIOS:
            row = rows.get(("ours", scenario, workers))
            assert row is not None, (scenario, workers, output[-4000:])
            assert isinstance(row["rps"], int | float), row
            assert row["errors"] is not None, row
    # The peer runs when npm could install it; otherwise the run says why it did not.
    peer = results["peer"]
    assert "versions" in peer or peer["skipped"], peer
    if "versions" in peer:
        for _, _, scenario in COMPARISON:
            row = rows.get(("peer", scenario, 1))
            assert row is not None, (scenario, output[-4000:])
            assert isinstance(row["rps"], int | float), row
            assert row["errors"] is not None, row
        assert not any(side == "peer" and workers == 2 for side, _, workers in rows)
    for ceiling in ("rsa", "argon2"):
        assert results["micro"][ceiling], results["micro"]
    cold = results["micro"]["cold_start"]
    assert 0 < cold["health_s"] <= cold["ready_s"], cold
    for phase in results["phases"]:
        assert len(phase["memory"]["workers"]) == phase["workers"], phase
        for worker in phase["memory"]["workers"]:
            assert len(worker["rss_mb_checks"]) == 2, worker
            assert worker["peak_rss_mb"] > 0, worker
    table = (tmp_path / "results.md").read_text()
    assert "| scenario | workers | req/s |" in table
    assert "Cold start of `provider serve`" in table
    assert "## Side by side with node-oidc-provider" in table
