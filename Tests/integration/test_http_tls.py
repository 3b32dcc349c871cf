"""TLS against `openssl s_server` and the raw-byte server over TLS.

Verification, protocol versions, SNI, client certificates.

`s_server -www` answers each connection with an HTTP/1.0 status page that
reports the negotiated protocol and, when one was sent, the client certificate.
Certificates are made with openssl at test time (support/pki.py).
"""
import os
import re
import socket
import subprocess
import threading
from dataclasses import dataclass

import pytest

from support import pki
from support.peers import (raw_server, run_client, s_client_handshake, s_server, step,  # noqa: F401
                           tls_pki)

SNI_LINE = "Hostname in TLS extension"


def get(binary, url, *args):
    return run_client(binary, "get", url, "--timeout", "10", *args)


def assert_verify_failed(result, reason):
    detail = result.expect_error("certificateRejected")
    assert "certificate verify failed" in detail, result.describe()
    assert re.search(reason, detail, re.IGNORECASE), "detail should carry OpenSSL's reason %r:\n%s" % (
        reason, result.describe())


# ---------------------------------------------------------------- trust

def test_right_ca_file_verifies(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    response = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert).expect_ok()[0]
    assert response["status"] == 200
    assert re.search(r"New, TLSv1\.[23], Cipher is", response["body"]), response["body"][:2000]


