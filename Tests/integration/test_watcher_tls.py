"""The watcher and the API server's certificate: a certificate that does not verify
stops the start with a line that says so and names the setting that supplies the
CA in the connection mode in use; host names are checked as RFC 9525 has them
(a partial wildcard refused even through tls-server-name); turning verification
off logs one WARN at start.
"""
import json
import os
import shutil

import pytest

from support import pki
from support.servers import (WATCHER_TOKEN, foreign_api, other_pki,  # noqa: F401 (fixtures)
                             start_fake_apiserver_program, usage_server)
from support.watcher import POD, base_env, label, parse_line, run_watcher, watcher_env

NOT_VERIFIED = "the API server's certificate did not verify"


@pytest.fixture
def partial_wildcard_api(test_pki, tmp_path):
    """A fake whose certificate (signed by the test CA) names only DNS:k*.default.svc."""
    cert = pki.make_cert(str(tmp_path), "partial-wildcard", test_pki["ca"], sans=("DNS:k*.default.svc",))
    api = start_fake_apiserver_program({"server": cert, "ca": test_pki["ca"]})
    api.add_pod(POD)
    yield api
    api.stop()


def write_kubeconfig(path, api, **cluster):
    """A kubeconfig (JSON is YAML) for `api` with the watcher's token and the given cluster fields."""
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
              "clusters": [{"name": "fake", "cluster": {"server": api.url, **cluster}}],
              "users": [{"name": "watcher", "user": {"token": WATCHER_TOKEN}}],
              "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "watcher",
                                                        "namespace": "default"}}]}
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def kubeconfig_env(usage, config, **variables):
    return base_env(KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config, USAGE_URL=usage.url,
                    POD_NAME=POD, CHECKING_INTERVAL="0.1", **variables)


def log_lines(result, level):
    parsed = [parse_line(line) for line in result.lines]
    return [line for line in parsed if line and line[1] == level]


def assert_refused_naming(result, api, setting, reason):
    """Exit 1 before any request, and one ERROR line that says the certificate did not
    verify, names `setting`, and carries OpenSSL's `reason`."""
    assert result.returncode == 1, result.stderr
    assert api.requests() == [], "no request may pass a refused handshake"
    assert label(api) is None
    errors = log_lines(result, "ERROR")
    assert len(errors) == 1, result.stderr
    _, _, message, fields = errors[0]
    assert NOT_VERIFIED in message and setting in message, result.stderr
    assert "refused" not in message, result.stderr
    assert fields["error"].startswith("certificateRejected: ") and reason in fields["error"], result.stderr


# -- a CA that did not sign the API server's certificate, in each connection mode ------------


def test_wrong_ca_in_token_mode_names_kube_ca_path(foreign_api, usage_server, watcher_bin, test_pki):
    env = watcher_env(foreign_api, usage_server, KUBE_CA_PATH=test_pki["ca"].cert, STARTUP_TIMEOUT="5")
    result = run_watcher(watcher_bin, env, "--test")
    assert_refused_naming(result, foreign_api, "KUBE_CA_PATH (%s)" % test_pki["ca"].cert,
                          "unable to get local issuer certificate")
    # Not retried: waiting does not make a certificate verify.
    assert not log_lines(result, "WARN"), result.stderr


def test_wrong_ca_in_cluster_mode_names_the_service_account_ca(foreign_api, usage_server, watcher_bin,
                                                               test_pki, tmp_path):
    folder = foreign_api.service_account(str(tmp_path / "sa"))
    shutil.copy(test_pki["ca"].cert, os.path.join(folder, "ca.crt"))  # not the signer
    env = base_env(**foreign_api.cluster_env(), SERVICE_ACCOUNT_DIR=folder, USAGE_URL=usage_server.url,
                   POD_NAME=POD, CHECKING_INTERVAL="0.1")
    result = run_watcher(watcher_bin, env, "--test")
    assert_refused_naming(result, foreign_api, "the service account's ca.crt (%s/ca.crt)" % folder,
                          "unable to get local issuer certificate")


@pytest.mark.parametrize("field", ["certificate-authority", "certificate-authority-data"])
def test_wrong_ca_in_kubeconfig_mode_names_the_kubeconfig_field(foreign_api, usage_server, watcher_bin,
                                                                test_pki, tmp_path, field):
    if field == "certificate-authority":
        value = test_pki["ca"].cert
    else:
        import base64
        with open(test_pki["ca"].cert, "rb") as f:
            value = base64.b64encode(f.read()).decode()
    config = write_kubeconfig(str(tmp_path / "config"), foreign_api, **{field: value})
    result = run_watcher(watcher_bin, kubeconfig_env(usage_server, config), "--test")
    assert_refused_naming(result, foreign_api, "the kubeconfig's certificate-authority or certificate-authority-data",
                          "unable to get local issuer certificate")
    assert config in log_lines(result, "ERROR")[0][2], result.stderr


# -- host names as RFC 9525 has them -----------------------------------------------------------


def test_partial_wildcard_is_refused_through_tls_server_name(partial_wildcard_api, usage_server, watcher_bin,
                                                              test_pki, tmp_path):
    # k*.default.svc would match kubernetes.default.svc under OpenSSL's defaults.
    config = write_kubeconfig(str(tmp_path / "config"), partial_wildcard_api,
                              **{"certificate-authority": test_pki["ca"].cert,
                                 "tls-server-name": "kubernetes.default.svc"})
    result = run_watcher(watcher_bin, kubeconfig_env(usage_server, config), "--test")
    assert_refused_naming(result, partial_wildcard_api, "certificate-authority", "hostname mismatch")


# -- verification turned off: one WARN at start -------------------------------------------------


def warnings_about_verification(result):
    return [line for line in log_lines(result, "WARN") if "certificate is not verified" in line[2]]


def test_kube_verify_ssl_false_warns_once(foreign_api, usage_server, watcher_bin):
    env = watcher_env(foreign_api, usage_server, KUBE_CA_PATH=None, KUBE_VERIFY_SSL="false")
    result = run_watcher(watcher_bin, env, "--test")
    assert result.returncode == 0, result.stderr
    assert label(foreign_api) == "yes"
    warnings = warnings_about_verification(result)
    assert len(warnings) == 1, result.stderr
    assert warnings[0][3]["setting"] == "KUBE_VERIFY_SSL=false", result.stderr


def test_insecure_skip_tls_verify_warns_once(foreign_api, usage_server, watcher_bin, tmp_path):
    config = write_kubeconfig(str(tmp_path / "config"), foreign_api, **{"insecure-skip-tls-verify": True})
    result = run_watcher(watcher_bin, kubeconfig_env(usage_server, config), "--test")
    assert result.returncode == 0, result.stderr
    assert label(foreign_api) == "yes"
    warnings = warnings_about_verification(result)
    assert len(warnings) == 1, result.stderr
    assert warnings[0][3]["setting"].startswith("insecure-skip-tls-verify (KUBECONFIG_PATH %s" % config), \
        result.stderr


def test_no_warning_when_the_certificate_is_verified(foreign_api, other_pki, usage_server, watcher_bin):
    env = watcher_env(foreign_api, usage_server, KUBE_CA_PATH=other_pki["ca"].cert)
    result = run_watcher(watcher_bin, env, "--test")
    assert result.returncode == 0, result.stderr
    assert warnings_about_verification(result) == [], result.stderr
