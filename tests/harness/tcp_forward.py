#!/usr/bin/env python3
"""A TCP forwarder for "the KMS is down, then up again" tests: listens on 127.0.0.1:LISTEN_PORT
and pipes every connection to 127.0.0.1:TARGET_PORT byte for byte (TLS passes through
untouched). Killing it is the outage; starting it again on the same port is the recovery.

    tcp_forward.py LISTEN_PORT TARGET_PORT [NETNS]

With NETNS (a network namespace file, e.g. /proc/PID/ns/net), the target is 127.0.0.1 inside that
namespace: the listener is bound in the caller's namespace first, then the process enters NETNS,
so every upstream connection is made there. That is how a test reaches a server that has to run
in a namespace of its own (local-kms binds every interface) without adding an address here.
"""
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def enter_netns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    # Still one thread: setns moves only the calling thread, and the pipe threads started below
    # inherit its namespace.
    if len(sys.argv) > 3:
        enter_netns(sys.argv[3])
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
