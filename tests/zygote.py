"""The test side of a preloaded parent process that forks workers for crash tests.

A zygote script imports the app once, then reads commands on stdin ("run ...", "wait PID",
"quit") and answers one line each; forking from it makes dozens of SIGKILL restarts cheap.
Each crash test subclasses `Zygote` with its own `run` command.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class Zygote:
    """The preloaded parent: `ask` sends one command and reads its answer, `wait` reaps."""

    def __init__(self, script: Path, sandbox: Any) -> None:
        env = {
            **os.environ,
            "DSCO_BASE_URL": sandbox.base_url,
            "DSCO_CLIENT_ID": sandbox.client_id,
            "DSCO_CLIENT_SECRET": sandbox.client_secret,
            "PYTHONPATH": str(REPO),
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def ask(self, line: str, timeout: float = 60.0) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        # A worker that never ends fails the test instead of hanging the suite.
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            raise AssertionError(f"no answer to {line!r} within {timeout:.0f} s")
        return self.proc.stdout.readline().strip()

    def started(self, command: str) -> int:
        """Send a run command and return the forked worker's pid."""
        answer = self.ask(command)
        assert answer.startswith("pid "), answer
        return int(answer.split()[1])

    def wait(self, pid: int) -> int:
        return int(self.ask(f"wait {pid}").split()[1])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
