"""Connecting from kubeconfig files written by the real `kubectl config` commands:
KUBE_CONNECTION=kubeconfig (KUBECONFIG_PATH, KUBECONFIG_CONTEXT), =environment
(KUBECONFIG merged by kubectl's rules), the fallback outside a pod, token,
tokenFile, client certificates, embedded -data fields, relative paths, a JSON
kubeconfig, tls-server-name, exec credential plugins (cached until their
expiry, run again after a 401), and the errors that stop the start with exit 2.
"""
import os
import shutil
import signal
import subprocess

import pytest

from support import pki
from support.peers import raw_server  # noqa: F401 (fixture)
from support.servers import (  # noqa: F401 (fixtures)
    ADMIN_TOKEN, KUBECTL, WATCHER_TOKEN, WATCHER_VERBS, start_fake_apiserver,
    start_fake_apiserver_program, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    POD, base_env, label, parse_line, run_watcher, start_watcher, wait_until)

NAMESPACE = "team-a"
V1 = "client.authentication.k8s.io/v1"


def kubectl_config(config, *args, cwd=None):
    """`kubectl config --kubeconfig CONFIG ARGS`, with nothing from the runner's ~/.kube."""
    if not os.access(KUBECTL, os.X_OK):
        pytest.fail("%s is not installed; .ci/run installs it" % KUBECTL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = os.path.dirname(os.path.abspath(config))
    result = subprocess.run([KUBECTL, "config", "--kubeconfig", config, *args], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, "kubectl config %s: %s" % (" ".join(args), result.stderr)


def write_kubeconfig(config, api, user_args, cluster_args=None, context="fake", namespace=NAMESPACE,
                     cwd=None, cluster="fake", user="watcher"):
    """A kubeconfig for `api` made by kubectl: a cluster, a user, a context, the current context."""
    os.makedirs(os.path.dirname(os.path.abspath(config)), exist_ok=True)
    if cluster_args is None:
        cluster_args = ["--certificate-authority", api.ca]
    kubectl_config(config, "set-cluster", cluster, "--server", api.url, *cluster_args, cwd=cwd)
    kubectl_config(config, "set-credentials", user, *user_args, cwd=cwd)
    kubectl_config(config, "set-context", context, "--cluster", cluster, "--user", user,
                   "--namespace", namespace, cwd=cwd)
    kubectl_config(config, "use-context", context, cwd=cwd)
    # kubectl's dispatcher asks the current context's server for /version, even for `config`.
    api.clear_requests()
    return config


def read(path):
    with open(path) as f:
        return f.read()


def kube_env(usage, **variables):
    """The watcher's environment without POD_NAMESPACE, so the context's namespace applies."""
    return base_env(USAGE_URL=usage.url, POD_NAME=POD, CHECKING_INTERVAL="0.1", **variables)


def startup_fields(lines):
    for line in lines:
        parsed = parse_line(line)
        if parsed and parsed[2].startswith("starting"):
            return parsed[3]
    raise AssertionError("no startup line in:\n" + "\n".join(lines))


def authorizations(api):
    return {r["headers"].get("authorization") for r in api.requests(r"^/api/")}


@pytest.fixture
def api(start_fake_apiserver):
    server = start_fake_apiserver()
    server.add_pod(POD, namespace=NAMESPACE)
    return server


def check_labelled(result, api, usage_server, expected="no"):
    assert result.returncode == 0, result.stderr
    assert label(api, namespace=NAMESPACE) == expected
    return startup_fields(result.lines)


# -- credentials ----------------------------------------------------------------------------


def test_token_and_the_contexts_namespace(api, usage_server, watcher_bin, tmp_path):
    config = write_kubeconfig(str(tmp_path / "config"), api, ["--token", WATCHER_TOKEN])
    usage_server.set(percent=80)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    fields = check_labelled(result, api, usage_server)
    assert fields["connection"] == "kubeconfig"
    assert fields["source"] == "KUBECONFIG_PATH %s, context fake" % config
    assert fields["pod"] == "%s/%s" % (NAMESPACE, POD)
    assert authorizations(api) == {"Bearer " + WATCHER_TOKEN}


def test_pod_namespace_beats_the_contexts_namespace(api, usage_server, watcher_bin, tmp_path):
    api.add_pod(POD, namespace="default")
    config = write_kubeconfig(str(tmp_path / "config"), api, ["--token", WATCHER_TOKEN])
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config, POD_NAMESPACE="default"), "--test")
    assert result.returncode == 0, result.stderr
    assert label(api, namespace="default") == "yes"
    assert label(api, namespace=NAMESPACE) is None


