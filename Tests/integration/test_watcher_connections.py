"""Connecting to the API server: `cluster` with the service account's files (the
default when KUBERNETES_SERVICE_HOST is set; namespace file; token rotation
picked up after a 401), `http` (never a token over plain HTTP), `token`
(bearer token and CA, KUBE_VERIFY_SSL=false against a certificate the CA does
not sign, a wrong CA failing, client certificates). The token is never logged.
"""
import os
import shutil

import pytest

from support import pki
from support.servers import (  # noqa: F401 (fixtures)
    ADMIN_TOKEN, WATCHER_TOKEN, WATCHER_VERBS, fake_apiserver, fake_apiserver_http,
    foreign_api, other_pki, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, base_env, label, patches, posted_events, run_watcher, start_watcher,
    watcher_env)


def write_token(folder, token):
    """Replace the token file in one step, as the kubelet does (it swaps a symlink)."""
    path = os.path.join(folder, "token")
    with open(path + ".new", "w") as f:
        f.write(token)
    os.replace(path + ".new", path)


def cluster_env(api, usage, folder, **variables):
    env = base_env(**api.cluster_env(), SERVICE_ACCOUNT_DIR=folder, USAGE_URL=usage.url,
                   POD_NAME=POD, CHECKING_INTERVAL="0.1")
    env.update({name: str(value) for name, value in variables.items() if value is not None})
    return env


def authorizations(api):
    return {r["headers"].get("authorization") for r in api.requests(r"^/api/")}


# -- cluster ------------------------------------------------------------------------------


def test_cluster_mode_is_the_default_in_a_pod_and_uses_the_namespace_file(
        fake_apiserver, usage_server, watcher_bin, tmp_path):
    api = fake_apiserver
    api.add_pod(POD, namespace="team-a")
    api.add_pod(POD, namespace="default")
    folder = api.service_account(str(tmp_path / "sa"), token=WATCHER_TOKEN, namespace="team-a")
    usage_server.set(percent=80)
    result = run_watcher(watcher_bin, cluster_env(api, usage_server, folder), "--test")
    assert result.returncode == 0, result.stderr
    assert label(api, namespace="team-a") == "no"
    assert label(api, namespace="default") is None
    assert authorizations(api) == {"Bearer " + WATCHER_TOKEN}
    assert WATCHER_TOKEN not in result.stderr


def test_pod_namespace_beats_the_namespace_file(fake_apiserver, usage_server, watcher_bin,
                                                tmp_path):
    api = fake_apiserver
    api.add_pod(POD, namespace="team-a")
    api.add_pod(POD, namespace="team-b")
    folder = api.service_account(str(tmp_path / "sa"), namespace="team-a")
    result = run_watcher(watcher_bin, cluster_env(api, usage_server, folder,
                                                  POD_NAMESPACE="team-b"), "--test")
    assert result.returncode == 0, result.stderr
    assert label(api, namespace="team-b") == "yes"
    assert label(api, namespace="team-a") is None


def test_a_rotated_token_is_picked_up_after_a_401(start_fake_apiserver, usage_server,
                                                  start_watcher, tmp_path):
    api = start_fake_apiserver(tokens={ADMIN_TOKEN: ["*"], "sa-token-1": WATCHER_VERBS})
    api.add_pod(POD, labels={LABEL: "yes"})
    folder = api.service_account(str(tmp_path / "sa"), token="sa-token-1")
    usage_server.set(percent=30)
    watcher = start_watcher(cluster_env(api, usage_server, folder))
    watcher.wait_logged("watching pod")
    usage_server.set(percent=90)
    watcher.wait_for(lambda: label(api) == "no", 3, "a write with the first token")
    watcher.wait_for(lambda: posted_events(api), 3, "an Event with the first token")

    # The kubelet rotates the token: the old one is refused from now on.
    api.set_tokens({ADMIN_TOKEN: ["*"], "sa-token-2": WATCHER_VERBS})
    write_token(folder, "sa-token-2\n")
    api.clear_requests()
    usage_server.set(percent=30)
    watcher.wait_for(lambda: label(api) == "yes", 3, "a write after the rotation")
    writes = patches(api)
    assert [(w["status"], w["headers"].get("authorization")) for w in writes] == [
        (401, "Bearer sa-token-1"), (200, "Bearer sa-token-2")]
    watcher.wait_for(lambda: [e for e in posted_events(api) if e["reason"] == "BelowThreshold"],
                     3, "the Event posted with the new token")
    assert "sa-token" not in watcher.stderr()


