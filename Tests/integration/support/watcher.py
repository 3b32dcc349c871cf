"""Run the built `network-watcher` against the test servers.

Start it with an environment (never the test runner's own: only PATH is
inherited), wait for a condition with a bounded poll, signal or stop it, and
read what it wrote on standard error. Every process started here is stopped at
the end of the test that started it.

    from support.watcher import start_watcher  # noqa: F401 (fixture)

    watcher = start_watcher(watcher_env(api, usage, MEMORY_PERCENT="80"))
    watcher.wait_for(lambda: label(api) == "no", 3, "the label to become no")
"""
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from support.servers import WATCHER_TOKEN

LABEL = "echo.soketi.app/accepts-new-connections"
POD = "some-pod"
INTERVAL = "0.1"
# `RFC3339Z LEVEL message key=value ...` (README, "Logs"), the time with milliseconds;
# values with spaces are quoted.
LOG_LINE = re.compile(r'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (DEBUG|INFO|WARN|ERROR) ([^=]*?)'
                      r'((?: [A-Za-z_][A-Za-z0-9_]*=(?:"(?:[^"\\]|\\.)*"|[^\s"]+))*)')
FIELD = re.compile(r' ([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s"]+)')


def base_env(**variables):
    """A clean environment: PATH and `variables` (None values are left out)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update({name: str(value) for name, value in variables.items() if value is not None})
    return env


def api_env(api, token=WATCHER_TOKEN):
    """Connection settings for a FakeApiServer: `token` mode over TLS, `http` without."""
    if api.tls:
        return {"KUBE_CONNECTION": "token", "KUBE_HOST": api.url, "KUBE_BEARER_TOKEN": token,
                "KUBE_CA_PATH": api.ca}
    return {"KUBE_CONNECTION": "http", "KUBE_HOST": api.url}


def watcher_env(api, usage, token=WATCHER_TOKEN, **variables):
    """Everything to watch `default/some-pod` on `api` with `usage`, at a 0.1 s interval.

    `api` or `usage` may be None (no connection settings, no USAGE_URL); a variable
    given as None is removed.
    """
    env = base_env(**(api_env(api, token) if api else {}))
    env.update(base_env(USAGE_URL=usage.url if usage else None, POD_NAME=POD,
                        POD_NAMESPACE="default", CHECKING_INTERVAL=INTERVAL))
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def wait_until(condition, timeout, what, interval=0.05):
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_samples(usage, samples=5, timeout=5):
    """Wait until the usage server has answered `samples` more /usage requests."""
    first = usage.state()["usage_requests"]
    wait_until(lambda: usage.state()["usage_requests"] >= first + samples, timeout,
               "%d more samples" % samples)


def label(api, pod=POD, namespace="default", key=LABEL):
    """The pod's label value at the API server, None when unset."""
    return api.labels(pod, namespace).get(key)


def posted_events(api, accepted=True):
    """Bodies of the Events the watcher POSTed, in the order they arrived (201 only by default)."""
    return [r["body"] for r in api.requests(r"/events$")
            if r["method"] == "POST" and (r["status"] == 201 or not accepted)]


def recorded_events(api):
    """(reason, message) of every Event occurrence the API server accepted, oldest first: a
    POST of a new Event, or a PATCH that counts one more on an existing one (client-go's
    correlation of repeats), whose reason is the created Event's."""
    reason_of, recorded = {}, []
    for r in api.requests(r"/events(/[^/]+)?$"):
        if r["method"] == "POST" and r["status"] == 201:
            reason_of[r["body"]["metadata"]["name"]] = r["body"]["reason"]
            recorded.append((r["body"]["reason"], r["body"]["message"]))
        elif r["method"] == "PATCH" and r["status"] == 200:
            recorded.append((reason_of.get(r["path"].rsplit("/", 1)[1]), r["body"]["message"]))
    return recorded


def reasons(api):
    """The reasons of the Event occurrences recorded (created or counted), oldest first."""
    return [reason for reason, _ in recorded_events(api)]


def patches(api, pod=POD):
    """The PATCH requests on the pod, oldest first, with their status."""
    return [r for r in api.requests(r"/pods/%s$" % re.escape(pod)) if r["method"] == "PATCH"]


def patched_values(api, key=LABEL, status=200):
    """The label values of the PATCHes that the API server answered with `status`."""
    return [r["body"]["metadata"]["labels"][key] for r in patches(api) if r["status"] == status]


