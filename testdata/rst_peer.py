#!/usr/bin/env python3
"""A peer that resets its connections (RST instead of FIN).

Deno cannot set SO_LINGER, so this peer is Python: with SO_LINGER on and a
zero timeout, close() sends RST.

Usage:
  python3 testdata/rst_peer.py PORT mid-frame
      Sends a 4-byte big-endian length header announcing 1000 bytes and 500
      of them, prints "sent 504", waits for a line on stdin, then resets.
  python3 testdata/rst_peer.py PORT on-connect N
      Opens N connections one after another and resets each at once, as a
      load balancer's TCP health check does; prints "reset N".
"""
import socket
import struct
import sys

LINGER_ZERO = struct.pack("ii", 1, 0)


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
    sock.close()


port = int(sys.argv[1])
mode = sys.argv[2]
if mode == "mid-frame":
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(struct.pack(">I", 1000) + b"x" * 500)
    print("sent 504", flush=True)
    sys.stdin.readline()
    reset(sock)
elif mode == "on-connect":
    count = int(sys.argv[3])
    for _ in range(count):
        reset(socket.create_connection(("127.0.0.1", port)))
    print(f"reset {count}", flush=True)
else:
    sys.exit(f"unknown mode {mode}")
