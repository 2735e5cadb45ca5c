"""The SQL tests' throwaway PostgreSQL with the interface of ``hft.testing.services``: a clean stop and a SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.adapters.sql.servers import ThrowawayPostgres

from hft.testing.services import STOP_TIMEOUT_SECONDS

# postmaster.pid: pid, data directory, start time, port, socket directory, listen address, "shmkey shmid", status.
SHARED_MEMORY_LINE = 6


class PostgresServer(ThrowawayPostgres):
    """A PostgreSQL server of the test's own (``url``), to stop cleanly or kill, and start again on the same port."""

    def start(self) -> None:
        """Start the server and wait until it accepts connections; raise with its log if it does not."""
        try:
            super().start()
        except subprocess.CalledProcessError as error:
            log = (self.directory / "server.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"PostgreSQL did not start: {error.stdout!r} {error.stderr!r}\n{log}") from error

    def stop(self) -> None:
        """Shut down the fast way: sessions are ended, a checkpoint is written, then the server exits."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once (their process group); the next start recovers the WAL.

        What a dead postmaster leaves behind is cleared here, as an operator would
        after a crash: its lock files and its System V shared memory segment. The
        postmaster is not our child, so it stays a zombie until init reaps it, and
        PostgreSQL would take its lock files for a running server until then.
        """
        lock = (self.data / "postmaster.pid").read_text().splitlines()
        postmaster = int(lock[0])
        # pg_ctl starts the postmaster in a session of its own, so its process group is the whole server.
        os.killpg(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _alive(postmaster):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL {postmaster} still runs after SIGKILL")
            time.sleep(0.005)
        if len(lock) > SHARED_MEMORY_LINE and len(fields := lock[SHARED_MEMORY_LINE].split()) == 2:
            # Removed once the last backend detaches: nothing leaks across the many kills.
            subprocess.run(["ipcrm", "-m", fields[1]], check=False, capture_output=True)
        (self.data / "postmaster.pid").unlink()
        (self.directory / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the server if it runs and delete its files."""
        self.remove()


def _alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie waiting for a parent that is not us to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
