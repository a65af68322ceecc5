"""The shutdown watchdog needs nothing from the process it guards: with the main thread busy and a
child that ignores SIGTERM, it still ends the child and the process shortly after the grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from provider.ops.shutdown import WATCHDOG_EXIT_CODE, WATCHDOG_MARGIN, is_running
from tests.support import ROOT

GRACE = 0.3

STUCK = f"""
import subprocess, sys
from provider.ops.shutdown import Shutdown
stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
child = subprocess.Popen([sys.executable, "-c", stubborn])
print(child.pid, flush=True)
Shutdown({GRACE}).begin()
while True:  # a loop that never yields, as a stuck event loop
    pass
"""


def test_the_watchdog_ends_the_process_and_its_children_whatever_they_do() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    child = int(process.stdout.readline())
    try:
        code = process.wait(timeout=10)
        elapsed = time.monotonic() - started
        assert code == WATCHDOG_EXIT_CODE
        assert elapsed < GRACE + WATCHDOG_MARGIN + 1.0, elapsed
        deadline = time.monotonic() + 2
        while is_running(child):  # SIGKILLed; init reaps it
            assert time.monotonic() < deadline, "the child outlived the watchdog"
            time.sleep(0.02)
    finally:
        for pid in (child, process.pid):
            if is_running(pid):  # only when the watchdog failed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
