"""Event readers: perf buffers, BPF ring buffers, and a poller over both."""
from .perfbuf import PerfBuffer  # noqa: F401
from .poller import Poller  # noqa: F401
from .ringbuf import RingBuffer  # noqa: F401
