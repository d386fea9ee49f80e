#!/usr/bin/env python3
"""A fault-injecting reverse proxy for the fault tests: it sits on 127.0.0.1 in front of one
server (a KMS server or the kube-apiserver), forwards what it is not told to break, and breaks
the rest the way that server breaks in production, in that server's own words.

    fault_proxy.py --port P --upstream https://127.0.0.1:U [--upstream-ca CA]
                   [--cert CERT --key KEY] --dialect aws|gcp|azure|oci|transit|thalassa|kube
                   --control-port C [--seed N] [--max-hold SECONDS]

The plan is set at run time through the control port (plain HTTP, 127.0.0.1 only):
    PUT  /plan    {"rules": [RULE, ...]}   replaces the plan; its clock starts now
    GET  /stats   what came in and what was done to it (JSON, below)
    GET  /log     the last 5000 requests: [{"t": seconds since the plan was set, "op", "fault"}]
    POST /reset   zeroes the counters
A RULE is a JSON object; the first rule that matches a request decides its fate:
    fault        throttle | unavailable | latency | reset | blackhole | drop
                   throttle     the dialect's throttling answer (AWS 400 ThrottlingException,
                                Google 429 RESOURCE_EXHAUSTED, Azure 429 Throttled, OCI 429
                                TooManyRequests, Vault 429 rate limit, Thalassa 429, Kubernetes
                                429 TooManyRequests Status)
                   unavailable  the dialect's 5xx (AWS 500 KMSInternalException, Google 503
                                UNAVAILABLE, Azure 503, OCI 503, Vault 503 sealed, Kubernetes 503)
                   latency      waits `ms`, then forwards
                   reset        forwards, relays the status line, the headers and half the
                                body, then resets the connection (TCP RST)
                   blackhole    reads the request and never answers: holds the connection until
                                the client hangs up or `seconds` (at most --max-hold) pass
                   drop         resets the connection before any answer
    match        a substring of "METHOD PATH TARGET" (TARGET: X-Amz-Target, if any); default all
    rate         probability 0..1 that a matching request is hit (default 1; seeded, --seed)
    after, until seconds since the plan was set between which the rule is live (a schedule)
    first        only the first N requests the rule matches are hit
    retry_after  seconds for a Retry-After header (throttle, unavailable); Kubernetes also gets
                 details.retryAfterSeconds
    ms, seconds  for latency and blackhole
/stats: {"requests": n, "forwarded": n, "injected": {"throttle": n, ...},
         "by_op": {"<op>": {"requests": n, "injected": n}}, "open_holds": n}
Every connection it accepts is on 127.0.0.1; it sends traffic only to --upstream (loopback).
Bounded: a body over 16 MiB is refused, a hold ends after --max-hold seconds.
"""
import argparse
import collections
import http.client
import http.server
import json
import random
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

MAX_BODY = 16 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length"}

args = None
state_lock = threading.Lock()
plan = {"rules": [], "started": time.monotonic()}
hits = {}  # rule index -> times the rule matched (for `first`)
stats = {"requests": 0, "forwarded": 0, "injected": {}, "by_op": {}, "open_holds": 0}
request_log = collections.deque(maxlen=5000)
rng = random.Random(0)


def dialect_answer(kind, retry_after):
    """(status, headers, body) of a throttling or unavailable answer, as the service writes it."""
    d = args.dialect
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    throttle = kind == "throttle"
    if d == "aws":
        # botocore's standard retry mode counts ThrottlingException as throttling; KMS has no
        # Retry-After of its own.
        code = "ThrottlingException" if throttle else "KMSInternalException"
        headers.update({"Content-Type": "application/x-amz-json-1.1",
                        "x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())})
        msg = "Rate exceeded" if throttle else "An internal error occurred."
        return (400 if throttle else 500), headers, {"__type": code, "message": msg}
    if d == "gcp":
        if throttle:
            return 429, headers, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message":
                                            "Quota exceeded for quota metric 'Cryptographic "
                                            "requests' and limit 'Cryptographic requests per minute'"}}
        return 503, headers, {"error": {"code": 503, "status": "UNAVAILABLE",
                                        "message": "The service is currently unavailable."}}
    if d == "azure":
        if throttle:
            headers.setdefault("Retry-After", "1")  # Key Vault always says when to come back
            return 429, headers, {"error": {"code": "Throttled", "message":
                                            "Request was not processed because too many requests "
                                            "were received. Reason: VaultRequestTypeLimitReached"}}
        return 503, headers, {"error": {"code": "ServiceUnavailable",
                                        "message": "The service is unavailable."}}
    if d == "oci":
        headers["opc-request-id"] = uuid.uuid4().hex.upper()
        if throttle:
            return 429, headers, {"code": "TooManyRequests",
                                  "message": "Too many requests for the tenant"}
        return 503, headers, {"code": "ServiceUnavailable",
                              "message": "The service is currently unavailable."}
    if d == "transit":
        if throttle:
            return 429, headers, {"errors": ["request path \"transit\": rate limit quota exceeded"]}
        return 503, headers, {"errors": ["Vault is sealed"]}
    if d == "thalassa":
        if throttle:
            return 429, headers, {"message": "too many requests"}
        return 503, headers, {"message": "service unavailable"}
    if d == "kube":
        reason, code = ("TooManyRequests", 429) if throttle else ("ServiceUnavailable", 503)
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "Too many requests, please try again later." if throttle
                  else "the server is currently unable to handle the request",
                  "reason": reason, "code": code}
        if retry_after is not None:
            status["details"] = {"retryAfterSeconds": int(retry_after)}
        return code, headers, status
    raise ValueError("unknown dialect " + d)


