"""The kernel interface: system calls, UAPI constants, tracefs, feature probes."""
