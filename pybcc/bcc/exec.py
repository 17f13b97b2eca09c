"""bcc.exec: trace a command from its first instruction.

    pid = run_cmd(["ls", "-l"])   # forked, held before exec
    ...                            # load and attach, filter on pid
    cmd_ready()                    # let it exec
    while not cmd_exited(): ...

The child waits on a pipe until cmd_ready(), so nothing it does is missed;
SIGCHLD tells the tool it has finished.
"""
import os
import signal
import sys

_exited = False
child_exit = 0      # bcc's name for the same fact (1 once the child has exited)
_gate = None        # (read end, write end) of the pipe the child waits on


def _reap(signum, frame):
    global _exited, child_exit
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    _exited, child_exit = True, 1


def run_cmd(args) -> int:
    """Fork ``args`` (a list), held before exec until cmd_ready(); returns its pid."""
    global _gate
    _gate = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(_gate[1])
        try:
            os.read(_gate[0], 1)
            os.execvp(args[0], list(args))
        except OSError as e:
            print(f"failed to exec command: {' '.join(args)}: {e}", file=sys.stderr)
        os._exit(127)
    os.close(_gate[0])
    signal.signal(signal.SIGCHLD, _reap)
    return pid


def cmd_ready():
    """Let the command forked by run_cmd() exec."""
    global _gate
    if _gate is None:
        return
    try:
        os.write(_gate[1], b"x")
    except OSError:
        sys.exit(1)
    finally:
        os.close(_gate[1])
        _gate = None


def cmd_exited():
    """Whether the command has exited (1) or not (0)."""
    return int(_exited)
