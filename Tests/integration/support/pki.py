"""Certificates made at test time with the real `openssl` command line tool."""
import os
import subprocess
from dataclasses import dataclass


def _openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@dataclass
class KeyPair:
    cert: str  # path to the PEM certificate
    key: str   # path to the PEM private key


def _key_args(key):
    """`openssl req` arguments for a new key: "ec" (P-256) or "rsa:BITS"."""
    if key == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    return ["-newkey", key]


def make_ca(folder, name="test-ca"):
    """A self-signed CA (EC P-256) that can sign leaf certificates."""
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    _openssl("req", "-x509", *_key_args("ec"),
             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return KeyPair(cert, key)


def make_intermediate(folder, name, ca, is_ca=True):
    """An intermediate signed by `ca`; `is_ca=False` leaves out basicConstraints CA:TRUE,
    so it must not be accepted as an issuer."""
    constraints = "critical,CA:TRUE" if is_ca else "CA:FALSE"
    return _make(folder, name, ca, "basicConstraints=%s\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n"
                 % constraints)


def make_cert(folder, name, ca, sans=("IP:127.0.0.1", "DNS:localhost"),
              days=2, expired=False, client=False, cn=None, key="ec", digest="sha256",
              not_yet_valid=False, eku=None):
    """A leaf certificate signed by `ca` with the given subjectAltNames.

    `expired` dates the certificate entirely in the past, `not_yet_valid` in the
    future; `ca=None` makes it self-signed. `cn` is the subject's CN (default
    `name`), `key` "ec" or "rsa:BITS", `digest` the signature's hash, `eku` the
    extendedKeyUsage (default serverAuth, or clientAuth with `client`).
    """
    ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n" % (eku or ("clientAuth" if client else "serverAuth"))
    if sans:
        ext += "subjectAltName=%s\n" % ",".join(sans)
    validity = None
    if expired:
        validity = ("20200101000000Z", "20200201000000Z")
    elif not_yet_valid:
        validity = ("20990101000000Z", "20990201000000Z")
    return _make(folder, name, ca, ext, days=days, cn=cn, key=key, digest=digest, validity=validity)


def _make(folder, name, ca, extensions, days=2, cn=None, key="ec", digest="sha256", validity=None):
    cert, key_path = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    csr = os.path.join(folder, name + ".csr")
    ext = os.path.join(folder, name + ".ext")
    with open(ext, "w") as f:
        f.write(extensions)
    _openssl("req", "-new", *_key_args(key),
             "-nodes", "-keyout", key_path, "-out", csr, "-subj", "/CN=" + (cn or name))
    if validity:
        # `openssl x509` in OpenSSL 3.0 has no -not_before; `openssl ca` does.
        db = os.path.join(folder, name + ".db")
        open(db, "w").close()
        signer = ca or KeyPair(cert, key_path)
        args = ["ca", "-batch", "-notext", "-in", csr, "-out", cert, "-extfile", ext,
                "-startdate", validity[0], "-enddate", validity[1],
                "-outdir", folder, "-rand_serial", "-md", digest,
                "-config", _ca_config(folder, db)]
        if ca is None:
            args += ["-selfsign", "-keyfile", key_path]
        else:
            args += ["-cert", signer.cert, "-keyfile", signer.key]
        _openssl(*args)
    elif ca is None:
        _openssl("x509", "-req", "-in", csr, "-signkey", key_path, "-out", cert,
                 "-days", str(days), "-extfile", ext, "-" + digest)
    else:
        _openssl("x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key,
                 "-CAcreateserial", "-out", cert, "-days", str(days), "-extfile", ext, "-" + digest)
    return KeyPair(cert, key_path)


def openssl_conf(folder, name, security_level, min_protocol=None):
    """An openssl.cnf for OPENSSL_CONF whose system default is `@SECLEVEL=security_level`
    (Debian's own says 2), and optionally a lower MinProtocol."""
    path = os.path.join(folder, name + ".cnf")
    with open(path, "w") as f:
        f.write("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = defaults\n"
                "[defaults]\nCipherString = DEFAULT@SECLEVEL=%d\n" % security_level)
        if min_protocol:
            f.write("MinProtocol = %s\n" % min_protocol)
    return path


def _ca_config(folder, db):
    path = os.path.join(folder, "ca.cnf")
    with open(path, "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s\nserial=%s.serial\npolicy=p\n"
                "copy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n" % (db, db))
    return path
