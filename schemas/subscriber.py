#!/usr/bin/env python3
"""A minimal kec subscriber: prints incidents (kec.incident/v1) as they change.

Standard library only: it speaks the NATS text protocol (INFO/CONNECT/SUB/MSG/HMSG/PING) over TCP, so it runs
anywhere Python 3.8+ does. A real client (nats-py) adds TLS, auth, reconnects and JetStream durable consumers;
the payloads are the same. Validate them with the JSON Schema files next to this script (e.g. the `jsonschema`
package) when you want more than the `schema` field check below.

    python3 schemas/subscriber.py [nats://127.0.0.1:4222] [kec.incidents.>]
"""
import json
import socket
import sys
from urllib.parse import urlparse


def main() -> None:
    url = urlparse(sys.argv[1] if len(sys.argv) > 1 else "nats://127.0.0.1:4222")
    subject = sys.argv[2] if len(sys.argv) > 2 else "kec.incidents.>"
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 4222))
    f = sock.makefile("rb")
    f.readline()  # INFO {...}
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"name":"kec-subscriber.py"}\r\n')
    sock.sendall(f"SUB {subject} 1\r\nPING\r\n".encode())
    latest = {}  # incident id -> highest version seen (each message is the full state at its version)
    while True:
        line = f.readline()
        if not line:
            return
        parts = line.decode().split()
        if not parts:
            continue
        op = parts[0]
        if op == "PING":
            sock.sendall(b"PONG\r\n")
            continue
        if op not in ("MSG", "HMSG"):
            continue  # PONG, +OK, -ERR ...
        total = int(parts[-1])
        header_len = int(parts[-2]) if op == "HMSG" else 0
        data = f.read(total + 2)[header_len:total]  # skip headers (Nats-Msg-Id...) and the trailing CRLF
        msg = json.loads(data)
        if msg.get("schema") != "kec.incident/v1":
            continue
        if latest.get(msg["id"], 0) >= msg["version"]:
            continue  # an older or repeated version
        latest[msg["id"]] = msg["version"]
        root = msg["rootCause"] or {}
        print(
            f'{msg["state"]:8} {msg["severity"]:8} {msg["title"]}'
            f' | cause: {root.get("reason", "-")} {root.get("object", "")}: {root.get("why", "")}',
            flush=True,
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
