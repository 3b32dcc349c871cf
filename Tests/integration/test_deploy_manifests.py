"""deploy/ manifests: valid for Kubernetes (kubernetes-validate's schemas for
1.30, strict), and the Role grants exactly what the binary uses."""
import glob
import os
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

from conftest import REPO

KUBERNETES_VERSION = "1.30"
LABEL = "echo.soketi.app/accepts-new-connections"


def manifests():
    documents = []
    for path in sorted(glob.glob(os.path.join(REPO, "deploy", "*.yaml"))):
        with open(path) as f:
            documents += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]
    return documents


def find(kind):
    found = [d for _, d in manifests() if d["kind"] == kind]
    assert len(found) == 1, "expected one %s in deploy/" % kind
    return found[0]


@pytest.mark.parametrize("name,document", manifests(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_every_manifest_is_valid(name, document):
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail("%s %s: %s at %s" % (name, document["kind"], error.message, list(error.path)))


def granted():
    rules = find("Role")["rules"]
    return {(group, resource, verb) for rule in rules for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_role_grants_pods_get_patch_and_events_create_only():
    assert granted() == {("", "pods", "get"), ("", "pods", "patch"), ("", "events", "create")}
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
    api = fake_apiserver_http
    api.add_pod("echo-0")
    usage_server.set(percent=90)
    environment = {"KUBE_CONNECTION": "http", "KUBE_HOST": api.url, "POD_NAME": "echo-0",
                   "USAGE_URL": usage_server.url, "TEST_MODE": "true"}
    result = subprocess.run([watcher_bin], env=environment, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    api_requests = [r for r in api.requests() if r["path"].startswith("/api/v1/namespaces/default/")]
    assert {verb_of(r) for r in api_requests} == granted()


def test_sidecar_is_locked_down_and_gets_its_pod_from_the_downward_api():
    deployment = find("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    sidecar = [c for c in pod["containers"] if c["name"] == "network-watcher"][0]
    security = sidecar["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 65532
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in sidecar["env"]}
    assert env["POD_NAME"] == "metadata.name" and env["POD_NAMESPACE"] == "metadata.namespace"
    assert sidecar["resources"]["limits"]["memory"] and sidecar["resources"]["requests"]["memory"]
    assert pod["serviceAccountName"] == find("ServiceAccount")["metadata"]["name"]


def test_service_selects_only_pods_that_accept_new_connections():
    service = find("Service")
    deployment = find("Deployment")
    assert service["spec"]["selector"][LABEL] == "yes"
    template_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(template_labels.get(k) == v for k, v in service["spec"]["selector"].items())
    # The Deployment must not select on the label the watcher changes, or it would orphan the pod.
    assert LABEL not in deployment["spec"]["selector"]["matchLabels"]
