#!/usr/bin/python3
"""An SMTP server for integration tests, built on aiosmtpd (Debian's python3-aiosmtpd).

Modes:
  starttls  plain connection upgraded with STARTTLS (required before anything else), then
            AUTH (PLAIN or LOGIN) required with the one configured username and password
  smtps     TLS from the first byte (implicit TLS), AUTH required
  plain     no TLS offered at all and no AUTH: a server that cannot satisfy STARTTLS=required

Every accepted message is parsed with Python's email package, an implementation independent
of the sender's, and written to OUT_DIR as NNNN.json: envelope (mail_from, rcpt_tos), whether
the session was encrypted and who authenticated, the decoded headers, the MIME structure with
each part's decoded content, parser defects, and the raw message.

Recipients whose local part is "reject" are refused with 550 (permanent), "later" with 451
(transient), so tests can check how the sender classifies rejections.

usage: smtp_sink.py MODE PORT CERT KEY USERNAME PASSWORD OUT_DIR
"""
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local == "reject":
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local == "later":
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        defects = [repr(d) for d in message.defects]
        for part in message.walk():
            defects += [repr(d) for d in part.defects]
            if part.is_multipart():
                continue
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding", ""),
                "content": part.get_content(),
            })
        headers = {}
        for name in message.keys():
            headers.setdefault(name, str(message[name]))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "headers": headers,
            "header_counts": {name: len(message.get_all(name, [])) for name in message.keys()},
            "content_type": message.get_content_type(),
            "parts": parts,
            "defects": defects,
            "raw": raw.decode("utf-8", "replace"),
        }
        self.count += 1
        path = os.path.join(self.out_dir, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued as sink-%04d" % self.count


def main():
    mode, port, cert, key, username, password, out_dir = sys.argv[1:8]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == username.encode()
              and auth_data.password == password.encode())
        # handled=False lets aiosmtpd answer a failure itself: 535 5.7.8.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    options = {"hostname": "127.0.0.1", "port": int(port), "server_hostname": "sink.test"}
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_required=True,
                       authenticator=authenticator)
    elif mode == "smtps":
        # With TLS from the start aiosmtpd cannot tell that the session is encrypted, so AUTH
        # must not wait for STARTTLS.
        options.update(ssl_context=context, auth_required=True, auth_require_tls=False,
                       authenticator=authenticator)
    elif mode != "plain":
        sys.exit("unknown mode " + mode)
    controller = Controller(Sink(out_dir), **options)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
