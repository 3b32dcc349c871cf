"""The soketi Helm chart's sidecar, with deploy/helm/soketi-network-watcher-values.yaml.

Helm is not at hand, so the chart's output is written here as data: the
`network-watcher` container that charts/soketi/templates/deployment.yaml of
soketi/charts renders with the values file (chart version 1.0.2, commit
3ec4228307aae0c984c0da143d7e425d00364fe0; its env is the template's own, only
the values' fields filled in), the Role of templates/serviceaccount-role.yaml
and the Service selector of templates/service.yaml. The container then runs
the way a kubelet runs it: the scratch image, the rendered command as PID 1,
uid 65532, the service account's files, the rendered env with the downward-API
fields resolved, against the fake API server with the Role's verbs as the
token's grants, and a usage server on 127.0.0.1:9601, where the chart's
SERVER_PORT points (soketi's metrics port).
"""
import os

import pytest
import yaml

from conftest import REPO
from support.pod import running_pod, service_account_folder, wait_until

VALUES = os.path.join(REPO, "deploy", "helm", "soketi-network-watcher-values.yaml")
CHART = "soketi/charts charts/soketi, chart version 1.0.2 (commit 3ec4228)"
LABEL = "ws.soketi.app/accepts-new-connections"

# `helm template soketi soketi/soketi --version 1.0.2 -f VALUES`: the sidecar.
RENDERED_CONTAINER = yaml.safe_load("""
name: network-watcher
securityContext:
  {}
image: "network-watcher:0.1.0"
imagePullPolicy: IfNotPresent
command:
  - /network-watcher
  - network:watch
  - --kubernetes-label
  - ws.soketi.app/accepts-new-connections
env:
  - name: KUBE_CONNECTION
    value: cluster
  - name: SERVER_PORT
    value: "9601"
  - name: MEMORY_PERCENT
    value: "85"
  - name: CHECKING_INTERVAL
    value: "1"
  - name: POD_NAMESPACE
    valueFrom:
      fieldRef:
        fieldPath: metadata.namespace
  - name: POD_NAME
    valueFrom:
      fieldRef:
        fieldPath: metadata.name
resources:
  limits:
    cpu: 50m
    memory: 32Mi
  requests:
    cpu: 5m
    memory: 16Mi
""")

# templates/serviceaccount-role.yaml (unchanged since the chart's first version).
CHART_ROLE_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "update", "patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]
# The pod template's labels (soketi.selectorLabels, release "soketi") and the Service's selector.
POD_LABELS = {"app.kubernetes.io/name": "soketi", "app.kubernetes.io/instance": "soketi", "app": "soketi"}
SERVICE_SELECTOR = dict(POD_LABELS, **{LABEL: "yes"})
NAMESPACE = "soketi"
POD = "soketi-6d5f7c9b8-x2k4q"


def values():
    with open(VALUES) as f:
        return yaml.safe_load(f)["networkWatcher"]


def test_the_rendered_container_is_what_the_values_file_gives():
    """The data above is the template filled with this file's values (a stale copy fails here)."""
    watcher = values()
    assert watcher["enabled"] is True
    image = watcher["image"]
    assert RENDERED_CONTAINER["image"] == "%s:%s" % (image["repository"], image["tag"])
    assert RENDERED_CONTAINER["imagePullPolicy"] == image["pullPolicy"] == "IfNotPresent"
    assert RENDERED_CONTAINER["command"] == watcher["command"]
    assert RENDERED_CONTAINER["resources"] == watcher["resources"]
    env = {e["name"]: e.get("value") for e in RENDERED_CONTAINER["env"]}
    assert env["MEMORY_PERCENT"] == str(watcher["threshold"])
    assert env["CHECKING_INTERVAL"] == str(watcher["interval"])


def test_the_values_give_the_measured_footprint_room():
    """Peak RSS measured (BENCHMARKS.md): 4.1 MiB shipped, 8.4 MiB for the normal static build of
    6def3b8; the request covers the larger, the limit doubles it."""
    resources = values()["resources"]
    mebibytes = lambda quantity: int(quantity.removesuffix("Mi"))
    assert mebibytes(resources["requests"]["memory"]) >= 9
    assert mebibytes(resources["limits"]["memory"]) >= 2 * 8.4


def grants(rules):
    return ["%s %s" % (verb, resource) for rule in rules for resource in rule["resources"]
            for verb in rule["verbs"]]


def kubelet_env(container, pod, api):
    """The container's env as the kubelet gives it: values, downward-API fields, service variables."""
    fields = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": pod["metadata"]["namespace"]}
    env = {}
    for entry in container["env"]:
        env[entry["name"]] = entry["value"] if "value" in entry else fields[entry["valueFrom"]["fieldRef"]["fieldPath"]]
    env.update(api.cluster_env())
    return env


def selected_by_the_service(api):
    labels = api.labels(POD, namespace=NAMESPACE)
    return all(labels.get(key) == value for key, value in SERVICE_SELECTOR.items())


def test_the_chart_sidecar_runs_this_image_and_flips_the_ws_label(scratch_image, start_fake_apiserver,
                                                                start_usage_server, tmp_path):
    api = start_fake_apiserver(tokens={"chart-token": grants(CHART_ROLE_RULES)})
    api.add_namespace(NAMESPACE)
    pod = api.add_pod(POD, namespace=NAMESPACE, labels=POD_LABELS)
    try:
        usage = start_usage_server(port=9601)
    except RuntimeError as error:
        pytest.fail("the usage server needs 127.0.0.1:9601, where the chart's SERVER_PORT points: %s" % error)
    usage.set(percent=40)
    accounts = service_account_folder(api, str(tmp_path / "serviceaccount"), "chart-token", NAMESPACE)
    environment = kubelet_env(RENDERED_CONTAINER, pod, api)

    with running_pod(scratch_image, accounts, environment, RENDERED_CONTAINER["command"]) as running:
        assert running.status("Uid:")[0] == "65532"
        assert running.status("NSpid:")[-1] == "1"

        labels = lambda: api.labels(POD, namespace=NAMESPACE)
        wait_until("the ws. label to be set to yes", lambda: labels().get(LABEL) == "yes")
        assert selected_by_the_service(api)

        usage.set(percent=90)  # above the chart's threshold of 85
        wait_until("the ws. label to turn no above 85%", lambda: labels().get(LABEL) == "no")
        assert not selected_by_the_service(api)

        usage.set(percent=30)
        wait_until("the ws. label to turn yes again", lambda: labels().get(LABEL) == "yes")
        assert selected_by_the_service(api)
        reasons = [e["reason"] for e in api.events()]
        assert "OverThreshold" in reasons and "BelowThreshold" in reasons

        assert running.terminate() < 2.0
        assert running.process.returncode == 0, running.output()
        assert labels().get(LABEL) == "no"
        assert "echo.soketi.app/accepts-new-connections" not in labels()
        # Everything it asked for, the chart's Role allowed; it read the pod the chart's env named.
        refused = [(r["method"], r["path"], r["status"]) for r in api.requests() if r["status"] in (401, 403)]
        assert refused == []
        assert usage.state()["usage_requests"] >= 3