def test_relative_paths_and_token_file(api, usage_server, watcher_bin, tmp_path):
    folder = tmp_path / "conf"
    (folder / "certs").mkdir(parents=True)
    shutil.copy(api.ca, folder / "certs" / "ca.crt")
    (folder / "token").write_text(WATCHER_TOKEN + "\n")
    config = write_kubeconfig(str(folder / "config"), api, ["--token", "not-used"],
                              cluster_args=["--certificate-authority", "certs/ca.crt"], cwd=str(folder))
    kubectl_config(config, "set", "users.watcher.tokenFile", "token", cwd=str(folder))
    text = read(config)
    assert "certificate-authority: certs/ca.crt" in text and "tokenFile: token" in text, text
    # Run from elsewhere: the paths are relative to the kubeconfig's folder, not the working directory.
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    check_labelled(result, api, usage_server, "yes")
    assert authorizations(api) == {"Bearer " + WATCHER_TOKEN}, "tokenFile wins over token"


@pytest.fixture
def cert_api(start_fake_apiserver, test_pki):
    """A fake that asks for client certificates; CN watcher-client gets the watcher's verbs."""
    server = start_fake_apiserver(client_ca=test_pki["ca"].cert,
                                  tokens={ADMIN_TOKEN: ["*"], "cert:watcher-client": WATCHER_VERBS})
    server.add_pod(POD, namespace=NAMESPACE)
    return server


@pytest.fixture
def client_cert(test_pki):
    return pki.make_cert(test_pki["dir"], "watcher-client", test_pki["ca"], sans=None, client=True)


def test_client_certificate_files(cert_api, client_cert, usage_server, watcher_bin, tmp_path):
    config = write_kubeconfig(str(tmp_path / "config"), cert_api,
                              ["--client-certificate", client_cert.cert, "--client-key", client_cert.key])
    usage_server.set(percent=90)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    check_labelled(result, cert_api, usage_server)
    assert authorizations(cert_api) == {None}


def test_embedded_data_fields(cert_api, client_cert, usage_server, watcher_bin, tmp_path):
    copies = tmp_path / "copies"
    copies.mkdir()
    paths = {name: str(copies / name) for name in ("ca.crt", "client.crt", "client.key")}
    shutil.copy(cert_api.ca, paths["ca.crt"])
    shutil.copy(client_cert.cert, paths["client.crt"])
    shutil.copy(client_cert.key, paths["client.key"])
    config = write_kubeconfig(str(tmp_path / "config"), cert_api,
                              ["--client-certificate", paths["client.crt"], "--client-key", paths["client.key"],
                               "--embed-certs"],
                              cluster_args=["--certificate-authority", paths["ca.crt"], "--embed-certs"])
    shutil.rmtree(copies)  # only the embedded copies are left
    text = read(config)
    for field in ("certificate-authority-data:", "client-certificate-data:", "client-key-data:"):
        assert field in text, text
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    check_labelled(result, cert_api, usage_server, "yes")
    assert authorizations(cert_api) == {None}


def test_json_kubeconfig(api, usage_server, watcher_bin, tmp_path):
    config = api.kubeconfig(str(tmp_path), token=WATCHER_TOKEN, namespace=NAMESPACE)
    assert read(config).startswith("{")
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    check_labelled(result, api, usage_server, "yes")


