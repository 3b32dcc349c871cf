"""The scratch image, run the way a kubelet runs a pod.

The image's file system (exported from the podman image built from
Dockerfile.scratch) gets what a pod gets: /proc, the service account's
token, ca.crt and namespace, the in-cluster and downward-API variables, and
nothing else. The binary runs in it as PID 1, uid 65532, on a read-only root,
against the fake API server over TLS and a usage server on 127.0.0.1:6001
(the default port, since the pod is given no settings).
"""
import glob
import os
import re
import subprocess

import pytest

from conftest import REPO
from support.pod import running_pod, service_account_folder, wait_until
from support.servers import WATCHER_VERBS

LABEL = "echo.soketi.app/accepts-new-connections"


SIZE_BUDGET = 4_100_000  # bytes, stripped, Embedded Swift (-O) with the lean OpenSSL: 4,018,048 (Debian's OpenSSL 5.2 MB, the normal static build 10.1 MB)


def test_the_static_binary_fits_its_budget():
    binary = os.path.join(REPO, "out", "network-watcher")
    size = os.path.getsize(binary)
    assert size <= SIZE_BUDGET, "%s is %d bytes, over the %d byte budget" % (binary, size, SIZE_BUDGET)


def test_the_static_binary_starts_with_the_functions_a_run_executes():
    """The build scripts hand scripts/symbol-order.txt to lld, and the list is not stale (read from
    scripts/build-static.sh's link, whose symbols the stripped Embedded binary no longer has)."""
    # The same link before `strip`, which build-static.sh leaves behind.
    binary = os.path.join(REPO, ".build-static", "release", "network-watcher")
    listing = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, timeout=60,
                             check=True).stdout
    address = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "TtWi":
            address.setdefault(fields[2], int(fields[0], 16))
    with open(os.path.join(REPO, "scripts", "symbol-order.txt")) as f:
        names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    missing = [name for name in names if name not in address]
    assert len(missing) <= len(names) // 10, (
        "%d of %d names in scripts/symbol-order.txt are not in the binary (e.g. %s): run scripts/symbol-order.sh"
        % (len(missing), len(names), missing[:3]))
    # The first half of the list (functions with sections of their own, about 1 MB in all) sits at the
    # start of .text; left in place they spread over all of its 7 MB. A few glibc functions live in
    # sections that lld places apart (__libc_freeres_fn).
    start = min(address.values())
    first = sorted(address[name] - start for name in names[:len(names) // 2] if name in address)
    assert first[len(first) * 95 // 100] < 2 << 20, (
        "5 %% of the first listed functions lie beyond %d bytes into .text" % first[len(first) * 95 // 100])


def test_the_image_holds_the_binary_alone(scratch_image):
    image = scratch_image
    assert sorted(os.listdir(image.root)) == ["network-watcher"]
    assert image.entrypoint == ["/network-watcher", "network:watch"]
    if image.config:
        assert image.config["User"] == "65532:65532"
    kind = subprocess.run(["file", "-b", os.path.join(image.root, "network-watcher")],
                          capture_output=True, text=True, timeout=30).stdout
    assert "statically linked" in kind


def test_the_image_is_the_binary_and_a_few_kilobytes(scratch_image):
    """The image's size as podman gives it: the binary plus the layer's file-system records."""
    if scratch_image.size is None:
        pytest.skip("podman is not installed: no image to measure")
    binary = os.path.getsize(os.path.join(REPO, "out", "network-watcher"))
    print("image size %d bytes, binary %d bytes" % (scratch_image.size, binary))
    assert binary <= scratch_image.size <= binary + 64 * 1024
    assert scratch_image.size <= SIZE_BUDGET + 64 * 1024


def test_the_image_carries_its_oci_labels(scratch_image):
    if scratch_image.config is None:
        pytest.skip("podman is not installed: no image config to read")
    labels = scratch_image.config["Labels"]
    prefix = "org.opencontainers.image."
    assert labels[prefix + "licenses"] == "Apache-2.0"
    assert labels[prefix + "title"] == "network-watcher"
    assert labels[prefix + "description"] and labels[prefix + "source"]
    for name, value in scratch_image.build_args.items():
        assert labels[prefix + name.lower()] == value, name
    with open(os.path.join(REPO, "LICENSE")) as f:
        assert "Apache License" in f.read(300)


def test_the_static_binary_is_stamped():
    """scripts/build-embedded.sh stamps the commit, date and compiler; the Dockerfile's version agrees."""
    binary = os.path.join(REPO, "out", "network-watcher")
    lines = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10,
                           env={}).stdout.splitlines()
    fields = dict(line.split(": ", 1) for line in lines[1:])
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", fields["commit"]), lines
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["built"]), lines
    compiler = subprocess.run(["swift", "--version"], capture_output=True, text=True, timeout=60).stdout
    assert "Swift version %s " % fields["swift"] in compiler, (fields["swift"], compiler)
    assert fields["openssl"].startswith("OpenSSL 3."), lines
    with open(os.path.join(REPO, "Dockerfile.scratch")) as f:
        default = re.search(r"^ARG VERSION=(\S+)$", f.read(), re.M).group(1)
    assert lines[0] == "network-watcher " + default


# Code that scripts/build-openssl.sh compiles out, by the source file names OpenSSL's errors carry:
# finite-field DH, DSA, engines, certificate transparency, OCSP, CMS, and the old and national ciphers.
COMPILED_OUT = re.compile(rb"crypto/(dh|dsa|engine|ct|ocsp|cms|camellia|aria|sm4|seed)/\w+\.c"
                          rb"|cipher_(aria|camellia|sm4|seed|tdes|des)\w*\.c")


def lean_openssl_builds():
    """The prefixes scripts/build-openssl.sh has completed: OPENSSL_PREFIX's (scripts/test.sh sets
    it), else those in .build-openssl/."""
    if os.environ.get("OPENSSL_PREFIX"):
        return [os.environ["OPENSSL_PREFIX"]]
    folders = glob.glob(os.path.join(REPO, ".build-openssl", "openssl-*"))
    return sorted(f for f in folders if os.path.exists(os.path.join(f, ".complete")))


def openssl_built_on(data):
    """OpenSSL's "built on: DATE" line, which each build of libcrypto carries."""
    found = re.search(rb"built on: [^\0\n]+", data)
    return found.group(0).decode() if found else None


def test_the_static_binary_carries_the_lean_openssl():
    """out/network-watcher links the OpenSSL of scripts/build-openssl.sh: that very libcrypto,
    whose version --version names, without the code the build leaves out."""
    binary = os.path.join(REPO, "out", "network-watcher")
    with open(binary, "rb") as f:
        data = f.read()
    built_on = openssl_built_on(data)
    prefixes = lean_openssl_builds()
    linked = []
    for prefix in prefixes:
        with open(os.path.join(prefix, "lib", "libcrypto.a"), "rb") as f:
            if openssl_built_on(f.read()) == built_on:
                linked.append(prefix)
    if not linked:
        message = "%s was built against another OpenSSL (%s) than scripts/build-openssl.sh's (%s)" % (
            binary, built_on, ", ".join(prefixes) or "none built")
        if os.environ.get("OPENSSL_PREFIX"):
            pytest.fail(message)
        pytest.skip(message + ": OPENSSL_PREFIX=$(scripts/build-openssl.sh) scripts/build-embedded.sh builds it")
    with open(os.path.join(linked[0], "include", "openssl", "opensslv.h")) as f:
        header = f.read()
    version = re.search(r'define OPENSSL_FULL_VERSION_STR "([^"]+)"', header).group(1)
    date = re.search(r'define OPENSSL_RELEASE_DATE "([^"]+)"', header).group(1)
    with open(os.path.join(linked[0], ".complete")) as f:
        assert f.readline().split()[1].startswith(version + "-"), "its Debian version names OpenSSL " + version
    lines = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10,
                           env={}).stdout.splitlines()
    assert "openssl: OpenSSL %s %s" % (version, date) in lines, lines
    left = sorted(set(found.group(0).decode() for found in COMPILED_OUT.finditer(data)))
    assert not left, "code that scripts/build-openssl.sh leaves out is in the binary: %s" % left


def write_atomically(path, text):
    """As the kubelet updates projected volumes: a new file renamed over the old."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o644)
    os.rename(path + ".new", path)


def test_pod_faithful_run(scratch_image, start_fake_apiserver, start_usage_server, tmp_path):
    api = start_fake_apiserver(tokens={"first-token": WATCHER_VERBS})
    api.add_namespace("echo")
    pod = api.add_pod("echo-0", namespace="echo", labels={"app": "echo"})
    try:
        usage = start_usage_server(port=6001)
    except RuntimeError as error:
        pytest.fail("the usage server needs 127.0.0.1:6001, the watcher's default: %s" % error)
    usage.set(percent=40)
    accounts = service_account_folder(api, str(tmp_path / "serviceaccount"), "first-token", "echo")
    environment = dict(api.cluster_env(), POD_NAME="echo-0", POD_NAMESPACE="echo")

    with running_pod(scratch_image, accounts, environment) as running:
        assert running.status("Uid:")[0] == "65532", "not running as uid 65532"
        assert running.status("NSpid:")[-1] == "1", "the watcher should be PID 1 in its namespace"

        labels = lambda: api.labels("echo-0", namespace="echo").get(LABEL)
        wait_until("the label to be ensured as yes", lambda: labels() == "yes")

        usage.set(percent=90)
        wait_until("the label to turn no above 75%", lambda: labels() == "no")
        reasons = lambda: [e["reason"] for e in api.events()]
        wait_until("an OverThreshold Event", lambda: "OverThreshold" in reasons())

        # The kubelet rotates the token: the old one stops working, the file changes.
        api.clear_requests()
        api.set_tokens({"second-token": WATCHER_VERBS})
        write_atomically(os.path.join(accounts, "token"), "second-token")
        usage.set(percent=30)
        wait_until("the label to turn yes with the rotated token", lambda: labels() == "yes")
        wait_until("a BelowThreshold Event", lambda: "BelowThreshold" in reasons())
        sent = [(r["status"], r["headers"].get("authorization")) for r in api.requests(r"/pods/echo-0")]
        assert (401, "Bearer first-token") in sent
        assert any(status == 200 and auth == "Bearer second-token" for status, auth in sent)

        elapsed = running.terminate()
        assert elapsed < 2.0, "the pod took %.2fs to stop" % elapsed
        assert running.process.returncode == 0, running.output()
        assert labels() == "no"
        assert "Terminating" in reasons()
        event = [e for e in api.events() if e["reason"] == "Terminating"][0]
        assert event["involvedObject"]["uid"] == pod["metadata"]["uid"]
