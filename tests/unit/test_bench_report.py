"""The benchmark harness's arithmetic: wrk reports parsed right, targets judged right."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench_run import paced, report, wrk
from scripts.bench_run.report import Ceilings, Row

REPORT = """\
Running 15s test @ http://127.0.0.1:40123/token
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    41.10ms    9.84ms 120.02ms   80.12%
    Req/Sec   780.11     60.13     0.90k    71.33%
  Latency Distribution
     50%   40.08ms
     75%  812.00us
     90%    1.02s
     99%    2.50m
  11702 requests in 15.01s, 9.83MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:    779.61
Transfer/sec:    670.54KB
BENCH_JSON {"tokens_used": 11710, "tokens_available": 150000, "fillers": 0, "exhausted": false}
"""


def test_a_wrk_report_is_parsed_with_its_units_and_errors() -> None:
    result = wrk.parse(REPORT)
    assert result.requests == 11702
    assert result.seconds == pytest.approx(15.01)
    assert result.percentiles_ms == {50: 40.08, 75: 0.812, 90: 1020.0, 99: 150_000.0}
    assert result.non_2xx == 12
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 0, "timeout": 2}
    assert result.errors == 17
    assert result.wrk_rps == pytest.approx(779.61)
    assert result.extra["tokens_used"] == 11710
    # Non-2xx responses are errors, never throughput.
    assert result.ok_rps == pytest.approx((11702 - 12) / 15.01)


def test_a_clean_report_has_no_errors_and_fillers_do_not_count() -> None:
    text = REPORT.replace("  Socket errors: connect 0, read 3, write 0, timeout 2\n", "")
    text = text.replace("  Non-2xx or 3xx responses: 12\n", "").replace(
        '"fillers": 0', '"fillers": 32'
    )
    result = wrk.parse(text)
    assert result.errors == 0
    assert result.ok_rps == pytest.approx((11702 - 32) / 15.01)


def test_something_else_than_a_report_is_an_error() -> None:
    with pytest.raises(wrk.WrkError):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_command_pins_wrk_and_passes_script_arguments() -> None:
    if wrk.shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    args = wrk.command(
        "http://127.0.0.1:1/token",
        cpus="1",
        seconds=15,
        connections=32,
        script="post_form.lua",
        headers=("Authorization: Basic eDp5",),
        script_args=("grant_type=client_credentials",),
    )
    assert args[:3] == ["taskset", "-c", "1"]
    assert args[4:8] == ["-t1", "-c32", "-d15s", "--latency"]
    assert args[-3:] == ["http://127.0.0.1:1/token", "--", "grant_type=client_credentials"]
    assert (wrk.LUA_DIR / "post_form.lua").exists()


CEILINGS = Ceilings(bare_rps=10_000, rsa_per_second=1000, argon2_seconds=0.2, server_cores=1)


@pytest.mark.parametrize(
    ("scenario", "workers", "rps", "met"),
    [
        ("discovery", 1, 9_000, True),
        ("jwks", 1, 8_999, False),
        ("cc_es256", 1, 5_000, True),
        ("cc_rs256", 1, 800, True),
        ("cc_rs256", 1, 799, False),
        ("refresh", 1, 1_200, True),
        ("refresh", 1, 1_199, False),
        ("refresh", 2, 100, None),  # the refresh target is stated for one worker
        ("userinfo", 1, 4_000, True),
        ("introspection", 1, 3_999, False),
        ("login", 1, 4.3, True),  # 0.85 x 1 core / 0.2 s = 4.25
        ("login", 1, 4.2, False),
    ],
)
def test_targets(scenario: str, workers: int, rps: float, met: bool | None) -> None:
    row = Row(scenario=scenario, workers=workers, rps=rps, errors=0)
    report.judge(row, CEILINGS)
    assert row.met is met


def test_errors_never_meet_a_target() -> None:
    row = Row(scenario="discovery", workers=1, rps=20_000, errors=1)
    report.judge(row, CEILINGS)
    assert row.met is False
    assert row.ratio_to_bare == 2.0


def test_jwks_latency_during_logins_and_memory() -> None:
    fast = Row(scenario="jwks_during_login", workers=1, rps=90, p99_ms=19.9, errors=0)
    slow = Row(scenario="jwks_during_login", workers=1, rps=90, p99_ms=20.0, errors=0)
    report.judge(fast, CEILINGS)
    report.judge(slow, CEILINGS)
    assert (fast.met, slow.met) == (True, False)
    workers = [
        {"rss_mb_checks": [100.0, 103.0]},
        {"rss_mb_checks": [100.0, 110.0]},
        {"rss_mb_checks": [149.0, 151.0]},
    ]
    report.judge_memory(workers)
    assert [w["met"] for w in workers] == [True, False, False]
    assert workers[1]["growing"] is True


def test_the_cold_start_is_reported_against_its_target() -> None:
    fast = {"tries": 7, "health_s": 1.21, "health_max_s": 1.4, "ready_s": 1.25}
    slow = {**fast, "health_s": 1.5}
    assert "1.21 s, median of 7 (slowest 1.40 s)" in report.cold_start_line(fast)
    assert report.cold_start_line(fast).endswith(": yes.")
    assert report.cold_start_line(slow).endswith(": **no**.")
    assert report.cold_start_line(None) == "Cold start: not measured."


def test_fixed_rate_latency_counts_from_when_each_request_was_due() -> None:
    tally = paced.Tally(latencies_ms=[float(n) for n in range(1, 101)], non_2xx=1)
    result = paced.summary(tally, rate=700.0, elapsed=0.5, sent=100)
    assert (result["p50_ms"], result["p99_ms"], result["max_ms"]) == (50.0, 99.0, 100.0)
    assert (result["achieved_rps"], result["non_2xx"], result["errors"]) == (200.0, 1, 0)
    assert paced.percentile([], 0.99) is None


def test_refresh_tokens_are_each_sent_once_at_a_fixed_rate(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("first\nsecond\n")
    host, port, request, limit = paced.build_requests(
        "http://127.0.0.1:8123/token", ["Authorization: Basic eA=="], None, tokens
    )
    assert (host, port, limit) == ("127.0.0.1", 8123, 2)
    first = request(0).decode()
    assert first.startswith("POST /token HTTP/1.1\r\nHost: 127.0.0.1:8123\r\n")
    assert "Authorization: Basic eA==\r\n" in first
    assert first.endswith("\r\n\r\ngrant_type=refresh_token&refresh_token=first")
    assert request(1).decode().endswith("refresh_token=second")


def test_the_fixed_rate_table_judges_p99_against_its_target() -> None:
    paced_result = {
        "rate": 700.0,
        "achieved_rps": 699.0,
        "p50_ms": 3.0,
        "non_2xx": 0,
        "errors": 0,
    }
    rows = [
        Row("userinfo", 1, rps=1000, p99_paced_ms=12.5, detail={"paced": paced_result}),
        Row(
            "introspection", 1, "peer", rps=1000, p99_paced_ms=25.0, detail={"paced": paced_result}
        ),
        Row("discovery", 1, rps=9000),
    ]
    lines = report.paced_table(rows).splitlines()
    assert len(lines) == 4
    assert lines[2] == "| userinfo | 1 | ours | 700 (699) | 3.0 | 12.5 | 0 | p99 < 20 ms | yes |"
    assert lines[3].endswith("| 25.0 | 0 | p99 < 20 ms | **no** |")
