"""One `python -m provider <command> …` run in a child process, against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ROOT


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)


def command_runner(command: str, database: str, cwd: Path) -> Callable[..., Awaitable[Run]]:
    """`run(*args, stdin="")` for `provider <command>`: the test's environment without its
    PROVIDER_ settings, so only the test database is configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVIDER_")}
    env |= {"PROVIDER_DATABASE_URL": database, "PYTHONPATH": str(ROOT)}

    async def run(*args: str, stdin: str = "") -> Run:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "provider",
            command,
            *args,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
        assert process.returncode is not None
        return Run(process.returncode, stdout.decode(), stderr.decode())

    return run
