"""Ports for the services a test starts: one helper, so no two services share one."""

from __future__ import annotations

import socket

# Every port handed out in this process. The kernel may give a port that was free a
# moment ago to the next ``bind(0)`` as well: two services of one test then race for it
# and the loser dies with "address already in use" (a CI run lost ingestion that way).
_GIVEN: set[int] = set()


def _bindable(port: int) -> bool:
    """Whether a listener could bind ``port`` on 127.0.0.1 now."""
    with socket.socket() as sock:
        # As the daemons do: a port whose last connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A TCP port nothing listens on now and that this process has not handed out before."""
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port
    raise RuntimeError("no free port the tests have not already handed out")


def claim(port: int) -> bool:
    """Take ``port`` (a preferred one) if it is bindable and not handed out yet."""
    if port in _GIVEN or not _bindable(port):
        return False
    _GIVEN.add(port)
    return True
