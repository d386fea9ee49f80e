#!/usr/bin/env python3
"""Checks fault_proxy.py itself, so a fault test's figures mean what they say: each fault does
what its name says, each dialect answers in the words the official SDKs read as throttling or
unavailable, rules match, rates and schedules hold, a stream is relayed as it comes.

Runs a tiny upstream and the proxy on free 127.0.0.1 ports (plain HTTP, and TLS for the black
hole); exits 1 on a failure.
"""
import http.client
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Upstream.seen.append((self.path, self.headers.get("Host"), body))
        data = json.dumps({"echo": body.decode(), "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # a stream: three lines, 0.2 s apart, chunked
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(3):
            line = b'{"n":%d}\n' % i
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            time.sleep(0.2)
        self.wfile.write(b"0\r\n\r\n")


def start(dialect, up_port, tls=None):
    port, control = free_port(), free_port()
    extra = ["--cert", tls[0], "--key", tls[1]] if tls else []
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_proxy.py"), "--port",
                             str(port), "--upstream", "http://127.0.0.1:%d" % up_port,
                             "--dialect", dialect, "--control-port", str(control), "--seed", "7",
                             "--max-hold", "3"] + extra, stdout=subprocess.PIPE)
    proc.stdout.readline()  # the banner: both listeners are up
    return proc, port, control


def control_call(control, method, path, obj=None):
    c = http.client.HTTPConnection("127.0.0.1", control, timeout=5)
    c.request(method, path, body=json.dumps(obj) if obj is not None else None)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"{}")


