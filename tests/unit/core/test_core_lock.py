import os
import signal
import subprocess
import sys
import textwrap

import pytest

from fiveo_sync.errors import LockedError
from fiveo_sync.state.lock import RunLock

_HOLDER = textwrap.dedent("""
    import sys, time
    from fiveo_sync.state.lock import RunLock
    lock = RunLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    time.sleep(60)
""")


def _start_holder(state):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(state)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_is_refused_naming_the_first(tmp_path):
    state = tmp_path / "s.sqlite"
    holder = _start_holder(state)
    try:
        with pytest.raises(LockedError) as caught:
            RunLock(state).acquire()
        assert caught.value.exit_code == 75
        assert caught.value.context["pid"] == holder.pid
        assert "started_at" in caught.value.context
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_lock_of_a_killed_process_is_taken_over(tmp_path):
    state = tmp_path / "s.sqlite"
    holder = _start_holder(state)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    # The lock file still names the dead pid, but the kernel released the flock.
    assert str(holder.pid) in (tmp_path / "s.sqlite.lock").read_text()
    with RunLock(state) as lock:
        assert str(os.getpid()) in lock.path.read_text()


def test_release_lets_the_next_run_in(tmp_path):
    state = tmp_path / "s.sqlite"
    with RunLock(state):
        pass
    with RunLock(state):
        pass
