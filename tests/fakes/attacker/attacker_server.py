#!/usr/bin/env python3
"""A hostile tenant's server for the tenancy tests: listens on 127.0.0.1 (HTTPS with the
certificate given, or plain HTTP), answers like a transit engine where that lures the operator on
(GET <mount>/wrapping_key serves WRAPPING_KEY_PEM; any other GET is a Vault-style 404; token
lookups succeed), and logs EVERYTHING it receives, one JSON line per request (method, path,
headers, body in base64), so a test can assert that no wrapped key, credential or file content
ever reached it.

    attacker_server.py --port P --log FILE [--cert CERT --key KEY] [--wrapping-key PEM_FILE]
                       [--mode huge|drip|pages]

Modes, for the hostile-input tests (each bounded by the client hanging up, and by --max-seconds):
  huge   every answer is 200 with no Content-Length and 400 MiB of body, sent as fast as read
  drip   every answer is 200 with Content-Length 1 MB, then one byte per second
  pages  an AWS KMS that has the key asked for and answers ListResourceTags with
         Truncated: true and a fresh NextMarker, forever
"""
import argparse
import base64
import http.server
import json
import ssl
import sys
import threading
import time
import uuid

args = None
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # the JSON log is the record
        pass

    def record(self, body):
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": {k: v for k, v in self.headers.items()},
                                "body": base64.b64encode(body).decode()}) + "\n")

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream(self, chunk, count, pause):
        """Headers already sent: `count` chunks with `pause` seconds between, until the client
        hangs up or --max-seconds pass."""
        deadline = time.monotonic() + args.max_seconds
        try:
            for _ in range(count):
                if time.monotonic() > deadline:
                    break
                self.wfile.write(chunk)
                self.wfile.flush()
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def hostile(self):
        if args.mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.stream(b"x" * 65536, 400 * 16, 0)
            return True
        if args.mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.stream(b"{", 1000000, 1.0)
            return True
        if args.mode == "pages":
            target = self.headers.get("X-Amz-Target", "")
            if target.endswith(".DescribeKey"):
                key_id = str(uuid.uuid4())
                self.reply(200, {"KeyMetadata": {
                    "KeyId": key_id, "Arn": "arn:aws:kms:eu-west-1:111122223333:key/" + key_id,
                    "KeyState": "PendingImport", "Enabled": False, "Origin": "EXTERNAL",
                    "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT",
                    "CreationDate": 1.7e9}})
            elif target.endswith(".ListResourceTags"):
                self.reply(200, {"Tags": [{"TagKey": "k", "TagValue": "v"}], "Truncated": True,
                                 "NextMarker": str(uuid.uuid4())})
            else:
                self.reply(400, {"__type": "UnsupportedOperationException", "message": "no"})
            return True
        return False

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length else b""
        self.record(body)
        if args.mode and self.hostile():
            return
        if self.command == "GET" and self.path.endswith("/wrapping_key") and args.wrapping_key:
            with open(args.wrapping_key) as f:
                self.reply(200, {"data": {"public_key": f.read()}})
        elif self.command == "GET" and "auth/token/lookup-self" in self.path:
            self.reply(200, {"data": {"display_name": "token-attacker", "accessor": "a"}})
        elif self.command == "GET":
            self.reply(404, {"errors": []})
        else:
            self.reply(200, {"data": {}})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--wrapping-key")
    p.add_argument("--mode", choices=["huge", "drip", "pages"])
    p.add_argument("--max-seconds", type=float, default=300)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