def test_insecure_skip_tls_verify(internal_api, usage_server, watcher_bin, tmp_path):
    # No CA and a certificate for another name: only skipping verification lets this through.
    config = write_kubeconfig(str(tmp_path / "config"), internal_api, ["--token", WATCHER_TOKEN],
                              cluster_args=["--insecure-skip-tls-verify=true"])
    assert "insecure-skip-tls-verify: true" in read(config)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test")
    check_labelled(result, internal_api, usage_server, "yes")


# -- several files, and the fallback ----------------------------------------------------------


def test_kubeconfig_files_merged_through_KUBECONFIG(api, usage_server, watcher_bin, tmp_path):
    first = str(tmp_path / "a" / "config")
    second = str(tmp_path / "b" / "config")
    # First file: the real cluster "fake" and context "main", but no current-context.
    write_kubeconfig(first, api, ["--token", "wrong-token"], context="main", user="watcher")
    kubectl_config(first, "unset", "current-context")
    kubectl_config(first, "unset", "users")
    # Second file: cluster "fake" again (pointing nowhere: the first file's wins), the user, and current-context.
    os.makedirs(os.path.dirname(second))
    kubectl_config(second, "set-cluster", "fake", "--server", "https://127.0.0.1:1")
    kubectl_config(second, "set-credentials", "watcher", "--token", WATCHER_TOKEN)
    kubectl_config(second, "set-context", "other", "--cluster", "fake", "--user", "watcher")
    kubectl_config(second, "set", "current-context", "main")
    assert 'current-context: ""' in read(first)  # kubectl's way of writing "none"
    listed = "%s:%s:%s" % (first, str(tmp_path / "missing"), second)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="environment",
                                               KUBECONFIG=listed), "--test")
    fields = check_labelled(result, api, usage_server, "yes")
    assert fields["connection"] == "environment"
    assert fields["source"] == "KUBECONFIG %s:%s, context main" % (first, second)
    assert authorizations(api) == {"Bearer " + WATCHER_TOKEN}


def test_server_field_cannot_inject_header_lines(watcher_bin, raw_server, usage_server, tmp_path):
    # YAML's double-quoted escapes put NUL, CR and LF into the server URL; a listener on
    # the address it names shows whether anything was sent.
    server = raw_server(host="::1")
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters:\n- name: c\n  cluster:\n"
        '    server: "http://[::1\\0\\r\\nX-Injected: yes\\r\\n]:%d"\n'
        "users:\n- name: u\n  user: {}\n"
        "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n    namespace: %s\n"
        "current-context: ctx\n" % (server.port, NAMESPACE))
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=str(config), STARTUP_TIMEOUT="2"),
                         "--test", timeout=20)
    assert result.returncode == 2, result.stderr
    assert len(result.lines) == 1, result.lines
    assert "server is not an http(s):// URL" in result.stderr and "\\x00\\x0d\\x0a" in result.stderr, result.stderr
    assert server.log()[0] == [], server.requests()


def test_fallback_outside_a_pod_uses_KUBECONFIG_then_home(api, usage_server, watcher_bin, tmp_path):
    home = tmp_path / "home"
    config = write_kubeconfig(str(home / ".kube" / "config"), api, ["--token", WATCHER_TOKEN])
    result = run_watcher(watcher_bin, kube_env(usage_server, HOME=str(home)), "--test")
    fields = check_labelled(result, api, usage_server, "yes")
    assert fields["connection"] == "kubeconfig"
    assert fields["source"].startswith("~/.kube/config (no KUBE_CONNECTION, not in a pod) " + config)

    other = write_kubeconfig(str(tmp_path / "other" / "config"), api, ["--token", WATCHER_TOKEN],
                             context="from-env")
    result = run_watcher(watcher_bin, kube_env(usage_server, HOME=str(home), KUBECONFIG=other), "--test")
    fields = check_labelled(result, api, usage_server, "yes")
    assert fields["connection"] == "environment"
    assert fields["source"] == "KUBECONFIG (no KUBE_CONNECTION, not in a pod) %s, context from-env" % other

    empty = tmp_path / "empty-home"
    empty.mkdir()
    result = run_watcher(watcher_bin, kube_env(usage_server, HOME=str(empty)), "--test")
    assert result.returncode == 2
    assert len(result.lines) == 1, result.stderr
    assert "~/.kube/config (%s/.kube/config)" % empty in result.stderr


