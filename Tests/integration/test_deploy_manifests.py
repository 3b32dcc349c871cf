"""deploy/ as `kubectl apply -k deploy/` sends it: rendered by the real
`kubectl kustomize`, valid for every Kubernetes version kubernetes-validate
bundles from 1.29 on (strict), applicable in one command (the Namespace
before what lives in it), every container within the Pod Security Standard
"restricted", the Role exactly what the binary uses, and the soketi example
wired to soketi's Usage API port, label and heap limit. deploy/native-sidecar/
gets the same checks, plus the native sidecar's own shape."""
import os
import re
import signal
import subprocess

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from conftest import REPO, require_tool
from support.servers import KUBECTL
from support.watcher import Watcher

LABEL = "ws.soketi.app/accepts-new-connections"
VARIANTS = ["deploy", "deploy/native-sidecar"]
VERSIONS = sorted({v for v in kubernetes_validate.utils.all_versions()
                   if tuple(int(n) for n in v.split(".")[:2]) >= (1, 29)},
                  key=lambda v: tuple(int(n) for n in v.split(".")))
# The "restricted" profile's container fields (kubernetes.io/docs/concepts/security/pod-security-standards).
ALLOWED_CAPABILITY_ADDS = {"NET_BIND_SERVICE"}
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}

_rendered = {}


