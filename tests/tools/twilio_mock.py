#!/usr/bin/python3
"""A stand-in for Twilio's Messages API for integration tests: it accepts
POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth and form fields
To, From and Body, and answers as Twilio does: 201 with a Message resource, or an error
object {code, message, more_info, status} with the matching HTTP status.

Every request is written to OUT_DIR as NNNN.json (method, path, headers, raw body, parsed
form, the answer given) before the answer is sent.

Recipients with special answers (Twilio's own test numbers where one exists):
  whatsapp:+15005550001  400, error 21211 (the 'To' number is not a valid phone number)
  whatsapp:+15005550429  429, error 20429 (too many requests)
  whatsapp:+15005550500  500, error 20500 (internal server error)
  whatsapp:+15005550504  answers 201 only after 5 seconds (for client timeouts)

usage: twilio_mock.py PORT ACCOUNT_SID AUTH_TOKEN OUT_DIR
"""
import base64
import email.utils
import itertools
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, ACCOUNT_SID, AUTH_TOKEN, OUT_DIR = sys.argv[1:5]
COUNTER = itertools.count(1)
LOCK = threading.Lock()


def error(status, code, message):
    return status, {"code": code, "message": message,
                    "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status}


def created(form):
    sid = "SM" + secrets.token_hex(16)
    now = email.utils.formatdate(usegmt=True).replace("GMT", "+0000")
    base = "/2010-04-01/Accounts/%s/Messages/%s" % (ACCOUNT_SID, sid)
    return 201, {
        "account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": form.get("Body"),
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": form.get("From"),
        "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
        "price_unit": None, "sid": sid, "status": "queued",
        "subresource_uris": {"media": base + "/Media.json"}, "to": form.get("To"), "uri": base + ".json",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("twilio-mock: " + (fmt % args) + "\n")

    def answer(self, form):
        path = "/2010-04-01/Accounts/%s/Messages.json" % ACCOUNT_SID
        if self.path != path:
            return error(404, 20404, "The requested resource %s was not found" % self.path)
        if self.command != "POST":
            return error(405, 20004, "Method not allowed")
        expected = "Basic " + base64.b64encode(("%s:%s" % (ACCOUNT_SID, AUTH_TOKEN)).encode()).decode()
        if self.headers.get("Authorization") != expected:
            return error(401, 20003, "Authenticate")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return error(400, 20001, "Request body must be application/x-www-form-urlencoded")
        if not form.get("To"):
            return error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            return error(400, 21603, "A 'From' phone number is required.")
        if not form.get("Body"):
            return error(400, 21602, "Message body is required.")
        to = form["To"]
        if to == "whatsapp:+15005550001" or not to.startswith("whatsapp:+"):
            return error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if to == "whatsapp:+15005550429":
            return error(429, 20429, "Too Many Requests")
        if to == "whatsapp:+15005550500":
            return error(500, 20500, "Internal Server Error")
        if to == "whatsapp:+15005550504":
            time.sleep(5)
        return created(form)

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        parsed = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        form = {name: values[-1] for name, values in parsed.items()}
        status, body = self.answer(form)
        record = {
            "method": self.command, "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": raw.decode("utf-8", "replace"), "form": form,
            "form_counts": {name: len(values) for name, values in parsed.items()},
            "status": status, "answer": body,
        }
        with LOCK:
            path = os.path.join(OUT_DIR, "%04d.json" % next(COUNTER))
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = handle_any
    do_GET = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
