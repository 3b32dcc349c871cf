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


def make_ca(folder, name="test-ca"):
    """A self-signed CA (EC P-256) that can sign leaf certificates."""
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return KeyPair(cert, key)


def make_cert(folder, name, ca, sans=("IP:127.0.0.1", "DNS:localhost"),
              days=2, expired=False, client=False):
    """A leaf certificate signed by `ca` with the given subjectAltNames.

    `expired` dates the certificate entirely in the past; `ca=None` makes it
    self-signed.
    """
    cert, key = os.path.join(folder, name + ".crt"), os.path.join(folder, name + ".key")
    csr = os.path.join(folder, name + ".csr")
    ext = os.path.join(folder, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        if sans:
            f.write("subjectAltName=%s\n" % ",".join(sans))
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    if expired:
        # `openssl x509` in OpenSSL 3.0 has no -not_before; `openssl ca` does.
        db = os.path.join(folder, name + ".db")
        open(db, "w").close()
        signer = ca or KeyPair(cert, key)
        args = ["ca", "-batch", "-notext", "-in", csr, "-out", cert, "-extfile", ext,
                "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                "-outdir", folder, "-rand_serial", "-md", "sha256",
                "-config", _ca_config(folder, db)]
        if ca is None:
            args += ["-selfsign", "-keyfile", key]
        else:
            args += ["-cert", signer.cert, "-keyfile", signer.key]
        _openssl(*args)
    elif ca is None:
        _openssl("x509", "-req", "-in", csr, "-signkey", key, "-out", cert,
                 "-days", str(days), "-extfile", ext)
    else:
        _openssl("x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key,
                 "-CAcreateserial", "-out", cert, "-days", str(days), "-extfile", ext)
    return KeyPair(cert, key)


def _ca_config(folder, db):
    path = os.path.join(folder, "ca.cnf")
    with open(path, "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s\nserial=%s.serial\npolicy=p\n"
                "copy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n" % (db, db))
    return path
