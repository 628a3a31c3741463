"""Runs ``loa`` commands as forked child processes of one process that has already imported loa.

The crash test kills and restarts the dispatcher dozens of times; a fresh interpreter spends seconds
importing SQLAlchemy, pydantic and friends on a busy 2-core machine, a fork a few milliseconds. Each
child is still a real ``loa`` process (its own pid, its own database connections) that a test can SIGKILL.

Protocol on stdin/stdout, one line each: ``run <argv…>`` → the child's pid; ``wait <pid>`` → its exit code
(negative signal number when killed). Run it as ``python tests/servers/forker.py``.
"""

from __future__ import annotations

import os
import sys

# What `loa dispatch` needs, imported once before any fork (no threads and no connections yet).
import channels.board.http
import channels.loudspeaker.http
import channels.social.facebook  # noqa: F401
import loa.wiring  # noqa: F401
import scheduler.dispatch.dispatcher  # noqa: F401
from loa.cli.app import main as loa_main


def _child(argv: list[str]) -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stdout is the pipe the parent answers on
    sys.argv = ["loa", *argv]
    code = 0
    try:
        loa_main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    for line in sys.stdin:
        command, *argv = line.split()
        if command == "run":
            pid = os.fork()
            if pid == 0:
                _child(argv)
            print(pid, flush=True)
        elif command == "wait":
            _, status = os.waitpid(int(argv[0]), 0)
            print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
