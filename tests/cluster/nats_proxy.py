#!/usr/bin/env python3
"""tests/cluster/nats_proxy.py LISTEN_PORT TARGET_PORT: a TCP relay on
127.0.0.1 for the export tests. Killing it cuts every connection through it
at once (the network to NATS gone); starting it again on the same port
restores the path."""
import socket, sys, threading

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def main():
    lp, tp = int(sys.argv[1]), int(sys.argv[2])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lp))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        try:
            u = socket.create_connection(("127.0.0.1", tp), timeout=2)
        except OSError:
            c.close()
            continue
        u.settimeout(None)
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()

main()
