"""Settings: every bad value stops the watcher with exit 2 and one line naming the
setting (flag or variable) and the value; --help lists every setting with its
env name and default; --version; precedence flag, then env, then default.
"""
import glob
import os
import re
import time

import pytest

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver_http, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, base_env, label, parse_line, run_watcher, start_watcher, watcher_env)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# A closed port: should a bad setting slip through, the run ends fast (exit 1, not 2).
NOWHERE = {"KUBE_CONNECTION": "http", "KUBE_HOST": "http://127.0.0.1:9",
           "USAGE_URL": "http://127.0.0.1:9/usage", "STARTUP_TIMEOUT": "0.5", "TEST_MODE": "true"}

ENV_NAMES = [
    "POD_NAMESPACE", "POD_NAME", "ECHO_APP_PORT", "SERVER_PORT", "USAGE_URL", "MEMORY_PERCENT",
    "ACCEPT_PERCENT", "FLIP_AFTER_SAMPLES",
    "CHECKING_INTERVAL", "TEST_MODE", "KUBERNETES_LABEL", "USAGE_TIMEOUT", "ON_USAGE_FAILURE",
    "USAGE_FAILURE_THRESHOLD", "POD_RESYNC_INTERVAL", "STARTUP_TIMEOUT", "API_TIMEOUT",
    "VERBOSE", "LOG_LEVEL", "LOG_FORMAT", "KUBE_CONNECTION", "KUBE_HOST", "KUBE_BEARER_TOKEN", "KUBE_CA_PATH",
    "KUBE_VERIFY_SSL", "KUBE_CERTIFICATE_PATH", "KUBE_KEY_PATH", "SERVICE_ACCOUNT_DIR",
]
FLAGS = [
    "--pod-namespace", "--pod-name", "--echo-app-port", "--server-port", "--usage-url", "--memory-percent",
    "--accept-percent", "--flip-after-samples",
    "--checking-interval", "--interval", "--test", "--kubernetes-label", "--usage-timeout",
    "--on-usage-failure", "--usage-failure-threshold", "--pod-resync-interval",
    "--startup-timeout", "--api-timeout", "-v", "--verbose", "--log-level", "--log-format",
    "--version", "--help",
]
DEFAULTS = {  # the and README's defaults
    "POD_NAME": "some-pod", "ECHO_APP_PORT": "6001", "MEMORY_PERCENT": "75",
    "ACCEPT_PERCENT": "MEMORY_PERCENT", "FLIP_AFTER_SAMPLES": "1",
    "CHECKING_INTERVAL": "1", "TEST_MODE": "false", "KUBERNETES_LABEL": LABEL,
    "USAGE_TIMEOUT": "1", "ON_USAGE_FAILURE": "keep", "USAGE_FAILURE_THRESHOLD": "3",
    "POD_RESYNC_INTERVAL": "30", "STARTUP_TIMEOUT": "60", "API_TIMEOUT": "5", "VERBOSE": "false",
    "LOG_LEVEL": "info", "LOG_FORMAT": "logfmt",
}