# -- tls-server-name ----------------------------------------------------------------------------


@pytest.fixture
def internal_api(test_pki, tmp_path):
    """A fake whose certificate names only DNS:kubernetes.internal (no IP SAN)."""
    server_cert = pki.make_cert(str(tmp_path), "internal-server", test_pki["ca"], sans=("DNS:kubernetes.internal",))
    server = start_fake_apiserver_program({"server": server_cert, "ca": test_pki["ca"]})
    server.add_pod(POD, namespace=NAMESPACE)
    yield server
    server.stop()


def test_tls_server_name(internal_api, usage_server, watcher_bin, tmp_path):
    with_name = write_kubeconfig(str(tmp_path / "with" / "config"), internal_api, ["--token", WATCHER_TOKEN],
                                 cluster_args=["--certificate-authority", internal_api.ca,
                                               "--tls-server-name", "kubernetes.internal"])
    assert "tls-server-name: kubernetes.internal" in read(with_name)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=with_name), "--test")
    check_labelled(result, internal_api, usage_server, "yes")

    without = write_kubeconfig(str(tmp_path / "without" / "config"), internal_api, ["--token", WATCHER_TOKEN])
    internal_api.clear_requests()
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=without,
                                               STARTUP_TIMEOUT="1"), "--test", timeout=15)
    assert result.returncode == 1, result.stderr
    assert internal_api.requests() == []
    assert "certificate" in result.stderr.lower() or "verify" in result.stderr.lower(), result.stderr


# -- exec credential plugins ------------------------------------------------------------------

PLUGIN = """#!/bin/sh
# An exec credential plugin: counts its runs, prints the token in $TOKEN_FILE.
echo run >> "$COUNT_FILE"
case "$KUBERNETES_EXEC_INFO" in
  *'"interactive":false'*) ;;
  *) echo "unexpected KUBERNETES_EXEC_INFO: $KUBERNETES_EXEC_INFO" >&2; exit 1 ;;
esac
if [ -n "$FAIL" ]; then echo "$FAIL" >&2; exit 1; fi
expiry=$(date -u -d "+$LIFETIME seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' \\
  "$API_VERSION" "$(cat "$TOKEN_FILE")" "$expiry"
"""


def exec_kubeconfig(tmp_path, api, lifetime=3600, fail="", api_version=V1):
    """A kubeconfig whose user runs bin/plugin (relative to the kubeconfig); its run counter and token file."""
    folder = tmp_path / "exec"
    (folder / "bin").mkdir(parents=True)
    plugin = folder / "bin" / "plugin"
    plugin.write_text(PLUGIN)
    plugin.chmod(0o755)
    counter, token = folder / "runs", folder / "token"
    counter.write_text("")
    token.write_text("exec-token-1")
    config = write_kubeconfig(str(folder / "config"), api, [
        "--exec-api-version", api_version, "--exec-command", str(plugin), "--exec-interactive-mode", "Never",
        "--exec-env", "COUNT_FILE=%s" % counter, "--exec-env", "TOKEN_FILE=%s" % token,
        "--exec-env", "LIFETIME=%d" % lifetime, "--exec-env", "FAIL=%s" % fail,
        "--exec-env", "API_VERSION=%s" % api_version])
    counter.write_text("")  # kubectl's dispatcher ran the plugin too, to ask for /version
    return config, counter, token