def test_right_ca_pem_bytes_verify(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    response = get(httplite_bin, server.url(), "--ca-pem", tls_pki["ca"].cert).expect_ok()[0]
    assert response["status"] == 200


@pytest.mark.parametrize("option", ["--ca", "--ca-pem"])
def test_wrong_ca_fails_verification(httplite_bin, s_server, tls_pki, option):
    server = s_server(tls_pki["server"])
    result = get(httplite_bin, server.url(), option, tls_pki["other_ca"].cert)
    assert_verify_failed(result, "unable to get local issuer certificate")


def test_no_ca_uses_system_store_which_lacks_the_test_ca(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    assert_verify_failed(get(httplite_bin, server.url()), "unable to get local issuer certificate")


def test_no_ca_uses_openssl_default_paths(httplite_bin, s_server, tls_pki):
    # OpenSSL's default verify paths honour SSL_CERT_FILE: pointing it at the test CA
    # shows the client loaded the defaults rather than trusting nothing.
    server = s_server(tls_pki["server"])
    result = run_client(httplite_bin, "get", server.url(), "--timeout", "10",
                        env={"SSL_CERT_FILE": tls_pki["ca"].cert})
    assert result.expect_ok()[0]["status"] == 200


@pytest.mark.parametrize("option", ["--ca", "--ca-pem"])
@pytest.mark.parametrize("first", ["other_ca", "ca"], ids=["two-cas", "one-ca-twice"])
def test_ca_bundle_with_several_certificates(httplite_bin, s_server, tls_pki, tmp_path, option, first):
    # A CA that appears twice is no failure of X509_STORE_add_cert, whose result is checked.
    bundle = tmp_path / "bundle.pem"
    with open(tls_pki[first].cert) as one, open(tls_pki["ca"].cert) as two:
        bundle.write_text(one.read() + two.read())
    server = s_server(tls_pki["server"])
    get(httplite_bin, server.url(), option, str(bundle)).expect_ok()


@pytest.mark.parametrize("cert", ["self_signed", "expired", "other_name"])
def test_insecure_skips_verification_and_warns(httplite_bin, s_server, tls_pki, cert):
    server = s_server(tls_pki[cert])
    result = get(httplite_bin, server.url(), "--insecure")
    assert result.expect_ok()[0]["status"] == 200
    assert "warning: --insecure" in result.stderr and "not verified" in result.stderr, result.describe()


def test_no_warning_when_verifying(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    result = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert)
    result.expect_ok()
    assert "warning" not in result.stderr, result.describe()


# ---------------------------------------------------------------- the certificate matrix
#
# Each case: the certificate s_server presents, how the client reaches it, and the
# verdict a careful client (Go's crypto/x509, RFC 9525) gives. The client trusts
# only the test CA. "@name" in arguments is that certificate's file, "@name.key" its key.

@dataclass(frozen=True)
class Case:
    cert: str
    verdict: str          # "ok", or the error code httplite must exit with
    reason: str = ""      # for a refusal, a regex its detail must match
    host: str = "127.0.0.1"
    client: tuple = ()
    server: tuple = ()
    client_conf: str = None   # an OPENSSL_CONF for the client: "level1" or "level0"
    server_conf: str = None
    listen: str = "127.0.0.1"


MISMATCH = "hostname mismatch|IP address mismatch"
WEAK_KEY = "key too weak|key too small"
WEAK_DIGEST = "digest algorithm too weak|md too weak"

CASES = {
    # Names: the CN never stands in for a DNS SAN; wildcards only as the whole left-most label.
    "cn-only-for-localhost": Case("cn_only", "certificateRejected", MISMATCH, host="localhost"),
    "ip-san-and-cn-localhost-for-localhost": Case("ip_san_cn_localhost", "certificateRejected", MISMATCH,
                                                  host="localhost"),
    "partial-wildcard-k*": Case("partial_wildcard", "certificateRejected", MISMATCH,
                                client=("--server-name", "kubernetes.default.svc")),
    "whole-label-wildcard": Case("label_wildcard", "ok", client=("--server-name", "kubernetes.default.svc")),
    "wildcard-for-one-label": Case("wildcard", "ok", client=("--server-name", "api.example.test")),
    "wildcard-for-two-labels": Case("wildcard", "certificateRejected", MISMATCH,
                                    client=("--server-name", "a.b.example.test")),
    "wildcard-for-its-parent": Case("wildcard", "certificateRejected", MISMATCH,
                                    client=("--server-name", "example.test")),
    "wildcard-not-left-most": Case("inner_wildcard", "certificateRejected", MISMATCH,
                                   client=("--server-name", "api.x.example.test")),
    "dns-san-localhost": Case("dns_localhost", "ok", host="localhost"),
    "dns-san-via-server-name": Case("dns_localhost", "ok", client=("--server-name", "localhost")),
    "dns-san-for-another-name": Case("other_name", "certificateRejected", MISMATCH),
    # An empty name would leave OpenSSL checking no name at all: the failed SNI call stops it.
    "empty-server-name": Case("other_name", "tls", "SSL_set_tlsext_host_name", client=("--server-name", "")),
    # Addresses: only against IP SANs.
    "ipv4-san": Case("ip_only", "ok"),
    "ipv6-san": Case("ipv6", "ok", host="::1", listen="::1"),
    "ip-as-server-name": Case("ip_only", "ok", host="localhost", client=("--server-name", "127.0.0.1")),
    "ip-san-for-the-name-localhost": Case("ip_only", "certificateRejected", MISMATCH, host="localhost"),
    "dns-san-localhost-for-an-ip": Case("dns_localhost", "certificateRejected", MISMATCH),
    "ip-written-as-dns-san": Case("dns_ip_text", "certificateRejected", MISMATCH),
    "cn-only-ip": Case("cn_only_ip", "certificateRejected", MISMATCH),
    # Validity.
    "expired": Case("expired", "certificateRejected", "expired"),
    "not-yet-valid": Case("not_yet_valid", "certificateRejected", "not yet valid"),
    # Chains.
    "unknown-ca": Case("server", "certificateRejected", "unable to get local issuer certificate",
                       client=("--ca", "@other_ca")),
    "self-signed-leaf": Case("self_signed", "certificateRejected", "self[- ]signed"),
    "intermediate-sent": Case("behind_intermediate", "ok", server=("-cert_chain", "@intermediate")),
    "intermediate-missing": Case("behind_intermediate", "certificateRejected", "unable to get local issuer"),
    "intermediate-not-a-ca": Case("behind_not_ca", "certificateRejected", "invalid CA certificate",
                                  server=("-cert_chain", "@not_ca_intermediate")),
    # Purpose.
    "client-auth-only-eku": Case("client_auth_only", "certificateRejected", "unsuitable certificate purpose"),
    # Strength, with a system configuration that would allow weaker.
    "rsa-1024-at-level-1": Case("rsa1024", "certificateRejected", WEAK_KEY,
                                client_conf="level1", server_conf="level0"),
    "rsa-1024-at-level-0": Case("rsa1024", "certificateRejected", WEAK_KEY,
                                client_conf="level0", server_conf="level0"),
    "rsa-2048-at-level-1": Case("rsa2048", "ok", client_conf="level1"),
    "sha1-signed-at-level-1": Case("sha1", "certificateRejected", WEAK_DIGEST,
                                   client_conf="level1", server_conf="level0"),
    "sha1-signed-at-level-0": Case("sha1", "certificateRejected", WEAK_DIGEST,
                                   client_conf="level0", server_conf="level0"),
    # Protocol version: TLS 1.2 stays the minimum even when the system allows TLS 1.0.
    "tls1.1-only-server-at-level-0": Case("server", "tls", "protocol|version", client_conf="level0",
                                          server=("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")),
    # A client certificate the server requires.
    "client-certificate-required": Case("server", "ok", client=("--cert", "@client", "--key", "@client.key"),
                                        server=("-Verify", "1", "-CAfile", "@ca")),
}


@pytest.fixture(scope="module")
def matrix_pki(tls_pki, tmp_path_factory):
    """tls_pki's certificates and the matrix's odd ones, made with openssl, plus the OPENSSL_CONF files."""
    folder = str(tmp_path_factory.mktemp("matrix-pki"))
    ca = tls_pki["ca"]
    intermediate = pki.make_intermediate(folder, "intermediate", ca)
    not_ca = pki.make_intermediate(folder, "not-ca-intermediate", ca, is_ca=False)
    certs = {
        "cn_only": pki.make_cert(folder, "cn-only", ca, sans=None, cn="localhost"),
        "cn_only_ip": pki.make_cert(folder, "cn-only-ip", ca, sans=None, cn="127.0.0.1"),
        "ip_san_cn_localhost": pki.make_cert(folder, "ip-san-cn-localhost", ca, sans=("IP:127.0.0.1",),
                                             cn="localhost"),
        "partial_wildcard": pki.make_cert(folder, "partial-wildcard", ca, sans=("DNS:k*.default.svc",)),
        "label_wildcard": pki.make_cert(folder, "label-wildcard", ca, sans=("DNS:*.default.svc",)),
        "wildcard": pki.make_cert(folder, "wildcard", ca, sans=("DNS:*.example.test",)),
        "inner_wildcard": pki.make_cert(folder, "inner-wildcard", ca, sans=("DNS:api.*.example.test",)),
        "not_yet_valid": pki.make_cert(folder, "not-yet-valid", ca, not_yet_valid=True),
        "intermediate": intermediate,
        "behind_intermediate": pki.make_cert(folder, "behind-intermediate", intermediate),
        "not_ca_intermediate": not_ca,
        "behind_not_ca": pki.make_cert(folder, "behind-not-ca", not_ca),
        "client_auth_only": pki.make_cert(folder, "client-auth-only", ca, eku="clientAuth"),
        "rsa1024": pki.make_cert(folder, "rsa1024", ca, key="rsa:1024"),
        "rsa2048": pki.make_cert(folder, "rsa2048", ca, key="rsa:2048"),
        "sha1": pki.make_cert(folder, "sha1", ca, digest="sha1"),
    }
    confs = {"level1": pki.openssl_conf(folder, "level1", 1),
             "level0": pki.openssl_conf(folder, "level0", 0, min_protocol="TLSv1")}
    return {**tls_pki, **certs, "conf": confs}


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def resolve_arguments(arguments, certs):
    """Replaces "@name" with that certificate's file and "@name.key" with its key."""
    resolved = []
    for argument in arguments:
        if argument.startswith("@"):
            name, _, part = argument[1:].partition(".")
            argument = certs[name].key if part == "key" else certs[name].cert
        resolved.append(argument)
    return resolved


@pytest.mark.parametrize("name", list(CASES))
def test_certificate_matrix(httplite_bin, s_server, matrix_pki, name):
    case = CASES[name]
    if case.listen == "::1" and not ipv6_loopback_available():
        pytest.skip("::1 is not available here")
    conf = matrix_pki["conf"]
    server = s_server(matrix_pki[case.cert], *resolve_arguments(case.server, matrix_pki), host=case.listen,
                      env={"OPENSSL_CONF": conf[case.server_conf]} if case.server_conf else None)
    result = run_client(httplite_bin, "get", server.url(host=case.host), "--timeout", "10",
                        "--ca", matrix_pki["ca"].cert, *resolve_arguments(case.client, matrix_pki),
                        env={"OPENSSL_CONF": conf[case.client_conf]} if case.client_conf else None)
    if case.verdict == "ok":
        assert result.expect_ok()[0]["status"] == 200
        return
    detail = result.expect_error(case.verdict)
    assert re.search(case.reason, detail, re.IGNORECASE), "expected the reason %r:\n%s" % (
        case.reason, result.describe())


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.server_conf])
def test_weak_certificates_are_really_served(s_server, matrix_pki, name):
    # A strength refusal means something only if the server presents a chain that a
    # permissive client accepts: s_client at security level 0 verifies it.
    case = CASES[name]
    conf = {"OPENSSL_CONF": matrix_pki["conf"][case.server_conf]}
    server = s_server(matrix_pki[case.cert], env=conf)
    proc = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.port,
                           "-CAfile", matrix_pki["ca"].cert, "-verify_return_error",
                           "-cipher", "DEFAULT@SECLEVEL=0"],
                          input=b"", capture_output=True, timeout=20, env={**os.environ, **conf})
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert proc.returncode == 0 and "Verify return code: 0 (ok)" in output, output[-2000:]