# (environment, arguments, the setting the line must name, the value it must show)
BAD_SETTINGS = [
    ({"POD_NAMESPACE": "Bad_Namespace"}, [], "POD_NAMESPACE", "Bad_Namespace"),
    ({"POD_NAME": "Some Pod"}, [], "POD_NAME", "Some Pod"),
    ({"ECHO_APP_PORT": "http"}, [], "ECHO_APP_PORT", "http"),
    ({"ECHO_APP_PORT": "0"}, [], "ECHO_APP_PORT", "0"),
    ({"ECHO_APP_PORT": "65536"}, [], "ECHO_APP_PORT", "65536"),
    ({"SERVER_PORT": "port"}, [], "SERVER_PORT", "port"),
    ({"SERVER_PORT": "9601", "ECHO_APP_PORT": "6001"}, [], "SERVER_PORT", "9601"),  # one setting, two names
    ({"USAGE_URL": "ftp://127.0.0.1/usage"}, [], "USAGE_URL", "ftp://127.0.0.1/usage"),
    ({"USAGE_URL": "not a url"}, [], "USAGE_URL", "not a url"),
    ({"MEMORY_PERCENT": "eighty"}, [], "MEMORY_PERCENT", "eighty"),
    ({"MEMORY_PERCENT": "0"}, [], "MEMORY_PERCENT", "0"),
    ({"MEMORY_PERCENT": "-5"}, [], "MEMORY_PERCENT", "-5"),
    ({"MEMORY_PERCENT": "1001"}, [], "MEMORY_PERCENT", "1001"),
    ({"MEMORY_PERCENT": "nan"}, [], "MEMORY_PERCENT", "nan"),
    ({"MEMORY_PERCENT": "inf"}, [], "MEMORY_PERCENT", "inf"),
    ({"MEMORY_PERCENT": "80%"}, [], "MEMORY_PERCENT", "80%"),
    ({"ACCEPT_PERCENT": "80"}, [], "ACCEPT_PERCENT", "80"),  # above MEMORY_PERCENT (75)
    ({"ACCEPT_PERCENT": "70", "MEMORY_PERCENT": "65"}, [], "ACCEPT_PERCENT", "70"),
    ({"ACCEPT_PERCENT": "0"}, [], "ACCEPT_PERCENT", "0"),
    ({"ACCEPT_PERCENT": "seventy"}, [], "ACCEPT_PERCENT", "seventy"),
    ({"ACCEPT_PERCENT": "nan"}, [], "ACCEPT_PERCENT", "nan"),
    ({"FLIP_AFTER_SAMPLES": "0"}, [], "FLIP_AFTER_SAMPLES", "0"),
    ({"FLIP_AFTER_SAMPLES": "101"}, [], "FLIP_AFTER_SAMPLES", "101"),
    ({"FLIP_AFTER_SAMPLES": "2.5"}, [], "FLIP_AFTER_SAMPLES", "2.5"),
    ({"FLIP_AFTER_SAMPLES": "-1"}, [], "FLIP_AFTER_SAMPLES", "-1"),
    ({"CHECKING_INTERVAL": "1s"}, [], "CHECKING_INTERVAL", "1s"),
    ({"CHECKING_INTERVAL": "0"}, [], "CHECKING_INTERVAL", "0"),
    ({"CHECKING_INTERVAL": "0.001"}, [], "CHECKING_INTERVAL", "0.001"),
    ({"CHECKING_INTERVAL": "3601"}, [], "CHECKING_INTERVAL", "3601"),
    ({"TEST_MODE": "maybe"}, [], "TEST_MODE", "maybe"),
    ({"KUBERNETES_LABEL": "-bad-"}, [], "KUBERNETES_LABEL", "-bad-"),
    ({"KUBERNETES_LABEL": "a/b/c"}, [], "KUBERNETES_LABEL", "a/b/c"),
    ({"KUBERNETES_LABEL": "x" * 64}, [], "KUBERNETES_LABEL", "x" * 64),
    ({"KUBERNETES_LABEL": "Bad_Prefix/accepts"}, [], "KUBERNETES_LABEL", "Bad_Prefix/accepts"),
    ({"USAGE_TIMEOUT": "0"}, [], "USAGE_TIMEOUT", "0"),
    ({"USAGE_TIMEOUT": "soon"}, [], "USAGE_TIMEOUT", "soon"),
    ({"ON_USAGE_FAILURE": "drop"}, [], "ON_USAGE_FAILURE", "drop"),
    ({"USAGE_FAILURE_THRESHOLD": "0"}, [], "USAGE_FAILURE_THRESHOLD", "0"),
    ({"USAGE_FAILURE_THRESHOLD": "1001"}, [], "USAGE_FAILURE_THRESHOLD", "1001"),
    ({"USAGE_FAILURE_THRESHOLD": "2.5"}, [], "USAGE_FAILURE_THRESHOLD", "2.5"),
    ({"POD_RESYNC_INTERVAL": "0"}, [], "POD_RESYNC_INTERVAL", "0"),
    ({"POD_RESYNC_INTERVAL": "often"}, [], "POD_RESYNC_INTERVAL", "often"),
    ({"STARTUP_TIMEOUT": "-1"}, [], "STARTUP_TIMEOUT", "-1"),
    ({"STARTUP_TIMEOUT": "forever"}, [], "STARTUP_TIMEOUT", "forever"),
    ({"API_TIMEOUT": "0"}, [], "API_TIMEOUT", "0"),
    ({"API_TIMEOUT": "slow"}, [], "API_TIMEOUT", "slow"),
    ({"VERBOSE": "loud"}, [], "VERBOSE", "loud"),
    ({"LOG_LEVEL": "warning"}, [], "LOG_LEVEL", "warning"),
    ({"LOG_LEVEL": "INFO"}, [], "LOG_LEVEL", "INFO"),
    ({"LOG_FORMAT": "text"}, [], "LOG_FORMAT", "text"),
    # flags are named as typed
    ({}, ["--memory-percent", "eighty"], "--memory-percent", "eighty"),
    ({}, ["--memory-percent=1001"], "--memory-percent", "1001"),
    ({}, ["--accept-percent", "90"], "--accept-percent", "90"),
    ({"ACCEPT_PERCENT": "70"}, ["--memory-percent=60"], "ACCEPT_PERCENT", "70"),
    ({}, ["--flip-after-samples=0"], "--flip-after-samples", "0"),
    ({}, ["--flip-after-samples", "many"], "--flip-after-samples", "many"),
    ({}, ["--checking-interval", "fast"], "--checking-interval", "fast"),
    ({}, ["--interval", "fast"], "--interval", "fast"),
    ({}, ["--pod-name", "Bad Name"], "--pod-name", "Bad Name"),
    ({}, ["--pod-namespace=UPPER"], "--pod-namespace", "UPPER"),
    ({}, ["--echo-app-port", "99999"], "--echo-app-port", "99999"),
    ({}, ["--echo-app-port", "6001", "--server-port", "9601"], "--server-port", "9601"),
    ({}, ["--usage-url", "ftp://x/usage"], "--usage-url", "ftp://x/usage"),
    ({}, ["--kubernetes-label", "a/b/c"], "--kubernetes-label", "a/b/c"),
    ({}, ["--on-usage-failure", "drop"], "--on-usage-failure", "drop"),
    ({}, ["--usage-failure-threshold", "0"], "--usage-failure-threshold", "0"),
    ({}, ["--pod-resync-interval", "0"], "--pod-resync-interval", "0"),
    ({}, ["--startup-timeout", "-1"], "--startup-timeout", "-1"),
    ({}, ["--api-timeout", "0"], "--api-timeout", "0"),
    ({}, ["--usage-timeout", "0"], "--usage-timeout", "0"),
    ({}, ["--test=maybe"], "--test", "maybe"),
    ({}, ["--verbose=loud"], "--verbose", "loud"),
    ({}, ["--log-level", "trace"], "--log-level", "trace"),
    ({}, ["--log-format=yaml"], "--log-format", "yaml"),
    ({}, ["--bogus"], "--bogus", ""),
    ({}, ["network:watch", "--bogus=1"], "--bogus", ""),
    ({}, ["stray-argument"], "stray-argument", ""),
    ({}, ["--memory-percent"], "--memory-percent", ""),
    # connection settings
    ({"KUBE_CONNECTION": "bogus"}, [], "KUBE_CONNECTION", "bogus"),
    ({"KUBE_CONNECTION": "kubeconfig"}, [], "KUBE_CONNECTION", "kubeconfig"),
    ({"KUBE_CONNECTION": "http", "KUBE_HOST": None}, [], "KUBE_HOST", ""),
    ({"KUBE_CONNECTION": "http", "KUBE_HOST": "http://127.0.0.1:9/api"}, [], "KUBE_HOST",
     "http://127.0.0.1:9/api"),
    ({"KUBE_CONNECTION": "http", "KUBE_HOST": "https://127.0.0.1:9"}, [], "KUBE_HOST",
     "https://127.0.0.1:9"),
    ({"KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:9", "KUBE_BEARER_TOKEN": "t",
      "KUBE_VERIFY_SSL": "maybe"}, [], "KUBE_VERIFY_SSL", "maybe"),
    ({"KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:9", "KUBE_BEARER_TOKEN": "t",
      "KUBE_CA_PATH": "/nonexistent/ca.crt"}, [], "KUBE_CA_PATH", "/nonexistent/ca.crt"),
    ({"KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:9"}, [], "KUBE_BEARER_TOKEN", ""),
]