# An exec credential plugin that lists the descriptors it was started with.
FD_PLUGIN = """#!/bin/sh
ls -l /proc/$$/fd > "$FD_LIST"
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"exec-token-1"}}\\n' "$API_VERSION"
"""


def test_an_exec_plugin_inherits_no_descriptor_but_its_pipes(start_fake_apiserver, usage_server,
                                                             start_watcher, tmp_path):
    api = start_fake_apiserver(tokens={"exec-token-1": WATCHER_VERBS})
    api.add_pod(POD, namespace=NAMESPACE)
    plugin, listing, marker = tmp_path / "bin" / "plugin", tmp_path / "fds", tmp_path / "inherited-marker"
    plugin.parent.mkdir()  # a command with a slash: kubectl writes it relative to the kubeconfig
    plugin.write_text(FD_PLUGIN)
    plugin.chmod(0o755)
    marker.write_text("")
    config = write_kubeconfig(str(tmp_path / "config"), api, [
        "--exec-api-version", V1, "--exec-command", str(plugin), "--exec-interactive-mode", "Never",
        "--exec-env", "FD_LIST=%s" % listing, "--exec-env", "API_VERSION=%s" % V1])
    listing.write_text("")  # kubectl's dispatcher ran the plugin too
    # A descriptor the watcher inherits without close-on-exec, as from a careless parent.
    inherited = os.open(marker, os.O_RDONLY)
    try:
        watcher = start_watcher(kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config),
                                pass_fds=(inherited,))
    finally:
        os.close(inherited)
    watcher.wait_logged("watching pod")
    own = [os.readlink("/proc/%d/fd/%s" % (watcher.pid, fd)) for fd in os.listdir("/proc/%d/fd" % watcher.pid)]
    assert str(marker) in own, "the watcher itself holds the inherited descriptor"
    fds = read(listing)
    assert " 0 -> " in fds and " 2 -> " in fds, fds
    assert str(marker) not in fds, fds


def runs(counter):
    return len(read(counter).splitlines())


def pod_reads(api, status=None):
    return [r for r in api.requests(r"/pods/%s$" % POD) if r["method"] == "GET"
            and (status is None or r["status"] == status)]


@pytest.mark.parametrize("api_version", [V1, "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_runs_once_while_its_token_is_valid_and_again_after_a_401(
        start_fake_apiserver, usage_server, start_watcher, tmp_path, api_version):
    api = start_fake_apiserver(tokens={"exec-token-1": WATCHER_VERBS})
    api.add_pod(POD, namespace=NAMESPACE)
    config, counter, token = exec_kubeconfig(tmp_path, api, api_version=api_version)
    watcher = start_watcher(kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config,
                                     POD_RESYNC_INTERVAL="0.2"))
    watcher.wait_for(lambda: len(pod_reads(api, 200)) >= 5, 10, "five reads of the pod")
    assert runs(counter) == 1
    assert authorizations(api) == {"Bearer exec-token-1"}

    # The API server rotates: the old token answers 401 and the plugin now prints a new one.
    token.write_text("exec-token-2")
    api.set_tokens({"exec-token-2": WATCHER_VERBS})
    api.clear_requests()
    watcher.wait_for(lambda: len(pod_reads(api, 200)) >= 5, 10, "five reads with the new token")
    assert runs(counter) == 2
    assert len(pod_reads(api, 401)) == 1
    assert {r["headers"].get("authorization") for r in pod_reads(api, 200)} == {"Bearer exec-token-2"}
    assert "exec-token" not in watcher.stderr()


def test_exec_credential_is_cached_until_its_expiry(start_fake_apiserver, usage_server, start_watcher,
                                                    tmp_path):
    api = start_fake_apiserver(tokens={"exec-token-1": WATCHER_VERBS})
    api.add_pod(POD, namespace=NAMESPACE)
    config, counter, _ = exec_kubeconfig(tmp_path, api, lifetime=2)
    watcher = start_watcher(kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config,
                                     POD_RESYNC_INTERVAL="0.2"))
    watcher.wait_for(lambda: runs(counter) >= 3, 10, "the plugin to run again after each expiry")
    reads = len(pod_reads(api, 200))
    # About one run per two seconds while the pod is read five times a second; none answered 401.
    assert runs(counter) <= 4 and reads >= 3 * runs(counter), (runs(counter), reads)
    assert pod_reads(api, 401) == []


