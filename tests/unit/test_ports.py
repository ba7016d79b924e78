"""The tests' port helper: no two services of a run are handed the same port."""

from __future__ import annotations

import socket

from tests.support.ports import claim, free_port


def test_free_port_never_hands_out_the_same_port_twice() -> None:
    # The kernel gives a port back to the next bind(0) often (about 8% of 2,000 calls
    # here): the bare bind-and-close helper did, and two services of one test then raced
    # for one port ("address already in use").
    ports = [free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)


def test_a_port_in_use_or_already_handed_out_is_not_claimed() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = int(listener.getsockname()[1])
        assert not claim(busy)
    given = free_port()
    assert not claim(given)