def choose(op):
    """The rule that hits this request (or None), counting the request."""
    with state_lock:
        stats["requests"] += 1
        per = stats["by_op"].setdefault(op, {"requests": 0, "injected": 0})
        per["requests"] += 1
        elapsed = time.monotonic() - plan["started"]
        entry = {"t": round(elapsed, 3), "op": op, "fault": None}
        request_log.append(entry)
        for i, rule in enumerate(plan["rules"]):
            if rule.get("match") and rule["match"] not in op:
                continue
            if elapsed < rule.get("after", 0) or ("until" in rule and elapsed >= rule["until"]):
                continue
            if "first" in rule and hits.get(i, 0) >= rule["first"]:
                continue
            if rng.random() >= rule.get("rate", 1.0):
                continue
            hits[i] = hits.get(i, 0) + 1
            kind = rule["fault"]
            stats["injected"][kind] = stats["injected"].get(kind, 0) + 1
            per["injected"] += 1
            entry["fault"] = kind
            return rule
        return None


def upstream_connection():
    u = urllib.parse.urlsplit(args.upstream)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=args.upstream_ca)
        if args.upstream_cert:
            ctx.load_cert_chain(args.upstream_cert, args.upstream_key)
        return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=120)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def reset(sock):
    """Closes with RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
                if len(body) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.send_error(413)
            return
        op = "%s %s %s" % (self.command, self.path.split("?")[0], self.headers.get("X-Amz-Target", ""))
        rule = choose(op.strip())
        fault = rule["fault"] if rule else None
        if fault in ("throttle", "unavailable"):
            status, headers, payload = dialect_answer(fault, rule.get("retry_after"))
            data = json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if fault == "drop":
            self.close_connection = True
            reset(self.connection)
            return
        if fault == "blackhole":
            self.hold(min(rule.get("seconds", args.max_hold), args.max_hold))
            return
        if fault == "latency":
            time.sleep(rule.get("ms", 0) / 1000.0)
        self.forward(body, cut=(fault == "reset"))

    def hold(self, seconds):
        with state_lock:
            stats["open_holds"] += 1
        try:
            deadline = time.monotonic() + seconds
            self.connection.settimeout(0.5)
            while time.monotonic() < deadline:
                try:
                    # A plain read (a TLS socket refuses MSG_PEEK): whatever the client sends
                    # more is never answered anyway; an empty read means it hung up.
                    if not self.connection.recv(1):
                        break  # the client hung up
                except socket.timeout:
                    continue
                except (OSError, ssl.SSLError):
                    break
        finally:
            with state_lock:
                stats["open_holds"] -= 1
            self.close_connection = True

    def forward(self, body, cut):
        conn = upstream_connection()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            conn.request(self.command, self.path, body=body if body or self.command in
                         ("POST", "PUT", "PATCH") else None, headers=headers)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            data = json.dumps({"proxy": "upstream unreachable: %s" % e}).encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        with state_lock:
            stats["forwarded"] += 1
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        length = resp.getheader("Content-Length")
        if length is not None:
            data = resp.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                reset(self.connection)
            else:
                self.wfile.write(data)
            conn.close()
            return
        # A stream (a watch): relayed chunk by chunk as it comes.
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            sent = 0
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                sent += 1
                if cut and sent >= 1:
                    self.close_connection = True
                    reset(self.connection)
                    return
            self.wfile.write(b"0\r\n\r\n")
        except (OSError, ssl.SSLError):
            self.close_connection = True
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def finish(self):
        try:
            super().finish()
        except (OSError, ssl.SSLError):
            pass  # the connection was reset on purpose, or by the client


class Control(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with state_lock:
            if self.path == "/stats":
                return self.reply(200, json.loads(json.dumps(stats)))
            if self.path == "/log":
                return self.reply(200, list(request_log))
        self.reply(404, {"error": "GET /stats or /log"})

    def do_PUT(self):
        if self.path != "/plan":
            return self.reply(404, {"error": "PUT /plan"})
        try:
            new = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            rules = new["rules"]
            for r in rules:
                if r.get("fault") not in ("throttle", "unavailable", "latency", "reset",
                                          "blackhole", "drop"):
                    raise ValueError("unknown fault %r" % r.get("fault"))
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": str(e)})
        with state_lock:
            plan["rules"] = rules
            plan["started"] = time.monotonic()
            hits.clear()
        self.reply(200, {"rules": len(rules)})

    def do_POST(self):
        if self.path != "/reset":
            return self.reply(404, {"error": "POST /reset"})
        with state_lock:
            stats.update({"requests": 0, "forwarded": 0, "injected": {}, "by_op": {}})
            request_log.clear()
        self.reply(200, {})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global args, rng
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--upstream-ca")
    p.add_argument("--upstream-cert", help="client certificate for the upstream (kube-apiserver)")
    p.add_argument("--upstream-key")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--dialect", required=True,
                   choices=["aws", "gcp", "azure", "oci", "transit", "thalassa", "kube"])
    p.add_argument("--control-port", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-hold", type=float, default=120.0)
    args = p.parse_args()
    if urllib.parse.urlsplit(args.upstream).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fault_proxy: the upstream must be on loopback")
    rng = random.Random(args.seed)
    proxy = Server(("127.0.0.1", args.port), Proxy)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        # The handshake happens in the connection's thread (on first read), so a client that
        # connects and says nothing holds only its own thread, not the accept loop.
        proxy.socket = ctx.wrap_socket(proxy.socket, server_side=True,
                                       do_handshake_on_connect=False)
    control = Server(("127.0.0.1", args.control_port), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print("fault_proxy: 127.0.0.1:%d -> %s (%s), control on 127.0.0.1:%d"
          % (args.port, args.upstream, args.dialect, args.control_port), flush=True)
    proxy.serve_forever()


if __name__ == "__main__":
    main()