CERT_PLUGIN = """#!/usr/bin/env python3
# An exec credential plugin printing a client certificate that lives 2 s: the first run's, then the second's.
import json, os, time
with open(os.environ["COUNT_FILE"], "a") as f:
    f.write("run\\n")
with open(os.environ["COUNT_FILE"]) as f:
    which = "1" if len(f.read().splitlines()) == 1 else "2"
status = {"expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))}
for field, name in (("clientCertificateData", "CERT_"), ("clientKeyData", "KEY_")):
    with open(os.environ[name + which]) as f:
        status[field] = f.read()
print(json.dumps({"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1", "status": status}))
"""


def test_exec_plugin_client_certificates_are_used_and_renewed(start_fake_apiserver, usage_server, start_watcher,
                                                              test_pki, tmp_path):
    first, second = (pki.make_cert(str(tmp_path), "exec-client-%d" % n, test_pki["ca"], sans=None, client=True)
                     for n in (1, 2))
    api = start_fake_apiserver(client_ca=test_pki["ca"].cert,
                               tokens={"cert:exec-client-1": WATCHER_VERBS, "cert:exec-client-2": WATCHER_VERBS})
    api.add_pod(POD, namespace=NAMESPACE)
    # In a subfolder: kubectl writes a command beside the kubeconfig as a bare name, which means PATH.
    (tmp_path / "bin").mkdir()
    plugin, counter = tmp_path / "bin" / "plugin", tmp_path / "runs"
    plugin.write_text(CERT_PLUGIN)
    plugin.chmod(0o755)
    config = write_kubeconfig(str(tmp_path / "config"), api, [
        "--exec-api-version", V1, "--exec-command", str(plugin), "--exec-interactive-mode", "Never",
        "--exec-env", "COUNT_FILE=%s" % counter,
        "--exec-env", "CERT_1=%s" % first.cert, "--exec-env", "KEY_1=%s" % first.key,
        "--exec-env", "CERT_2=%s" % second.cert, "--exec-env", "KEY_2=%s" % second.key])
    counter.write_text("")
    watcher = start_watcher(kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config,
                                     POD_RESYNC_INTERVAL="0.2"))
    watcher.wait_for(lambda: label(api, namespace=NAMESPACE) == "yes", 10, "the label from the first certificate")
    watcher.wait_for(lambda: runs(counter) >= 2, 10, "the plugin to run again at the expiry")
    # From now on only the second certificate is let in: the watcher must have switched to it.
    api.set_tokens({"cert:exec-client-2": WATCHER_VERBS})
    api.clear_requests()
    watcher.wait_for(lambda: len(pod_reads(api, 200)) >= 5, 10, "five reads with the second certificate")
    assert pod_reads(api, 403) == []
    assert authorizations(api) == {None}


