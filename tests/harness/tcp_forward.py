#!/usr/bin/env python3
"""A TCP forwarder for "the KMS is down, then up again" tests: listens on 127.0.0.1:LISTEN_PORT
and pipes every connection to 127.0.0.1:TARGET_PORT byte for byte (TLS passes through
untouched). Killing it is the outage; starting it again on the same port is the recovery.

    tcp_forward.py LISTEN_PORT TARGET_PORT [NETNS] [--listen-netns FILE] [--listen-host ADDR]

With NETNS (a network namespace file, e.g. /proc/PID/ns/net), the target is 127.0.0.1 inside that
namespace: the listener is bound in the caller's namespace first, then the process enters NETNS,
so every upstream connection is made there. That is how a test reaches a server that has to run
in a namespace of its own (local-kms binds every interface) without adding an address here.

The other way round, --listen-netns FILE binds the listener inside that namespace (on
--listen-host, 127.0.0.1 unless told) and then returns to the caller's namespace, where the
upstream connections are made: how the test node (tests/harness/node.sh), which lives in a
namespace of its own, reaches the apiserver on this namespace's 127.0.0.1.
"""
import argparse
import ctypes
import os
import socket
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
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_port", type=int)
    ap.add_argument("netns", nargs="?")
    ap.add_argument("--listen-netns")
    ap.add_argument("--listen-host", default="127.0.0.1")
    args = ap.parse_args()
    # Still one thread: setns moves only the calling thread, and the pipe threads started below
    # inherit its namespace.
    if args.listen_netns:
        home = "/proc/self/task/%d/ns/net" % threading.get_native_id()
        home_fd = os.open(home, os.O_RDONLY)
        enter_netns(args.listen_netns)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.listen_host, args.listen_port))
    server.listen(64)
    if args.listen_netns:
        enter_netns("/proc/self/fd/%d" % home_fd)
        os.close(home_fd)
    if args.netns:
        enter_netns(args.netns)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", args.target_port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
