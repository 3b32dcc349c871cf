"""Fixtures shared by every integration test: where the built binaries are, and a test PKI."""
import os
import shutil
import pytest

from support import pki

# The test servers' and real peers' fixtures, for every test module.
pytest_plugins = ["support.servers", "support.peers", "support.pod"]

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def built_binary(name):
    """Path of a binary built by `swift build` (NW_BIN_DIR overrides the folder)."""
    folder = os.environ.get("NW_BIN_DIR") or os.path.join(REPO, ".build", "debug")
    path = os.path.join(folder, name)
    if not os.access(path, os.X_OK):
        pytest.fail("%s is not built: run `swift build` first (or set NW_BIN_DIR)" % path)
    return path


@pytest.fixture(scope="session")
def httplite_bin():
    return built_binary("httplite")


@pytest.fixture(scope="session")
def watcher_bin():
    return built_binary("network-watcher")


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 / localhost, made with openssl."""
    folder = str(tmp_path_factory.mktemp("pki"))
    ca = pki.make_ca(folder)
    server = pki.make_cert(folder, "server", ca)
    return {"dir": folder, "ca": ca, "server": server}


def require_tool(name):
    if shutil.which(name) is None:
        pytest.fail("%s is not installed; .ci/run installs it" % name)