# ---------------------------------------------------------------- a peer that leaves mid-handshake

class HandshakeDropper:
    """Accepts one connection, reads the ClientHello, sends `reply`, and closes (FIN, not RST)."""

    def __init__(self, reply=b""):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.got_hello = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(10)
            header = self.read(conn, 5)
            if len(header) == 5 and header[0] == 0x16:  # a TLS handshake record
                self.read(conn, int.from_bytes(header[3:5], "big"))
                self.got_hello.set()
            conn.sendall(self.reply)
            conn.shutdown(socket.SHUT_WR)
            self.read(conn, 1 << 16)  # until the client closes: no RST from unread bytes

    @staticmethod
    def read(conn, count):
        data = b""
        while len(data) < count:
            chunk = conn.recv(count - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def close(self):
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.mark.parametrize("reply", [b"", b"\x16\x03\x03"], ids=["after-client-hello", "mid-record"])
def test_peer_closing_mid_handshake_is_named(httplite_bin, tls_pki, reply):
    server = HandshakeDropper(reply)
    try:
        result = get(httplite_bin, "https://127.0.0.1:%d/" % server.port, "--ca", tls_pki["ca"].cert)
    finally:
        server.close()
    assert server.got_hello.is_set(), "the client sent no ClientHello"
    detail = result.expect_error("tls")
    assert "the peer closed the connection during the handshake" in detail, result.describe()


def test_peer_resetting_mid_handshake_is_named(httplite_bin, raw_server, tls_pki):
    server = raw_server()
    server.script([step(read=False, then="reset")])
    detail = get(httplite_bin, server.url(scheme="https"), "--ca", tls_pki["ca"].cert).expect_error("tls")
    assert "the peer reset the connection during the handshake" in detail, detail


# ---------------------------------------------------------------- names and addresses

def test_ipv6_address_verifies_against_ipv6_san(httplite_bin, s_server, tls_pki):
    if not ipv6_loopback_available():
        pytest.skip("::1 is not available here")
    server = s_server(tls_pki["ipv6"], "-debug", "-servername", "localhost",
                      "-cert2", tls_pki["other_name"].cert, "-key2", tls_pki["other_name"].key,
                      host="::1")
    response = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert).expect_ok()[0]
    assert response["status"] == 200
    assert SNI_LINE not in server.output(), "no SNI for an IPv6 address"