def rendered(variant="deploy"):
    """The documents `kubectl kustomize VARIANT` prints, in its order."""
    if variant not in _rendered:
        require_tool(KUBECTL)
        result = subprocess.run([KUBECTL, "kustomize", variant], cwd=REPO, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        _rendered[variant] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return _rendered[variant]


def find(kind, variant="deploy"):
    found = [d for d in rendered(variant) if d["kind"] == kind]
    assert len(found) == 1, "expected one %s in %s" % (kind, variant)
    return found[0]


def pod_spec(variant="deploy"):
    return find("Deployment", variant)["spec"]["template"]["spec"]


def containers(spec):
    return spec["containers"] + spec.get("initContainers", [])


def container(spec, name):
    return [c for c in containers(spec) if c["name"] == name][0]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_object_is_valid(variant, version):
    assert VERSIONS, "kubernetes-validate bundles no version from 1.29 on"
    for document in rendered(variant):
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail("%s %s for %s: %s at %s" % (document["kind"], document["metadata"]["name"],
                                                    version, error.message, list(error.path)))


@pytest.mark.parametrize("variant", VARIANTS)
def test_applies_in_one_command(variant):
    """Each namespaced object's Namespace comes earlier in the same stream."""
    documents = rendered(variant)
    assert documents[0]["kind"] == "Namespace"
    created = set()
    for document in documents:
        if document["kind"] == "Namespace":
            created.add(document["metadata"]["name"])
            continue
        namespace = document["metadata"].get("namespace")
        assert namespace in created, "%s %s arrives before its namespace %s" % (
            document["kind"], document["metadata"]["name"], namespace)


def effective(container, pod, field):
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    value = (container.get("securityContext") or {}).get(field)
    return value if value is not None else (pod.get("securityContext") or {}).get(field)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_container_passes_the_restricted_profile(variant):
    spec = pod_spec(variant)
    assert not any(spec.get(f) for f in ("hostNetwork", "hostPID", "hostIPC"))
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        assert kinds <= RESTRICTED_VOLUME_TYPES, (volume["name"], kinds)
    for c in containers(spec):
        security = c.get("securityContext") or {}
        name = c["name"]
        assert effective(c, spec, "runAsNonRoot") is True, name
        assert effective(c, spec, "runAsUser") != 0, name
        assert (effective(c, spec, "seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost"), name
        assert security.get("allowPrivilegeEscalation") is False, name
        assert security.get("privileged") in (None, False), name
        assert "ALL" in security.get("capabilities", {}).get("drop", []), name
        assert set(security.get("capabilities", {}).get("add", [])) <= ALLOWED_CAPABILITY_ADDS, name
        assert not any(p.get("hostPort") for p in c.get("ports", [])), name
        # Stricter than the profile: neither app writes outside its volumes.
        assert security.get("readOnlyRootFilesystem") is True, name
    namespace = find("Namespace", variant)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_native_sidecar_variant_starts_the_watcher_as_an_init_container_that_keeps_running():
    spec = pod_spec("deploy/native-sidecar")
    assert [c["name"] for c in spec["initContainers"]] == ["network-watcher"]
    assert spec["initContainers"][0]["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["soketi"]
    plain = container(pod_spec(), "network-watcher")
    assert {k: v for k, v in spec["initContainers"][0].items() if k != "restartPolicy"} == plain


def granted():
    rules = find("Role")["rules"]
    return {(group, resource, verb) for rule in rules for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_role_grants_pods_get_patch_and_events_create_patch_only():
    # events patch: a repeated Event is a PATCH of its count, as client-go records it.
    assert granted() == {("", "pods", "get"), ("", "pods", "patch"), ("", "events", "create"),
                         ("", "events", "patch")}
    binding = find("RoleBinding")
    account = find("ServiceAccount")
    assert binding["roleRef"]["name"] == find("Role")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": account["metadata"]["namespace"]}]


def verb_of(request):
    """The RBAC verb and resource a core/v1 request needs."""
    match = re.fullmatch(r"/api/v1/namespaces/[^/]+/(pods|events)(/[^/]+)?", request["path"])
    assert match, "unexpected request %s %s" % (request["method"], request["path"])
    resource, named = match.group(1), match.group(2)
    verbs = {"GET": "get" if named else "list", "PATCH": "patch", "PUT": "update", "POST": "create",
             "DELETE": "delete"}
    return ("", resource, verbs[request["method"]])


def test_the_binary_uses_exactly_what_the_role_grants(watcher_bin, fake_apiserver_http, usage_server):
    """no, yes, then no again: the repeated OverThreshold Event is a count PATCH."""
    api = fake_apiserver_http
    api.add_pod("echo-0")
    usage_server.set(sequence=[90, 30, 90])
    environment = {"KUBE_CONNECTION": "http", "KUBE_HOST": api.url, "POD_NAME": "echo-0",
                   "USAGE_URL": usage_server.url, "CHECKING_INTERVAL": "0.1", "PATH": "/usr/bin:/bin"}
    watcher = Watcher(watcher_bin, environment)
    try:
        watcher.wait_for(lambda: any(r["method"] == "PATCH" and "/events/" in r["path"] for r in api.requests()),
                         10, "the count PATCH of the repeated Event")
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(5) == 0
    finally:
        watcher.close()
    api_requests = [r for r in api.requests() if r["path"].startswith("/api/v1/namespaces/default/")]
    assert {verb_of(r) for r in api_requests} == granted()


def env_of(c):
    return {e["name"]: e.get("value", e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"))
            for e in c.get("env", [])}


def test_sidecar_gets_its_pod_from_the_downward_api_and_a_local_image():
    spec = pod_spec()
    sidecar = container(spec, "network-watcher")
    assert sidecar["securityContext"]["runAsUser"] == 65532
    env = env_of(sidecar)
    assert env["POD_NAME"] == "metadata.name" and env["POD_NAMESPACE"] == "metadata.namespace"
    assert sidecar["resources"]["limits"]["memory"] and sidecar["resources"]["requests"]["memory"]
    assert spec["serviceAccountName"] == find("ServiceAccount")["metadata"]["name"]
    # A locally built image loaded into kind/minikube/k3s: never pulled when present.
    assert sidecar["imagePullPolicy"] == "IfNotPresent"
    assert not sidecar["image"].endswith(":latest")


def test_the_watcher_reads_soketis_usage_port_and_sets_the_label_the_service_selects():
    spec = pod_spec()
    env = env_of(container(spec, "network-watcher"))
    soketi = container(spec, "soketi")
    metrics = [p["containerPort"] for p in soketi["ports"] if p["name"] == "metrics"]
    assert env["USAGE_URL"] == "http://127.0.0.1:%d/usage" % metrics[0] == "http://127.0.0.1:9601/usage"
    assert env["KUBERNETES_LABEL"] == LABEL
    assert LABEL in find("Service")["spec"]["selector"]


def mebibytes(quantity):
    units = {"Mi": 1, "Gi": 1024}
    return int(quantity[:-2]) * units[quantity[-2:]]


def test_soketis_heap_limit_is_matched_to_its_memory_limit():
    """soketi's percent is over V8's heap limit: set below the container's, so the threshold comes first."""
    soketi = container(pod_spec(), "soketi")
    heap = [int(a.split("=")[1]) for a in soketi["command"] if a.startswith("--max-old-space-size=")]
    assert len(heap) == 1, soketi["command"]
    limit = mebibytes(soketi["resources"]["limits"]["memory"])
    assert limit / 2 <= heap[0] < limit, (heap[0], limit)


def test_service_selects_only_pods_that_accept_new_connections():
    service = find("Service")
    deployment = find("Deployment")
    assert service["spec"]["selector"][LABEL] == "yes"
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(template_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    # The Deployment must not select on the label the watcher changes, or it would orphan the pod.
    assert LABEL not in deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_liveness_probe_asks_the_watchers_own_health_port(variant):
    """/healthz on the port the watcher serves (HTTP_PORT), named as the PodMonitor scrapes it;
    no readiness probe, which would gate soketi's traffic on the watcher."""
    sidecar = container(pod_spec(variant), "network-watcher")
    ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
    probe = sidecar["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert ports[probe["port"]] == int(env_of(sidecar)["HTTP_PORT"])
    assert "readinessProbe" not in sidecar
    with open(os.path.join(REPO, "deploy", "monitoring", "podmonitor.yaml")) as f:
        monitor = yaml.safe_load(f)
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == (probe["port"], "/metrics")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= \
        find("Deployment", variant)["spec"]["template"]["metadata"]["labels"].items()
    assert monitor["metadata"]["namespace"] == find("Namespace", variant)["metadata"]["name"]