def bad_id(case):
    env, args, name, value = case
    return "%s=%s" % (name, value[:20]) if not args else " ".join(args)[:40]


def run_bad(watcher_bin, env, args):
    full = base_env(**NOWHERE)
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return run_watcher(watcher_bin, full, *args, timeout=10)


@pytest.mark.parametrize("case", BAD_SETTINGS, ids=[bad_id(c) for c in BAD_SETTINGS])
def test_a_bad_setting_exits_2_with_one_line_naming_it(watcher_bin, case):
    env, args, name, value = case
    result = run_bad(watcher_bin, env, args)
    assert result.returncode == 2, result.stderr
    lines = result.lines
    assert len(lines) == 1, lines
    line = lines[0]
    # The setting is named as a word of its own: MEMORY_PERCENT, not a longer name containing it.
    assert re.search(r"(?<![A-Za-z0-9_-])%s(?![A-Za-z0-9_-])" % re.escape(name), line), line
    assert value in line, line
    # ... and says what is accepted: more than the name and the value.
    rest = re.sub(r"^network-watcher: ", "", line).replace(name, "").replace(value, "")
    assert len(re.findall(r"[a-z]{3,}", rest)) >= 2, line
    assert result.stdout == ""


def test_every_bad_setting_is_reported_not_just_the_first(watcher_bin):
    result = run_bad(watcher_bin, {"MEMORY_PERCENT": "eighty", "CHECKING_INTERVAL": "0",
                                   "ON_USAGE_FAILURE": "drop"}, ["--pod-name", "Bad Name"])
    assert result.returncode == 2
    assert len(result.lines) == 4, result.lines
    for name in ("MEMORY_PERCENT", "CHECKING_INTERVAL", "ON_USAGE_FAILURE", "--pod-name"):
        assert len([line for line in result.lines if name in line]) == 1, (name, result.lines)