# ---------------------------------------------------------------- SNI

def test_sni_is_sent_for_names(httplite_bin, s_server, tls_pki):
    # Without SNI "localhost" the server presents a certificate for other.example only.
    server = s_server(tls_pki["other_name"], "-debug", "-servername", "localhost",
                      "-cert2", tls_pki["dns_localhost"].cert, "-key2", tls_pki["dns_localhost"].key)
    get(httplite_bin, server.url(host="localhost"), "--ca", tls_pki["ca"].cert).expect_ok()
    assert '%s: "localhost"' % SNI_LINE in server.output()


def test_sni_is_the_server_name_when_one_is_given(httplite_bin, s_server, tls_pki, matrix_pki):
    # Only SNI "api.example.test" makes the server switch to the *.example.test certificate.
    server = s_server(tls_pki["other_name"], "-debug", "-servername", "api.example.test",
                      "-cert2", matrix_pki["wildcard"].cert, "-key2", matrix_pki["wildcard"].key)
    get(httplite_bin, server.url(host="127.0.0.1"), "--ca", tls_pki["ca"].cert,
        "--server-name", "api.example.test").expect_ok()
    assert '%s: "api.example.test"' % SNI_LINE in server.output()


def test_sni_is_not_sent_for_an_ip_server_name(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["ip_only"], "-debug", "-servername", "127.0.0.1",
                      "-cert2", tls_pki["other_name"].cert, "-key2", tls_pki["other_name"].key)
    get(httplite_bin, server.url(host="localhost"), "--ca", tls_pki["ca"].cert,
        "--server-name", "127.0.0.1").expect_ok()
    assert SNI_LINE not in server.output()


