"""Small /proc readers the tools share."""


def last_words(path):
    """The last word of each line of a /proc or /sys list (file systems,
    blacklisted functions), as a set; empty when the file cannot be read."""
    try:
        with open(path) as f:
            return {line.split()[-1] for line in f if line.strip()}
    except OSError:
        return set()


def ppid_of(pid):
    """The parent pid from /proc, or 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def comm_of(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def known_comm(pid):
    """bcc's COMM column of a pid: its comm, or [unknown] once it has gone."""
    return comm_of(pid) or "[unknown]"


def pid_width():
    """Wide enough for the largest pid, as bcc sizes its PID columns."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return len(f.read().strip()) + 1
    except OSError:
        return 6