def test_no_connection_settings_exit_2_saying_what_was_looked_for(watcher_bin):
    env = base_env(USAGE_URL="http://127.0.0.1:9/usage", TEST_MODE="true")
    result = run_watcher(watcher_bin, env, timeout=10)
    assert result.returncode == 2
    assert len(result.lines) == 1, result.lines
    assert "KUBE_CONNECTION" in result.stderr and "KUBERNETES_SERVICE_HOST" in result.stderr


def test_cluster_mode_without_service_account_files_exits_2(watcher_bin, tmp_path):
    env = base_env(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT="9",
                   SERVICE_ACCOUNT_DIR=str(tmp_path / "missing"),
                   USAGE_URL="http://127.0.0.1:9/usage", TEST_MODE="true")
    result = run_watcher(watcher_bin, env, timeout=10)
    assert result.returncode == 2, result.stderr
    assert result.lines and all("SERVICE_ACCOUNT_DIR" in line for line in result.lines)
    assert "token" in result.stderr


@pytest.mark.parametrize("host,port,name,value", [
    ("-?", "443", "KUBERNETES_SERVICE_HOST", "-?"),
    ("127.0.0.1/x", "443", "KUBERNETES_SERVICE_HOST", "127.0.0.1/x"),
    ("127.0.0.1", "9?x", "KUBERNETES_SERVICE_PORT", "9?x"),
], ids=["host-query", "host-path", "port-query"])
def test_cluster_mode_with_a_bad_host_or_port_exits_2(watcher_bin, tmp_path, host, port, name, value):
    # The URL is put together from the two settings; nothing in them may turn into a path or query.
    for file in ("token", "ca.crt"):
        (tmp_path / file).write_text("x\n")
    env = base_env(KUBERNETES_SERVICE_HOST=host, KUBERNETES_SERVICE_PORT=port, SERVICE_ACCOUNT_DIR=str(tmp_path),
                   USAGE_URL="http://127.0.0.1:9/usage", STARTUP_TIMEOUT="0.5", TEST_MODE="true")
    result = run_watcher(watcher_bin, env, timeout=10)
    assert result.returncode == 2, result.stderr
    assert len(result.lines) == 1, result.lines
    assert name in result.lines[0] and '"%s"' % value in result.lines[0], result.lines


def test_a_certificate_without_its_key_exits_2(watcher_bin, test_pki):
    env = {"KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:9",
           "KUBE_CERTIFICATE_PATH": test_pki["server"].cert}
    result = run_bad(watcher_bin, env, [])
    assert result.returncode == 2
    assert "KUBE_CERTIFICATE_PATH" in result.stderr and "KUBE_KEY_PATH" in result.stderr


# -- --help and --version --------------------------------------------------------


def readme_env_names():
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    return set(re.findall(r"^\| `([A-Z_]+)`", text, re.M)) | set(
        re.findall(r"^\| `[A-Z_]+`, `([A-Z_]+)`", text, re.M))


@pytest.mark.parametrize("args", [["--help"], ["network:watch", "--help"], ["-h"]])
def test_help_lists_every_setting_its_env_name_and_default(watcher_bin, args):
    result = run_watcher(watcher_bin, base_env(), *args, timeout=10)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    missing = [name for name in sorted(set(ENV_NAMES) | readme_env_names())
               if not re.search(r"\b%s\b" % name, text)]
    assert missing == [], "--help does not name: %s" % missing
    missing = [flag for flag in FLAGS if not re.search(r"(?<![\w-])%s(?![\w-])" % flag, text)]
    assert missing == [], "--help does not name: %s" % missing
    for name, default in DEFAULTS.items():
        line = next(line for line in text.splitlines() if re.search(r"\b%s\b" % name, line))
        assert re.search(r"default[^)]*\b%s\b" % re.escape(default), line), (name, line)


