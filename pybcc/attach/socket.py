"""Socket filters: a SOCKET_FILTER program on one socket (SO_ATTACH_BPF)."""
import os
import socket as _socket

from ..errors import AttachError
from .link import Link

SO_ATTACH_BPF = 50
SO_DETACH_BPF = 27   # same value as SO_DETACH_FILTER


def attach_socket(prog_fd, sock):
    """Attach to ``sock`` (a socket object or fd). The Link holds a duplicate
    of the socket fd so that detaching never hits an unrelated socket that
    reused the number."""
    fd = sock if isinstance(sock, int) else sock.fileno()
    dup = _socket.socket(fileno=os.dup(fd))
    what = f"socket filter on fd {fd}"
    try:
        dup.setsockopt(_socket.SOL_SOCKET, SO_ATTACH_BPF, prog_fd)
    except OSError as e:
        dup.close()
        raise AttachError(f"attaching {what}", e.errno) from None

    def detach():
        try:
            dup.setsockopt(_socket.SOL_SOCKET, SO_DETACH_BPF, 0)
        finally:
            dup.close()
    return Link(what, cleanups=[detach])