def test_sni_is_not_sent_for_ip_addresses(httplite_bin, s_server, tls_pki):
    # Were "127.0.0.1" sent as SNI, the server would switch to a certificate for other.example.
    server = s_server(tls_pki["ip_only"], "-debug", "-servername", "127.0.0.1",
                      "-cert2", tls_pki["other_name"].cert, "-key2", tls_pki["other_name"].key)
    get(httplite_bin, server.url(host="127.0.0.1"), "--ca", tls_pki["ca"].cert).expect_ok()
    assert SNI_LINE not in server.output()


# ---------------------------------------------------------------- protocol versions

@pytest.mark.parametrize("limit", [["-tls1_1"], ["-no_tls1_2", "-no_tls1_3"], ["-tls1"]],
                         ids=["tls1.1-only", "tls1.0-and-1.1", "tls1.0-only"])
def test_server_below_tls12_is_refused(httplite_bin, s_server, tls_pki, limit):
    # SECLEVEL=0 lets OpenSSL 3 speak TLS < 1.2 at all; s_client proves the server does.
    server = s_server(tls_pki["server"], *limit, "-cipher", "DEFAULT@SECLEVEL=0")
    version = "-tls1" if limit == ["-tls1"] else "-tls1_1"
    spoken, output = s_client_handshake(server.port, version, "-cipher", "DEFAULT@SECLEVEL=0")
    assert spoken, "the old-TLS server does not work as intended:\n" + output[-2000:]
    detail = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert).expect_error("tls")
    assert "protocol" in detail.lower() or "version" in detail.lower(), detail


