"""The real Prometheus server (Debian's package) scraping one target every second.

    with Prometheus(target_port, tmp_path) as prometheus:
        series = prometheus.wait_for("network_watcher_build_info", lambda result: result)
"""
import json
import subprocess
import time
import urllib.request

from support.peers import free_port, read_file, stop_process, wait_for_port


class Prometheus:
    def __init__(self, target_port, folder):
        self.web_port = free_port()
        config = folder / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                          "  - job_name: watcher\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                          % target_port)
        self.log_path = str(folder / "prometheus.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["prometheus", "--config.file", str(config), "--storage.tsdb.path",
                                          str(folder / "data"), "--web.listen-address",
                                          "127.0.0.1:%d" % self.web_port],
                                         stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port("127.0.0.1", self.web_port, self.proc, "prometheus", self.log_path)
        except BaseException:
            stop_process(self.proc)
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop_process(self.proc)

    def query(self, expression):
        """The query API's result for `expression` now ([] while Prometheus cannot answer)."""
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.web_port, urllib.request.quote(expression))
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)["data"]["result"]
        except OSError:
            return []

    def wait_for(self, expression, accept, timeout=60):
        """The first result of `expression` that `accept` takes, polling until `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(expression)
            if accept(result):
                return result
            time.sleep(0.5)
        raise AssertionError("no accepted result for %s after %s s: %s"
                             % (expression, timeout, read_file(self.log_path)[-3000:]))