def ignore_sigchld():
    """A careless parent's legacy: ignored signals stay ignored across exec, and with SIGCHLD
    ignored the kernel reaps children, so waitpid cannot tell how they ended."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)


def test_an_exec_plugin_works_when_the_watcher_inherits_sigchld_ignored(start_fake_apiserver, usage_server,
                                                                         watcher_bin, tmp_path):
    api = start_fake_apiserver(tokens={"exec-token-1": WATCHER_VERBS})
    api.add_pod(POD, namespace=NAMESPACE)
    config, counter, _ = exec_kubeconfig(tmp_path, api)
    usage_server.set(percent=80)
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config),
                         "--test", preexec_fn=ignore_sigchld)
    check_labelled(result, api, usage_server)
    assert runs(counter) == 1


@pytest.mark.parametrize("sigchld", [None, ignore_sigchld], ids=["sigchld-default", "sigchld-ignored"])
def test_a_failing_exec_plugin_stops_the_start(api, usage_server, watcher_bin, tmp_path, sigchld):
    config, counter, _ = exec_kubeconfig(tmp_path, api, fail="no credentials for you")
    result = run_watcher(watcher_bin, kube_env(usage_server, KUBE_CONNECTION="kubeconfig",
                                               KUBECONFIG_PATH=config), "--test", preexec_fn=sigchld)
    assert result.returncode == 2
    assert result.lines == [
        'network-watcher: KUBECONFIG_PATH="%s": user "watcher" in %s: exec plugin %s failed (exit status 1): '
        'no credentials for you' % (config, config, tmp_path / "exec" / "bin" / "plugin")]
    assert runs(counter) == 1
    assert api.requests() == []


# -- errors -------------------------------------------------------------------------------------


def _missing_file(config, tmp_path):
    return {"KUBECONFIG_PATH": str(tmp_path / "nope")}, [str(tmp_path / "nope")]


def _unknown_context(config, tmp_path):
    return {"KUBECONFIG_CONTEXT": "nope"}, [config, '"nope"']


def _missing_cluster(config, tmp_path):
    kubectl_config(config, "set-context", "fake", "--cluster", "ghost")
    return {}, [config, 'context "fake"', '"ghost"']


def _missing_user(config, tmp_path):
    kubectl_config(config, "set-context", "fake", "--user", "ghost")
    return {}, [config, 'context "fake"', '"ghost"']


def _unreadable_ca(config, tmp_path):
    kubectl_config(config, "set-cluster", "fake", "--certificate-authority", str(tmp_path / "gone.crt"))
    return {}, [config, 'cluster "fake"', str(tmp_path / "gone.crt")]


def _unreadable_client_key(config, tmp_path):
    kubectl_config(config, "set-credentials", "watcher", "--client-certificate", config,
                   "--client-key", str(tmp_path / "gone.key"))
    return {}, [config, 'user "watcher"']


def _bad_base64(config, tmp_path):
    kubectl_config(config, "set-cluster", "fake", "--certificate-authority", str(tmp_path / "ca.crt"),
                   "--embed-certs")
    text = read(config)
    start = text.index("certificate-authority-data: ") + len("certificate-authority-data: ")
    with open(config, "w") as f:
        f.write(text[:start + 4] + "!" + text[start + 5:])
    return {}, [config, 'cluster "fake"', "certificate-authority-data is not valid base64"]


def _yaml_anchor(config, tmp_path):
    lines = read(config).splitlines()
    with open(config, "w") as f:
        f.write("\n".join(lines + ["extra: &anchor value", ""]))
    return {}, [config, "line %d" % (len(lines) + 1), "anchors"]


@pytest.mark.parametrize("case", [_missing_file, _unknown_context, _missing_cluster, _missing_user,
                                  _unreadable_ca, _unreadable_client_key, _bad_base64, _yaml_anchor])
def test_kubeconfig_errors_exit_2_naming_the_file_and_the_entry(api, usage_server, watcher_bin, tmp_path, case):
    shutil.copy(api.ca, tmp_path / "ca.crt")
    config = write_kubeconfig(str(tmp_path / "config"), api, ["--token", WATCHER_TOKEN])
    variables, mentions = case(config, tmp_path)
    api.clear_requests()
    env = kube_env(usage_server, KUBE_CONNECTION="kubeconfig", KUBECONFIG_PATH=config)
    env.update(variables)
    result = run_watcher(watcher_bin, env, "--test")
    assert result.returncode == 2, result.stderr
    assert len(result.lines) == 1 and result.lines[0].startswith("network-watcher: "), result.stderr
    for text in mentions:
        assert text in result.lines[0], (text, result.lines[0])
    assert api.requests() == []
