"""Shutdown that always ends.

The first SIGTERM/SIGINT starts a drain: `/ready` answers 503, the listener closes, keep-alive
connections get `Connection: close` on their next response, in-flight requests get the grace period
(`GRACEFUL_SHUTDOWN_TIMEOUT`) and background work what is left of it. A watchdog thread, which
needs nothing from the event loop, ends the whole process tree shortly after the grace period
whatever state any process is in; a second signal ends it at once. A signal before the server
serves (migrations, pools opening) ends it at once too: nothing is in flight yet.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("provider.shutdown")
# After the grace period, this long for the last log lines before the watchdog pulls the plug.
WATCHDOG_MARGIN = 0.5
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Exit status when the watchdog had to end what the grace period did not.
WATCHDOG_EXIT_CODE = 70

SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Every process, with the fields of its /proc/<pid>/stat that follow the command name
    (state, parent, process group, session, …)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # The command name is in parentheses and may hold spaces; the fields after it are fixed.
        yield int(entry.name), stat[stat.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, …), read from /proc."""
    children: dict[int, list[int]] = {}
    for child, fields in process_stats():
        children.setdefault(int(fields[1]), []).append(child)
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def is_running(pid: int) -> bool:
    """False once `pid` has ended, even while it waits (as a zombie) for its parent to reap it."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def exit_process_tree(code: int) -> None:
    """SIGKILL every descendant (multiprocessing children included), then leave without cleanup."""
    # Reading /proc releases the GIL at every system call; a stuck main thread that spins in
    # Python code would hold it for a whole switch interval (5 ms) each time, seconds for a
    # few hundred processes. A short interval hands it back at once.
    sys.setswitchinterval(1e-5)
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    os._exit(code)


class Shutdown:
    """The drain state of one process and its watchdog."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._lock = threading.Lock()
        self._deadline: float | None = None

    @property
    def draining(self) -> bool:
        return self._deadline is not None

    def remaining(self) -> float:
        """Seconds left of the grace period (all of it while not draining)."""
        if self._deadline is None:
            return self.grace
        return max(0.0, self._deadline - time.monotonic())

    def begin(self) -> bool:
        """Start draining and arm the watchdog; False when a drain had already begun."""
        with self._lock:
            if self._deadline is not None:
                return False
            self._deadline = time.monotonic() + self.grace
        watchdog = threading.Timer(self.grace + WATCHDOG_MARGIN, self._expire)
        watchdog.daemon = True
        watchdog.name = "shutdown-watchdog"
        watchdog.start()
        return True

    def _expire(self) -> None:
        log.error("grace period over; ending the process tree", extra={"grace": self.grace})
        exit_process_tree(WATCHDOG_EXIT_CODE)

    def on_signal(self, signum: int, then: Callable[[], object]) -> None:
        """First signal: drain and call `then` (the server's own stop); second: exit at once."""
        if self.begin():
            log.info("draining", extra={"signal": signal.Signals(signum).name})
            then()
            return
        log.warning("second signal; exiting now", extra={"signal": signal.Signals(signum).name})
        exit_process_tree(128 + signum)


def exit_at_once_on_signal() -> None:
    """Until the server serves, SIGTERM/SIGINT end the process (and any child) immediately."""

    def handler(signum: int, frame: FrameType | None) -> None:
        exit_process_tree(128 + signum)

    for signum in EXIT_SIGNALS:
        signal.signal(signum, handler)


def exit_when_ended(pids: list[int]) -> None:
    """Once every process in `pids` has ended, end the rest of the tree and exit with 0."""

    def watch() -> None:
        while any(is_running(pid) for pid in pids):
            time.sleep(0.05)
        exit_process_tree(0)

    threading.Thread(target=watch, name="workers-ended", daemon=True).start()


def guard_signal_handlers(
    shutdown: Shutdown, workers: Callable[[], list[int]], listeners: Sequence[socket.socket]
) -> None:
    """Wrap the handlers installed so far (the worker manager's) with the drain and watchdog.

    The manager's own handler tells the `workers` to drain. The manager then closes its copies of
    the `listeners`: the workers keep theirs (and serve on them for DRAIN_DELAY), and once they
    have closed them too, new connections are refused instead of waiting in a backlog nobody
    accepts from. Once the workers have ended, nothing is left to wait for: the manager ends its
    other children (multiprocessing's state and resource processes) and exits, instead of polling
    their shared state until its own timeout.
    """
    for signum in EXIT_SIGNALS:
        previous: SignalHandler = signal.getsignal(signum)

        def handler(
            signum: int, frame: FrameType | None, previous: SignalHandler = previous
        ) -> None:
            def stop() -> None:
                running = workers()
                if callable(previous):
                    previous(signum, frame)
                for listener in listeners:
                    listener.close()
                exit_when_ended(running)

            shutdown.on_signal(signum, stop)

        signal.signal(signum, handler)