def post(port, path="/x", body=b"hello", headers=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("POST", path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def check_tls_blackhole(up_port):
    """A black hole over TLS (as every KMS is reached) holds the connection until the client
    gives up: it must not close it early, which a client would read as a quick failure."""
    with tempfile.TemporaryDirectory() as d:
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        proc, port, control = start("gcp", up_port, (cert, key))
        try:
            control_call(control, "PUT", "/plan",
                         {"rules": [{"fault": "blackhole", "seconds": 60}]})
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False
            t0 = time.monotonic()
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=1.5, context=ctx)
            try:
                c.request("POST", "/x", body=b"hello")
                c.getresponse()
                outcome = "answered"
            except socket.timeout:
                outcome = "timed out"
            except (ConnectionError, http.client.RemoteDisconnected, ssl.SSLError) as e:
                outcome = "closed (%s)" % type(e).__name__
            waited = time.monotonic() - t0
            c.close()  # the client hangs up
            check(outcome == "timed out" and waited >= 1.4,
                  "a TLS black hole holds until the client's timeout (%s after %.2f s)"
                  % (outcome, waited))
            time.sleep(0.8)
            _, s = control_call(control, "GET", "/stats")
            check(s["open_holds"] == 0 and s["injected"].get("blackhole") == 1,
                  "a TLS hold ends when the client hangs up, counted once")
        finally:
            proc.kill()
            proc.wait()


def main():
    up_port = free_port()
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", up_port), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()

    # Throttling and unavailability, in each dialect's own words.
    expect = {
        "aws": (400, "ThrottlingException", 500, "KMSInternalException"),
        "gcp": (429, "RESOURCE_EXHAUSTED", 503, "UNAVAILABLE"),
        "azure": (429, "Throttled", 503, "ServiceUnavailable"),
        "oci": (429, "TooManyRequests", 503, "ServiceUnavailable"),
        "transit": (429, "rate limit quota exceeded", 503, "Vault is sealed"),
        "thalassa": (429, "too many requests", 503, "service unavailable"),
        "kube": (429, "TooManyRequests", 503, "ServiceUnavailable"),
    }
    for dialect, (t_status, t_word, u_status, u_word) in expect.items():
        proc, port, control = start(dialect, up_port)
        try:
            control_call(control, "PUT", "/plan", {"rules": [
                {"fault": "throttle", "match": "/throttle", "retry_after": 2},
                {"fault": "unavailable", "match": "/down"}]})
            status, headers, body = post(port, "/throttle")
            check(status == t_status and t_word in body.decode(),
                  "%s throttle answers %d with %s" % (dialect, t_status, t_word))
            check(headers.get("Retry-After") == "2", "%s throttle carries Retry-After" % dialect)
            if dialect == "aws":
                check(headers.get("x-amzn-ErrorType") == "ThrottlingException",
                      "aws names the error in x-amzn-ErrorType")
            if dialect == "kube":
                check(json.loads(body)["details"]["retryAfterSeconds"] == 2,
                      "kube Status carries details.retryAfterSeconds")
            status, _, body = post(port, "/down")
            check(status == u_status and u_word in body.decode(),
                  "%s unavailable answers %d with %s" % (dialect, u_status, u_word))
            status, _, body = post(port, "/fine", b"payload", {"Host": "vault.example:1234"})
            check(status == 200 and json.loads(body)["echo"] == "payload",
                  "%s forwards what no rule matches" % dialect)
        finally:
            proc.kill()
            proc.wait()
    check(any(h == "vault.example:1234" for _, h, _ in Upstream.seen),
          "the Host header reaches the upstream as the client wrote it (signatures cover it)")

    proc, port, control = start("aws", up_port)
    try:
        # rate: about the asked share of requests is hit (seeded, so the figure is stable).
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "throttle", "rate": 0.3}]})
        control_call(control, "POST", "/reset")
        codes = [post(port)[0] for _ in range(200)]
        share = codes.count(400) / 200.0
        check(0.2 <= share <= 0.4, "rate 0.3 throttles %.2f of 200 requests" % share)
        _, s = control_call(control, "GET", "/stats")
        check(s["requests"] == 200 and s["injected"]["throttle"] == codes.count(400) and
              s["forwarded"] == codes.count(200), "stats count requests, faults and forwards")

        # first: only the first N matching requests.
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "unavailable", "first": 2}]})
        codes = [post(port)[0] for _ in range(4)]
        check(codes == [500, 500, 200, 200], "first 2 hits two requests, then forwards: %s" % codes)
        _, log = control_call(control, "GET", "/log")
        check([e["fault"] for e in log[-4:]] == ["unavailable", "unavailable", None, None] and
              all(e["op"] == "POST /x" for e in log[-4:]),
              "the log lists each request with its fault, in order")

        # a schedule: live from 0.5 s to 1.0 s after the plan was set.
        control_call(control, "PUT", "/plan", {"rules": [
            {"fault": "unavailable", "after": 0.5, "until": 1.0}]})
        before = post(port)[0]
        time.sleep(0.7)
        during = post(port)[0]
        time.sleep(0.5)
        after = post(port)[0]
        check((before, during, after) == (200, 500, 200),
              "a schedule is live only in its window: %s" % [before, during, after])

        # latency
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "latency", "ms": 300}]})
        t0 = time.monotonic()
        status = post(port)[0]
        took = time.monotonic() - t0
        check(status == 200 and took >= 0.3, "latency 300 ms delays the answer (%.2f s)" % took)

        # reset mid-body: the client sees a short read or a reset, never a whole answer.
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "reset"}]})
        try:
            status, _, body = post(port, body=b"x" * 1000)
            ok = False
        except (http.client.IncompleteRead, ConnectionError, http.client.RemoteDisconnected):
            ok = True
        check(ok, "reset cuts the answer mid-body")

        # drop: reset before any answer.
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "drop"}]})
        try:
            post(port)
            ok = False
        except (ConnectionError, http.client.RemoteDisconnected):
            ok = True
        check(ok, "drop resets before any answer")

        # blackhole: no answer; the client's own timeout ends it; the hold is bounded.
        control_call(control, "PUT", "/plan", {"rules": [{"fault": "blackhole", "seconds": 60}]})
        t0 = time.monotonic()
        try:
            post(port, timeout=1)
            ok = False
        except socket.timeout:
            ok = True
        check(ok and time.monotonic() - t0 < 2, "blackhole never answers (client timed out)")
        time.sleep(0.3)
        _, s = control_call(control, "GET", "/stats")
        check(s["open_holds"] == 0, "a hold ends when the client hangs up")

        # a stream is relayed as it comes, not when it ends.
        control_call(control, "PUT", "/plan", {"rules": []})
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/watch")
        r = c.getresponse()
        t0 = time.monotonic()
        first = r.read1(100)
        first_at = time.monotonic() - t0
        rest = first + r.read()
        check(first_at < 0.3 and b'{"n":2}' in rest,
              "a chunked stream is relayed chunk by chunk (first after %.2f s)" % first_at)

        status, _ = control_call(control, "PUT", "/plan", {"rules": [{"fault": "explode"}]})
        check(status == 400, "an unknown fault is refused")
    finally:
        proc.kill()
        proc.wait()
    check_tls_blackhole(up_port)
    upstream.shutdown()
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