def test_help_names_every_variable_the_watcher_looks_up(watcher_bin):
    """The whole environment is read, so any variable the code looks up takes effect; --help must say so."""
    names = set()
    for path in glob.glob(os.path.join(REPO, "Sources", "Watcher", "**", "*.swift"), recursive=True):
        with open(path) as f:
            names |= set(re.findall(r'\bvalue\("([A-Z][A-Z0-9_]*)"\)', f.read()))
    assert {"KUBE_HOST", "KUBECONFIG", "SERVICE_ACCOUNT_DIR"} <= names, names  # the search still finds them
    text = run_watcher(watcher_bin, base_env(), "--help", timeout=10).stdout
    missing = sorted(name for name in names if not re.search(r"\b%s\b" % name, text))
    assert missing == [], "--help does not name: %s" % missing


def test_help_as_a_command_is_help(watcher_bin):
    help_flag = run_watcher(watcher_bin, base_env(), "--help", timeout=10)
    help_command = run_watcher(watcher_bin, base_env(), "help", timeout=10)
    assert help_command.returncode == 0, help_command.stderr
    assert help_command.stdout == help_flag.stdout


def test_version(watcher_bin):
    """A plain `swift build` says what it cannot know, a build script stamps it (the suite also
    runs against the shipped binary); OpenSSL's version comes from the library."""
    result = run_watcher(watcher_bin, base_env(), "--version", timeout=10)
    assert result.returncode == 0
    plain = r"commit: unknown\nbuilt: unknown\nswift: unknown\n"
    stamped = r"commit: [0-9a-f]{40}(-dirty)?\nbuilt: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\nswift: \d+\.\d+(\.\d+)?\n"
    assert re.fullmatch(r"network-watcher \d+\.\d+\.\d+\S*\n(%s|%s)"
                        r"openssl: OpenSSL \d+\.\d+\.\d+.*\n" % (plain, stamped), result.stdout), result.stdout


# -- precedence: flag, then env, then default -----------------------------------------


@pytest.fixture
def api(fake_apiserver_http):
    return fake_apiserver_http


def run_once(watcher_bin, env, *args):
    result = run_watcher(watcher_bin, env, *args, "--test", timeout=15)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("env_value,flag_value,percent,expected", [
    ("90", "80", 80, "no"),     # the flag beats the env
    ("80", "90", 80, "yes"),
    ("90", None, 80, "yes"),    # the env beats the default (75)
    ("70", None, 72, "no"),
    (None, None, 75, "no"),     # the default is 75, compared with >=
    (None, None, 74.99, "yes"),
    ("", None, 75, "no"),       # an empty variable counts as unset
])
def test_memory_percent_precedence(api, usage_server, watcher_bin, env_value, flag_value,
                                   percent, expected):
    api.add_pod(POD)
    usage_server.set(percent=percent)
    env = watcher_env(api, usage_server, MEMORY_PERCENT=env_value)
    args = ["--memory-percent", flag_value] if flag_value else []
    run_once(watcher_bin, env, *args)
    assert label(api) == expected


@pytest.mark.parametrize("env_value,flag_value,expected", [
    ("pod-env", "pod-flag", "pod-flag"),
    ("pod-env", None, "pod-env"),
    (None, None, "some-pod"),
])
def test_pod_name_precedence(api, usage_server, watcher_bin, env_value, flag_value, expected):
    for name in ("pod-env", "pod-flag", "some-pod"):
        api.add_pod(name)
    env = watcher_env(api, usage_server, POD_NAME=env_value)
    args = ["--pod-name=%s" % flag_value] if flag_value else []
    run_once(watcher_bin, env, *args)
    labelled = [name for name in ("pod-env", "pod-flag", "some-pod") if label(api, name)]
    assert labelled == [expected]


def test_pod_namespace_flag_beats_env(api, usage_server, watcher_bin):
    api.add_pod(POD, namespace="ns-flag")
    api.add_pod(POD, namespace="ns-env")
    env = watcher_env(api, usage_server, POD_NAMESPACE="ns-env")
    run_once(watcher_bin, env, "--pod-namespace", "ns-flag")
    assert label(api, namespace="ns-flag") == "yes"
    assert label(api, namespace="ns-env") is None


