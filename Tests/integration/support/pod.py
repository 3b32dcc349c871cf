"""The scratch image, and a pod made of it the way a kubelet makes one.

    scratch_image   fixture (session): the image built from Dockerfile.scratch with the
                    local static binary, as Image(root, entrypoint, config, build_args);
                    config is podman's image config (None where podman cannot be had)
    Pod(image, accounts, environment, command=None), running_pod(...) for a with block
                    runs `command` (default: the image's entrypoint) in a copy of the image's root as
                    PID 1 of new mount and PID namespaces, uid 65532, on a read-only root,
                    with the service-account folder `accounts` mounted where a pod has it
"""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
IMAGE = "localhost/network-watcher:test"
SERVICE_ACCOUNT = "var/run/secrets/kubernetes.io/serviceaccount"
# What the image is built with, so that a test can find it in the image's labels.
BUILD_ARGS = {"VERSION": "9.8.7-test", "REVISION": "0123456789abcdef0123456789abcdef01234567",
              "CREATED": "2026-01-02T03:04:05Z"}

# Runs inside new mount and PID namespaces; the command ends up as PID 1.
POD_SCRIPT = """
set -e
root="$1"; accounts="$2"; shift 2
/bin/mount --bind "$root" "$root"
/bin/mount --bind "$accounts" "$root/%(sa)s"
/bin/mount -o remount,bind,ro "$root/%(sa)s"
/bin/mount -t proc proc "$root/proc"
/bin/mount -o remount,bind,ro "$root"
exec /usr/sbin/chroot --userspec=65532:65532 "$root" "$@"
""" % {"sa": SERVICE_ACCOUNT}


def wait_until(what, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("timed out after %ss waiting for %s" % (timeout, what))


@dataclass
class Image:
    root: str
    entrypoint: list
    config: dict  # podman's image config; None without podman
    build_args: dict
    size: int = None  # podman's image size in bytes; None without podman


@pytest.fixture(scope="session")
def scratch_image(tmp_path_factory):
    """The image's root file system, entrypoint and config."""
    binary = os.path.join(REPO, "out", "network-watcher")
    if not os.access(binary, os.X_OK):
        pytest.fail("%s is missing: scripts/build-embedded.sh builds it" % binary)
    root = str(tmp_path_factory.mktemp("image") / "root")
    os.mkdir(root)
    if shutil.which("podman") is None:
        # The same layout the Dockerfile's final stage makes, where podman cannot be had.
        shutil.copy(binary, os.path.join(root, "network-watcher"))
        return Image(root, ["/network-watcher", "network:watch"], None, BUILD_ARGS)
    build_args = [a for name, value in BUILD_ARGS.items() for a in ("--build-arg", "%s=%s" % (name, value))]
    subprocess.run(["podman", "build", "-q", "-f", "Dockerfile.scratch", "--build-arg", "BINARY_FROM=local",
                    *build_args, "-t", IMAGE, "."], cwd=REPO, check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
    inspected = json.loads(subprocess.run(["podman", "image", "inspect", IMAGE], check=True, timeout=60,
                                          capture_output=True).stdout)[0]
    config = inspected["Config"]
    container = subprocess.run(["podman", "create", IMAGE], check=True, timeout=60,
                               capture_output=True, text=True).stdout.strip()
    try:
        exported = subprocess.run(["podman", "export", container], check=True, timeout=60,
                                  capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", root], input=exported, check=True, timeout=60)
    finally:
        subprocess.run(["podman", "rm", container], timeout=60, capture_output=True)
    return Image(root, config["Entrypoint"] + (config.get("Cmd") or []), config, BUILD_ARGS, inspected["Size"])


class Pod:
    """The image's root prepared as a kubelet would, and `command` running in it."""

    def __init__(self, image, accounts, environment, command=None):
        # The pod's own root (hard links), so that the image's stays as built.
        root = os.path.join(accounts, "..", "root")
        shutil.copytree(image.root, root, copy_function=os.link)
        for folder in ("proc", SERVICE_ACCOUNT):
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        self.log = open(os.path.join(accounts, "..", "watcher.log"), "w+")
        self.process = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
             "/bin/sh", "-c", POD_SCRIPT, "pod", root, accounts, *(command or image.entrypoint)],
            env=environment, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.pid = wait_until("the watcher to start as PID 1 of its namespace", self._child)
        except BaseException:
            self.stop()
            raise

    def _child(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.process.pid, self.process.pid)) as f:
                children = f.read().split()
        except FileNotFoundError:
            return None
        if not children:
            return None
        pid = int(children[0])
        try:
            return pid if os.readlink("/proc/%d/exe" % pid).endswith("network-watcher") else None
        except OSError:
            return None

    def status(self, field):
        """A field of /proc/PID/status, e.g. status("Uid:")[0]."""
        with open("/proc/%d/status" % self.pid) as f:
            return [line.split()[1:] for line in f if line.startswith(field)][0]

    def terminate(self):
        """SIGTERM as the kubelet sends it; returns the seconds until the pod's process ended."""
        os.kill(self.pid, signal.SIGTERM)
        started = time.monotonic()
        self.process.wait(5)
        return time.monotonic() - started

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            # PID 1 of the namespace first: killing unshare alone would leave it running.
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (AttributeError, ProcessLookupError):
                pass
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def service_account_folder(api, folder, token, namespace):
    """The service account's files as a pod has them, readable by uid 65532."""
    api.service_account(folder, token=token, namespace=namespace)
    for name in os.listdir(folder):
        os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(folder, 0o755)
    return folder


@contextlib.contextmanager
def running_pod(image, accounts, environment, command=None):
    """A Pod for the block; its output is printed if the block fails, and it is stopped after."""
    pod = Pod(image, accounts, environment, command)
    try:
        yield pod
    except BaseException:
        print("the watcher's output:\n" + pod.output())
        raise
    finally:
        pod.stop()