def test_a_token_refused_at_start_exits_1(start_fake_apiserver, usage_server, watcher_bin,
                                          tmp_path):
    api = start_fake_apiserver()
    api.add_pod(POD)
    folder = api.service_account(str(tmp_path / "sa"), token="not-a-known-token")
    result = run_watcher(watcher_bin, cluster_env(api, usage_server, folder), timeout=10)
    assert result.returncode == 1
    assert "401" in result.stderr
    gets = [r for r in api.requests(r"/pods/") if r["method"] == "GET"]
    assert [g["status"] for g in gets] == [401, 401]  # the file was read again, once
    assert "not-a-known-token" not in result.stderr


# -- http ---------------------------------------------------------------------------------


def test_http_mode_never_sends_a_token(fake_apiserver_http, usage_server, start_watcher):
    api = fake_apiserver_http
    api.add_pod(POD)
    usage_server.set(percent=90)
    env = watcher_env(api, usage_server, KUBE_BEARER_TOKEN="secret-in-clear-text")
    watcher = start_watcher(env)
    watcher.wait_for(lambda: label(api) == "no", 3, "the label to become no")
    watcher.wait_for(lambda: posted_events(api), 3, "an Event")
    assert api.requests(r"/pods/")
    assert authorizations(api) == {None}
    assert "secret-in-clear-text" not in watcher.stderr()


# -- token --------------------------------------------------------------------------------


def test_token_mode_with_a_ca(fake_apiserver, usage_server, watcher_bin):
    api = fake_apiserver
    api.add_pod(POD)
    usage_server.set(percent=90)
    result = run_watcher(watcher_bin, watcher_env(api, usage_server), "--test")
    assert result.returncode == 0, result.stderr
    assert label(api) == "no"
    assert authorizations(api) == {"Bearer " + WATCHER_TOKEN}
    assert WATCHER_TOKEN not in result.stderr


@pytest.mark.parametrize("verify", ["false", "no", "0"])
def test_verify_ssl_false_accepts_a_certificate_the_ca_did_not_sign(
        foreign_api, usage_server, watcher_bin, test_pki, verify):
    env = watcher_env(foreign_api, usage_server, KUBE_CA_PATH=test_pki["ca"].cert,
                      KUBE_VERIFY_SSL=verify)
    result = run_watcher(watcher_bin, env, "--test")
    assert result.returncode == 0, result.stderr
    assert label(foreign_api) == "yes"


@pytest.mark.parametrize("ca", ["test-ca", "system-cas"])
def test_a_wrong_ca_fails(foreign_api, usage_server, watcher_bin, test_pki, ca):
    env = watcher_env(foreign_api, usage_server, STARTUP_TIMEOUT="1",
                      KUBE_CA_PATH=test_pki["ca"].cert if ca == "test-ca" else None,
                      KUBE_VERIFY_SSL="true")
    result = run_watcher(watcher_bin, env, "--test", timeout=15)
    assert result.returncode == 1, result.stderr
    assert label(foreign_api) is None
    assert foreign_api.requests() == []  # no request got past the handshake
    assert foreign_api.state()["tls_failures"] >= 1
    assert "certificate" in result.stderr.lower() or "verify" in result.stderr.lower(), \
        result.stderr


def test_a_wrong_ca_fails_in_cluster_mode(foreign_api, usage_server, watcher_bin, test_pki,
                                          tmp_path):
    folder = foreign_api.service_account(str(tmp_path / "sa"))
    shutil.copy(test_pki["ca"].cert, os.path.join(folder, "ca.crt"))  # not the signer
    result = run_watcher(watcher_bin, cluster_env(foreign_api, usage_server, folder,
                                                  STARTUP_TIMEOUT="1"), "--test", timeout=15)
    assert result.returncode == 1, result.stderr
    assert foreign_api.requests() == []


def test_client_certificate_without_a_token(start_fake_apiserver, usage_server, watcher_bin,
                                            test_pki):
    client = pki.make_cert(test_pki["dir"], "watcher-client", test_pki["ca"], sans=None,
                           client=True)
    api = start_fake_apiserver(client_ca=test_pki["ca"].cert,
                               tokens={ADMIN_TOKEN: ["*"], "cert:watcher-client": WATCHER_VERBS})
    api.add_pod(POD)
    usage_server.set(percent=90)
    env = watcher_env(api, usage_server, KUBE_BEARER_TOKEN=None,
                      KUBE_CERTIFICATE_PATH=client.cert, KUBE_KEY_PATH=client.key)
    result = run_watcher(watcher_bin, env, "--test")
    assert result.returncode == 0, result.stderr
    assert label(api) == "no"
    assert authorizations(api) == {None}
