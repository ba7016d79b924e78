#!/usr/bin/env python3
"""Readiness probe for a Kafka broker, standard library only.

Sends a real ApiVersions v0 request and then a Metadata v1 request (all topics)
over one TCP connection, and succeeds only if the answer lists at least one
broker. A listening socket alone is not enough: during start-up the broker
accepts connections before it can serve metadata.

Exit status: 0 when ready, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18
METADATA_VERSION = 1
CLIENT_ID = b"sportsfeed-probe"


def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    """Send one request (header v1) and return the response after its correlation id."""
    header = struct.pack(">hhih", api_key, version, corr, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _read_exact(sock, 4))[0]
    response = _read_exact(sock, size)
    (got_corr,) = struct.unpack_from(">i", response, 0)
    if got_corr != corr:
        raise ValueError(f"correlation id {got_corr} != {corr}")
    return response[4:]


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        buf += chunk
    return bytes(buf)


def _check_api_versions(body: bytes) -> None:
    """Fail unless the broker answers without error and supports Metadata v1."""
    error, count = struct.unpack_from(">hi", body, 0)
    if error != 0:
        raise ValueError(f"ApiVersions error code {error}")
    for i in range(count):
        key, low, high = struct.unpack_from(">hhh", body, 6 + 6 * i)
        if key == API_METADATA and low <= METADATA_VERSION <= high:
            return
    raise ValueError(f"broker does not support Metadata v{METADATA_VERSION}")


def _brokers(body: bytes) -> list[tuple[int, str, int]]:
    """Parse the broker array at the start of a Metadata v1 response."""
    (count,) = struct.unpack_from(">i", body, 0)
    offset = 4
    brokers = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", body, offset)
        offset += 6
        host = body[offset : offset + host_len].decode()
        offset += host_len
        (port, rack_len) = struct.unpack_from(">ih", body, offset)
        offset += 6 + max(rack_len, 0)
        brokers.append((node_id, host, port))
    return brokers


def probe(host: str, port: int, timeout: float) -> list[tuple[int, str, int]]:
    """Return the brokers the cluster reports; raise on any failure."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        _check_api_versions(_request(sock, API_VERSIONS, 0, 1, b""))
        null_topics = struct.pack(">i", -1)  # null array = every topic
        return _brokers(_request(sock, API_METADATA, METADATA_VERSION, 2, null_topics))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("SPORTSFEED_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="host:port of the broker (default: $SPORTSFEED_KAFKA_BOOTSTRAP)",
    )
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per socket call")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)

    host, _, port = args.bootstrap.split(",")[0].rpartition(":")
    try:
        brokers = probe(host, int(port), args.timeout)
    except (OSError, ValueError, struct.error) as exc:
        if not args.quiet:
            print(f"kafka at {args.bootstrap}: not ready ({exc})", file=sys.stderr)
        return 1
    if not brokers:
        if not args.quiet:
            print(f"kafka at {args.bootstrap}: no broker listed yet", file=sys.stderr)
        return 1
    if not args.quiet:
        listed = ", ".join(f"{node}@{h}:{p}" for node, h, p in brokers)
        print(f"kafka at {args.bootstrap}: ready, brokers {listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
