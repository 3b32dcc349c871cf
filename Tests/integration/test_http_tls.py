"""TLS against `openssl s_server` and the raw-byte server over TLS.

Verification, protocol versions, SNI, client certificates.

`s_server -www` answers each connection with an HTTP/1.0 status page that
reports the negotiated protocol and, when one was sent, the client certificate.
Certificates are made with openssl at test time (support/pki.py).
"""
import re

import pytest

from support.peers import (raw_server, run_client, s_client_handshake, s_server, step,  # noqa: F401
                           tls_pki)

SNI_LINE = "Hostname in TLS extension"


def get(binary, url, *args):
    return run_client(binary, "get", url, "--timeout", "10", *args)


def assert_verify_failed(result, reason):
    detail = result.expect_error("tls")
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
def test_ca_bundle_with_several_certificates(httplite_bin, s_server, tls_pki, tmp_path, option):
    bundle = tmp_path / "bundle.pem"
    with open(tls_pki["other_ca"].cert) as first, open(tls_pki["ca"].cert) as second:
        bundle.write_text(first.read() + second.read())
    server = s_server(tls_pki["server"])
    get(httplite_bin, server.url(), option, str(bundle)).expect_ok()


def test_expired_certificate_fails_verification(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["expired"])
    assert_verify_failed(get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert), "expired")


def test_self_signed_certificate_fails_verification(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["self_signed"])
    assert_verify_failed(get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert),
                         r"self[- ]signed")


@pytest.mark.parametrize("cert", ["self_signed", "expired", "other_name"])
def test_insecure_skips_verification(httplite_bin, s_server, tls_pki, cert):
    server = s_server(tls_pki[cert])
    response = get(httplite_bin, server.url(), "--insecure").expect_ok()[0]
    assert response["status"] == 200


# ---------------------------------------------------------------- names and addresses

def test_certificate_for_another_name_fails_for_ip(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["other_name"])
    assert_verify_failed(get(httplite_bin, server.url(), "--ca", tls_pki["ca"].cert), "mismatch")


def test_ip_san_verifies_ip_address(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["ip_only"])
    get(httplite_bin, server.url(host="127.0.0.1"), "--ca", tls_pki["ca"].cert).expect_ok()


def test_ip_san_does_not_verify_the_name_localhost(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["ip_only"])
    assert_verify_failed(get(httplite_bin, server.url(host="localhost"), "--ca", tls_pki["ca"].cert),
                         "mismatch")


def test_dns_san_verifies_localhost(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["dns_localhost"])
    get(httplite_bin, server.url(host="localhost"), "--ca", tls_pki["ca"].cert).expect_ok()


def test_dns_san_does_not_verify_an_ip_address(httplite_bin, s_server, tls_pki):
    server = s_server(tls_pki["dns_localhost"])
    assert_verify_failed(get(httplite_bin, server.url(host="127.0.0.1"), "--ca", tls_pki["ca"].cert),
                         "mismatch")


def test_ip_written_as_dns_san_does_not_verify_the_ip(httplite_bin, s_server, tls_pki):
    # subjectAltName DNS:127.0.0.1 is a name, not an address: an IP is checked against IP SANs.
    server = s_server(tls_pki["dns_ip_text"])
    assert_verify_failed(get(httplite_bin, server.url(host="127.0.0.1"), "--ca", tls_pki["ca"].cert),
                         "mismatch")


def test_ipv6_address_verifies_against_ipv6_san(httplite_bin, s_server, tls_pki):
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
