#!/usr/bin/env python3
"""A busy machine on demand (#18 item 6): CPU spinners and syscall workers
that stat missing files, open and close, exec /bin/true, fork, connect over
loopback TCP and write to a file. Run the test suite beside it:

  python3 benchmarks/loadgen.py --seconds 900 &
  python3 -m pytest tests/tools -q

  --cpu N        CPU-bound spinners (default: one per CPU)
  --workers N    syscall workers (default 2)
  --seconds S    stop after S seconds (default: until SIGINT/SIGTERM)
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def spin():
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003


def syscalls(n):
    """Mixed syscalls, each kind many times a second."""
    missing = f"/nonexistent/pybcc-loadgen-{os.getpid()}"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    tmp = tempfile.TemporaryFile()
    i = 0
    while True:
        i += 1
        for _ in range(50):
            try:
                os.stat(f"{missing}-{i % 17}")    # newfstatat → ENOENT
            except OSError:
                pass
        fd = os.open("/etc/hostname", os.O_RDONLY)
        os.close(fd)
        os.getppid()
        tmp.write(b"x" * 4096)
        if i % 20 == 0:
            tmp.seek(0)
            tmp.truncate()
        if i % 10 == 0:
            c = socket.create_connection(("127.0.0.1", port))
            s, _ = srv.accept()
            c.sendall(b"ping")
            s.recv(4)
            c.close()
            s.close()
        if i % 25 == n % 25:
            subprocess.run(["/bin/true"])
        if i % 50 == 0:
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        time.sleep(0.001)


def main():
    p = argparse.ArgumentParser(description="CPU and syscall load beside the tests")
    p.add_argument("--cpu", type=int, default=os.cpu_count() or 1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=0)
    args = p.parse_args()
    if args.cpu < 0 or args.workers < 0 or args.seconds < 0:
        p.error("counts and seconds must not be negative")
    children = []
    for kind, n in [("cpu", args.cpu), ("sys", args.workers)]:
        for k in range(n):
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                try:
                    spin() if kind == "cpu" else syscalls(k)
                finally:
                    os._exit(0)
            children.append(pid)
    print(f"loadgen: {args.cpu} CPU spinners, {args.workers} syscall workers (pids {children})",
          file=sys.stderr, flush=True)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.seconds:
        time.sleep(args.seconds)
    else:
        while True:
            time.sleep(3600)
    stop()


if __name__ == "__main__":
    main()