def test_usage_url_flag_then_env_then_echo_app_port(api, start_usage_server, watcher_bin):
    high, low, port_server = start_usage_server(), start_usage_server(), start_usage_server()
    high.set(percent=90)
    low.set(percent=10)
    port_server.set(percent=95)
    api.add_pod(POD)
    # flag beats env
    run_once(watcher_bin, watcher_env(api, low), "--usage-url", high.url)
    assert label(api) == "no"
    assert low.state()["usage_requests"] == 0
    # env beats the ECHO_APP_PORT default
    run_once(watcher_bin, watcher_env(api, low, ECHO_APP_PORT=str(port_server.port)))
    assert label(api) == "yes"
    assert port_server.state()["usage_requests"] == 0
    # default: http://127.0.0.1:<ECHO_APP_PORT>/usage; --echo-app-port beats ECHO_APP_PORT
    env = watcher_env(api, None, ECHO_APP_PORT=str(low.port))
    run_once(watcher_bin, env, "--echo-app-port", str(port_server.port))
    assert label(api) == "no"
    assert port_server.state()["usage_requests"] == 1


def test_kubernetes_label_precedence(api, usage_server, watcher_bin):
    api.add_pod(POD)
    soketi = "ws.soketi.app/accepts-new-connections"
    run_once(watcher_bin, watcher_env(api, usage_server, KUBERNETES_LABEL="env.example/x"),
             "--kubernetes-label", soketi)
    run_once(watcher_bin, watcher_env(api, usage_server, KUBERNETES_LABEL="env.example/x"))
    run_once(watcher_bin, watcher_env(api, usage_server))
    labels = api.labels(POD)
    assert labels == {soketi: "yes", "env.example/x": "yes", LABEL: "yes"}


def started_line(watcher):
    line = watcher.wait_logged("starting network-watcher")[0]
    return parse_line(line)[3]


@pytest.mark.parametrize("env_value,args,expected", [
    ("0.5", ["--checking-interval", "0.25"], "0.25s"),
    ("0.5", ["--interval", "0.2"], "0.2s"),
    ("0.5", ["--interval=0.2"], "0.2s"),
    ("0.5", [], "0.5s"),
    (None, [], "1s"),
])
def test_checking_interval_precedence_and_alias(api, usage_server, start_watcher, env_value,
                                                args, expected):
    """The effective interval, as logged with the settings at start."""
    api.add_pod(POD)
    watcher = start_watcher(watcher_env(api, usage_server, CHECKING_INTERVAL=env_value), *args)
    assert started_line(watcher)["interval"] == expected


@pytest.mark.parametrize("env,args,accept,samples", [
    ({}, [], "75", "1"),  # unset: MEMORY_PERCENT, one sample (the old rule)
    ({"MEMORY_PERCENT": "80"}, [], "80", "1"),
    ({"ACCEPT_PERCENT": "70", "FLIP_AFTER_SAMPLES": "3"}, [], "70", "3"),
    ({"ACCEPT_PERCENT": "70", "FLIP_AFTER_SAMPLES": "3"}, ["--accept-percent", "72.5", "--flip-after-samples=2"],
     "72.5", "2"),
])
def test_accept_percent_and_flip_after_samples_as_logged_at_start(api, usage_server, start_watcher, env, args,
                                                                   accept, samples):
    api.add_pod(POD)
    fields = started_line(start_watcher(watcher_env(api, usage_server, **env), *args))
    assert (fields["accept_percent"], fields["flip_after_samples"]) == (accept, samples)


def test_the_interval_is_kept_between_samples(api, usage_server, start_watcher):
    api.add_pod(POD)
    watcher = start_watcher(watcher_env(api, usage_server, CHECKING_INTERVAL="5"),
                            "--interval", "0.1")
    watcher.wait_logged("watching pod")
    first = usage_server.state()["usage_requests"]
    time.sleep(1.0)
    samples = usage_server.state()["usage_requests"] - first
    assert 6 <= samples <= 12, samples


def test_network_watch_and_no_command_do_the_same(api, usage_server, watcher_bin):
    api.add_pod("pod-a")
    api.add_pod("pod-b")
    usage_server.set(percent=80)
    run_once(watcher_bin, watcher_env(api, usage_server, POD_NAME="pod-a"), "network:watch")
    run_once(watcher_bin, watcher_env(api, usage_server, POD_NAME="pod-b"))
    assert label(api, "pod-a") == label(api, "pod-b") == "no"
