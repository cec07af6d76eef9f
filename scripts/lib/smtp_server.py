"""A real SMTP server for the notification tests: aiosmtpd requiring STARTTLS and AUTH (one
user), every message stored in a maildir.

    python smtp_server.py DIR USER PASSWORD

It makes a certificate authority (DIR/ca.pem, which the test trusts through SMTP_CA_FILE)
and a server certificate it signed for localhost/127.0.0.1, stores mail in DIR/mail/{new,cur,tmp}, logs each AUTH attempt
to DIR/auth.log, prints "READY <port>" once it serves, and stops when its stdin closes (so
it never outlives the test that started it).
"""

import os
import socket
import ssl
import subprocess
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    directory, user, password = sys.argv[1:4]
    path = lambda name: os.path.join(directory, name)
    cert, key = path("cert.pem"), path("key.pem")

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"),
            "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=rythm-backup test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", path("server.csr"),
            "-subj", "/CN=localhost")
    with open(path("server.ext"), "w") as ext:
        ext.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey",
            path("ca.key"), "-CAcreateserial", "-out", cert, "-days", "2", "-extfile",
            path("server.ext"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    maildir = os.path.join(directory, "mail")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    auth_log = os.path.join(directory, "auth.log")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        with open(auth_log, "a") as log:
            log.write(f"{mechanism} {'ok' if ok else 'refused'} tls={session.ssl is not None}\n")
        # handled=False: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        Mailbox(maildir), hostname="127.0.0.1", port=port, server_hostname="localhost",
        tls_context=context, require_starttls=True, auth_required=True,
        auth_require_tls=True, authenticator=authenticator,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