@pytest.mark.parametrize("version,name", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls12_and_tls13_servers_are_accepted(httplite_bin, s_server, tls_pki, version, name):
    server = s_server(tls_pki["server"], version)
    response = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert).expect_ok()[0]
    assert "New, %s, Cipher is" % name in response["body"], response["body"][:2000]


# ---------------------------------------------------------------- client certificates

@pytest.mark.parametrize("options", [("--cert", "--key"), ("--cert-pem", "--key-pem")],
                         ids=["files", "pem-bytes"])
def test_client_certificate_is_sent(httplite_bin, s_server, tls_pki, options):
    server = s_server(tls_pki["server"], "-Verify", "1", "-CAfile", tls_pki["ca"].cert)
    client = tls_pki["client"]
    response = get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert,
                   options[0], client.cert, options[1], client.key).expect_ok()[0]
    assert "Client certificate" in response["body"]
    assert re.search(r"Subject: ?CN ?= ?client", response["body"]), response["body"][-3000:]


def test_missing_client_certificate_is_refused_by_the_server(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"], "-Verify", "1", "-CAfile", tls_pki["ca"].cert)
    get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert).expect_error("tls")


def test_client_key_not_matching_certificate_is_a_configuration_error(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert, "--cert", tls_pki["client"].cert,
        "--key", tls_pki["server"].key).expect_error("tlsConfiguration")


def test_missing_ca_file_is_a_configuration_error(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["server"])
    missing = tls_pki["dir"] + "/no-such-ca.pem"
    get(httplite_bin, server.url(), "--ca", missing).expect_error("tlsConfiguration")


def test_ca_file_without_certificates_is_a_configuration_error(httplite_bin, s_server, tls_pki, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    server = s_server(tls_pki["server"])
    get(httplite_bin, server.url(), "--ca-pem", str(garbage)).expect_error("tlsConfiguration")


# ---------------------------------------------------------------- HTTP over TLS

def test_keep_alive_over_tls_with_raw_server(httplite_bin, raw_server, tls_pki):
    server = raw_server(tls=tls_pki["server"])
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    server.script([step(wire, piece=1, delay=0.002) for _ in range(3)])
    responses = run_client(httplite_bin, "get", server.url(scheme="https"), "--ca", tls_pki["ca"].cert,
                           "--repeat", "3", "--timeout", "10").expect_ok(3)
    assert [(r["body"], r["connections"]) for r in responses] == [("abc", 1)] * 3


def test_tls_close_mid_body_is_closed_early(httplite_bin, raw_server, tls_pki):
    server = raw_server(tls=tls_pki["server"])
    server.script([step(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", then="close")])
    run_client(httplite_bin, "get", server.url(scheme="https"), "--ca", tls_pki["ca"].cert,
               "--timeout", "10").expect_error("closedEarly")


def test_plain_http_server_on_https_url_is_a_tls_error(httplite_bin, raw_server, tls_pki):
    server = raw_server()
    # The server answers the ClientHello with plain HTTP and keeps the connection open.
    server.script([step(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", read=False,
                        then="hang")])
    run_client(httplite_bin, "get", server.url(scheme="https"), "--ca", tls_pki["ca"].cert,
               "--timeout", "10").expect_error("tls")


def test_server_that_never_answers_the_handshake_times_out(httplite_bin, raw_server):
    # TCP is accepted but no TLS byte ever comes back: the handshake wait is bounded too.
    server = raw_server()
    server.script([step(read=False, then="hang")])
    result = run_client(httplite_bin, "get", server.url(scheme="https"), "--insecure",
                        "--timeout", "1", "--connect-timeout", "1")
    assert result.error is not None, result.describe()
    assert result.error["error"] in ("connectTimeout", "readTimeout", "tls"), result.describe()
    assert result.elapsed < 5, result.describe()