def parse_line(line):
    """(timestamp, level, message, {key: value}) of a log line, or None if it is malformed."""
    match = LOG_LINE.fullmatch(line)
    if not match:
        return None
    fields = {}
    for key, value in FIELD.findall(match.group(4)):
        if value.startswith('"'):
            escapes = {"n": "\n", "r": "\r", "t": "\t"}
            value = re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), value[1:-1])
        fields[key] = value
    return match.group(1), match.group(2), match.group(3), fields


@dataclass
class Finished:
    """A watcher run to its end: exit status, both outputs, seconds taken."""
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def lines(self):
        return self.stderr.splitlines()


def run_watcher(binary, env, *args, timeout=15, preexec_fn=None):
    """Run the watcher to its end (bounded by `timeout`); a Finished. `preexec_fn` runs in
    the child before the exec (for example to hand the watcher an ignored signal)."""
    started = time.monotonic()
    try:
        result = subprocess.run([binary, *args], env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("network-watcher %s did not exit in %ss; stderr:\n%s"
                             % (" ".join(args), timeout, e.stderr)) from None
    return Finished(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


class Watcher:
    """A running network-watcher; its stdout and stderr go to files read on demand.

    With `pid1` it runs as PID 1 of a new PID namespace, as in a container: signals
    then reach it only because it handles them (through its signalfd).
    """

    def __init__(self, binary, env, args=(), pid1=False, pass_fds=()):
        self.args = list(args)
        self._err = tempfile.NamedTemporaryFile(prefix="network-watcher-", suffix=".stderr",
                                                delete=False)
        self._out = tempfile.NamedTemporaryFile(prefix="network-watcher-", suffix=".stdout",
                                                delete=False)
        self.started = time.monotonic()
        command = [binary, *self.args]
        if pid1:
            command = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *command]
        self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._out, stderr=self._err, pass_fds=pass_fds)
        self._pid = self.process.pid
        if pid1:
            self._pid = wait_until(lambda: self._namespace_init(binary), 5,
                                   "the watcher to start as PID 1 of its namespace")
        self.exited_at = None

    def _namespace_init(self, binary):
        """unshare's child once it runs the watcher: its PID here (it is 1 inside)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.process.pid, self.process.pid)) as f:
                children = f.read().split()
            if children and os.path.samefile("/proc/%s/exe" % children[0], binary):
                with open("/proc/%s/status" % children[0]) as f:
                    assert re.search(r"^NSpid:\s+\d+\s+1$", f.read(), re.M), "not PID 1 of its namespace"
                return int(children[0])
        except OSError:
            pass
        return None

    @property
    def pid(self):
        return self._pid

    def stderr(self):
        with open(self._err.name, errors="replace") as f:
            return f.read()

    def lines(self):
        return self.stderr().splitlines()

    def logged(self, text):
        """Log lines containing `text`."""
        return [line for line in self.lines() if text in line]

    def running(self):
        return self.process.poll() is None

    def _tail(self, count=30):
        return "\n".join(self.lines()[-count:])

    def wait_for(self, condition, timeout, what, interval=0.05):
        """Like wait_until, but fails at once (with the log) if the watcher has exited."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if not self.running():
                raise AssertionError("network-watcher exited (%s) while waiting for %s; stderr:\n%s"
                                     % (self.process.returncode, what, self._tail()))
            if time.monotonic() >= deadline:
                raise AssertionError("timed out after %ss waiting for %s; watcher stderr:\n%s"
                                     % (timeout, what, self._tail()))
            time.sleep(interval)

    def wait_logged(self, text, timeout=5, count=1):
        """Wait until `count` log lines contain `text`; returns them."""
        return self.wait_for(lambda: len(self.logged(text)) >= count and self.logged(text), timeout,
                             "%d log line(s) with %r" % (count, text))

    def signal(self, signum):
        if self.process.poll() is None:
            os.kill(self._pid, signum)

    def wait(self, timeout):
        """Wait for the exit (bounded); returns the exit status."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("network-watcher still running after %ss; stderr:\n%s"
                                 % (timeout, self._tail())) from None
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        return status

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s: the watcher never outlives its test."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self):
        self.stop()
        for handle in (self._err, self._out):
            handle.close()
            if os.path.exists(handle.name):
                os.unlink(handle.name)


@pytest.fixture
def start_watcher(watcher_bin):
    """start_watcher(env, *args, pid1=False, pass_fds=()) -> Watcher; every one is stopped at teardown."""
    started = []

    def start(env, *args, pid1=False, pass_fds=()):
        watcher = Watcher(watcher_bin, env, args, pid1=pid1, pass_fds=pass_fds)
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.close()
