#!/usr/bin/env python3
"""Mass-close recovery of an echo server: open N idle connections (from 127.0.0.x source
addresses once above 4,096, like echo_load), echo one byte on each so the server surely holds
them, close them all at once, then at once open a probe connection and time how long until it
is served (connected and its byte echoed). Prints one JSON line.

  close-recovery.py --port P --conns N [--source-base K] [--timeout S]
"""
import argparse, json, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--conns", type=int, default=19000)
p.add_argument("--source-base", type=int, default=1, help="first source address 127.0.0.K")
p.add_argument("--timeout", type=float, default=120)
a = p.parse_args()

PER_SOURCE = 4096
socks = []
t0 = time.monotonic()
for i in range(a.conns):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)  # normal FIN close
    s.bind((f"127.0.0.{a.source_base + i // PER_SOURCE}", 0))
    s.connect(("127.0.0.1", a.port))
    socks.append(s)
for s in socks:
    s.sendall(b"x")
for i, s in enumerate(socks):
    if s.recv(1) != b"x":
        sys.exit(f"connection {i}: no echo")
opened = time.monotonic() - t0
t1 = time.monotonic()
for s in socks:
    s.close()
closed = time.monotonic() - t1
t2 = time.monotonic()
probe = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout,
                                 source_address=(f"127.0.0.{a.source_base + 9}", 0))
probe.settimeout(a.timeout)
connected = time.monotonic() - t2
probe.sendall(b"p")
got = probe.recv(1)
served = time.monotonic() - t2
probe.close()
print(json.dumps({"conns": a.conns, "open_s": round(opened, 2), "close_s": round(closed, 3),
                  "probe_connect_s": round(connected, 3), "probe_served_s": round(served, 3),
                  "echoed": got == b"p"}))
