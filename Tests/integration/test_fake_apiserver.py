"""The fake API server, checked directly over HTTP and against the real kubectl.

If the fake drifts from Kubernetes, the watcher's integration tests would pass
against a server that does not exist; these tests pin it to KUBERNETES.md and
to what /usr/bin/kubectl actually sends and accepts.
"""
import http.client
import json
import re
import socket
import ssl
import time

import kubernetes_validate
import pytest
from kubernetes_validate.utils import schema_contents

from servers import kube_objects
from support import pki
from support.servers import (  # noqa: F401 (fixtures)
    ADMIN_TOKEN, WATCHER_TOKEN, fake_apiserver, fake_apiserver_http, kubectl,
    start_fake_apiserver)

LABEL = "echo.soketi.app/accepts-new-connections"
POD = "/api/v1/namespaces/default/pods/some-pod"
EVENTS = "/api/v1/namespaces/default/events"
MERGE = "application/merge-patch+json"
USER = "system:serviceaccount:default:test"


@pytest.fixture
def api(fake_apiserver):
    """The TLS fake with pod default/some-pod labelled app=echo."""
    fake_apiserver.add_pod("some-pod", labels={"app": "echo"})
    return fake_apiserver


def watcher_event(name="some-pod.187b0d1c2f3a4e50", namespace="default", uid="u-1", **changes):
    """An Event shaped like the one the watcher posts (KUBERNETES.md)."""
    event = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "some-pod",
                           "namespace": namespace, "uid": uid},
        "reason": "OverThreshold",
        "message": "Rejecting new connections. Echo container uses 80.0%, threshold is 75.0%",
        "type": "Warning", "count": 1,
        "firstTimestamp": "2026-11-25T12:00:00Z", "lastTimestamp": "2026-11-25T12:00:00Z",
        "source": {"component": "network-watcher"},
        "reportingComponent": "network-watcher", "reportingInstance": "some-pod",
    }
    event.update(changes)
    return event


def patch(api, body, content_type=MERGE, path=POD, token=ADMIN_TOKEN, query=""):
    return api.request("PATCH", path + query, body, token=token, content_type=content_type)


def rv(api):
    return api.pod("some-pod")["metadata"]["resourceVersion"]


# -- discovery and authentication ---------------------------------------------

def test_version_is_public_and_discovery_needs_a_token(api):
    version = api.request("GET", "/version", token=None)
    assert version.status == 200 and version.body["major"] == "1"
    assert version.body["gitVersion"].startswith("v1.")
    assert api.request("GET", "/api", token=None).status == 401
    assert api.request("GET", "/api").body["versions"] == ["v1"]
    assert api.request("GET", "/apis").body["kind"] == "APIGroupList"
    resources = {r["name"]: r for r in api.request("GET", "/api/v1").body["resources"]}
    assert resources["pods"]["kind"] == "Pod" and resources["pods"]["namespaced"]
    assert "patch" in resources["pods"]["verbs"] and "create" in resources["events"]["verbs"]
    assert resources["namespaces"]["namespaced"] is False


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_unknown_token_is_401_status(api, token):
    answer = api.request("GET", POD, token=token)
    assert answer.status == 401
    assert answer.body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Failure", "message": "Unauthorized",
                           "reason": "Unauthorized", "code": 401}


def test_verb_outside_the_role_is_403_with_the_real_message(api):
    answer = patch(api, {"metadata": {"labels": {LABEL: "no"}}}, token=WATCHER_TOKEN)
    assert answer.status == 200  # patch pods is in the watcher's role
    listing = api.request("GET", EVENTS, token=WATCHER_TOKEN)
    assert listing.status == 403
    assert listing.body["message"] == (
        'events is forbidden: User "%s" cannot list resource "events" in API group "" '
        'in the namespace "default"' % USER)
    assert listing.body["reason"] == "Forbidden" and listing.body["code"] == 403
    api.set_tokens({"reader": ["get pods"]})
    answer = patch(api, {"metadata": {"labels": {LABEL: "yes"}}}, token="reader")
    assert answer.status == 403
    assert answer.body["message"] == (
        'pods "some-pod" is forbidden: User "%s" cannot patch resource "pods" in API group "" '
        'in the namespace "default"' % USER)
    assert answer.body["details"] == {"name": "some-pod", "kind": "pods"}
    assert api.labels("some-pod")[LABEL] == "no"


def test_token_rotation_replaces_the_accepted_tokens(api):
    assert api.request("GET", POD, token=WATCHER_TOKEN).status == 200
    api.set_tokens({"rotated": {"user": "system:serviceaccount:default:network-watcher",
                                "allow": ["get pods"]}})
    assert api.request("GET", POD, token=WATCHER_TOKEN).status == 401
    assert api.request("GET", POD, token="rotated").status == 200
    denied = patch(api, {"metadata": {"labels": {"a": "b"}}}, token="rotated")
    assert 'User "system:serviceaccount:default:network-watcher"' in denied.body["message"]


def test_client_certificate_authenticates_as_its_common_name(start_fake_apiserver, test_pki):
    server = start_fake_apiserver(client_ca=test_pki["ca"].cert,
                                  tokens={"cert:watcher": ["get pods"]})
    server.add_pod("some-pod")
    client = pki.make_cert(test_pki["dir"], "watcher", test_pki["ca"], sans=(), client=True)
    context = server.ssl_context()
    context.load_cert_chain(client.cert, client.key)
    connection = http.client.HTTPSConnection("127.0.0.1", server.api_port, context=context)
    connection.request("GET", POD)
    first = connection.getresponse()
    assert first.status == 200 and first.read()
    connection.request("PATCH", POD, body=b"{}", headers={"Content-Type": MERGE})
    answer = connection.getresponse()
    assert answer.status == 403
    assert 'User "watcher" cannot patch' in json.loads(answer.read())["message"]
    connection.close()


def test_plain_http_has_no_authentication(fake_apiserver_http):
    fake_apiserver_http.add_pod("some-pod")
    assert fake_apiserver_http.url.startswith("http://")
    assert fake_apiserver_http.request("GET", POD, token=None).status == 200
    assert "authorization" not in fake_apiserver_http.requests()[-1]["headers"]


def test_failed_tls_handshake_is_counted(api):
    with socket.create_connection(("127.0.0.1", api.api_port)) as raw:
        raw.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        raw.settimeout(5)
        try:
            while raw.recv(4096):
                pass
        except ConnectionResetError:
            pass  # the server gave up on the handshake, which is the point
    deadline = time.monotonic() + 5
    while api.state()["tls_failures"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.state()["tls_failures"] == 1


def test_connections_are_kept_alive(api):
    connection = http.client.HTTPSConnection("127.0.0.1", api.api_port,
                                             context=api.ssl_context())
    headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
    connection.request("GET", POD, headers=headers)
    first = connection.getresponse()
    assert first.getheader("Content-Length") and first.read()
    sock = connection.sock
    connection.request("GET", "/api/v1/namespaces/default/pods/nope", headers=headers)
    second = connection.getresponse()
    assert second.status == 404 and second.read()
    assert connection.sock is sock  # http.client reconnects only after a close
    connection.close()


# -- pods ----------------------------------------------------------------------

def test_get_pod_and_404_body(api):
    pod = api.request("GET", POD).body
    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    assert pod["metadata"]["labels"] == {"app": "echo"}
    assert pod["metadata"]["uid"] and pod["metadata"]["resourceVersion"].isdigit()
    missing = api.request("GET", "/api/v1/namespaces/default/pods/nope")
    assert missing.status == 404
    assert missing.body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": 'pods "nope" not found',
                            "reason": "NotFound", "details": {"name": "nope", "kind": "pods"},
                            "code": 404}
    assert patch(api, {}, path="/api/v1/namespaces/other/pods/some-pod").status == 404


def test_pod_list_has_list_kind_and_bare_items(api):
    api.add_pod("other-pod", labels={"app": "other"})
    listing = api.request("GET", "/api/v1/namespaces/default/pods").body
    assert listing["kind"] == "PodList" and listing["metadata"]["resourceVersion"]
    assert [p["metadata"]["name"] for p in listing["items"]] == ["other-pod", "some-pod"]
    assert all("kind" not in p and "apiVersion" not in p for p in listing["items"])
    selected = api.request("GET", "/api/v1/pods?labelSelector=app%3Decho").body
    assert [p["metadata"]["name"] for p in selected["items"]] == ["some-pod"]


def test_merge_patch_sets_and_null_removes_a_label(api):
    before = int(rv(api))
    answer = patch(api, {"metadata": {"labels": {LABEL: "no"}}})
    assert answer.status == 200
    assert answer.body["metadata"]["labels"] == {"app": "echo", LABEL: "no"}
    assert int(answer.body["metadata"]["resourceVersion"]) > before
    assert api.labels("some-pod") == {"app": "echo", LABEL: "no"}
    assert patch(api, {"metadata": {"labels": {LABEL: None}}}).status == 200
    assert api.labels("some-pod") == {"app": "echo"}
    patch(api, {"metadata": {"labels": {"app": None}}})
    assert "labels" not in api.pod("some-pod")["metadata"]  # omitempty, as the real server


def test_no_op_patch_keeps_the_resource_version(api):
    patch(api, {"metadata": {"labels": {LABEL: "yes"}}})
    before = rv(api)
    again = patch(api, {"metadata": {"labels": {LABEL: "yes"}}})
    assert again.status == 200 and again.body["metadata"]["resourceVersion"] == before
    assert patch(api, {"metadata": {"labels": {"absent": None}}}).status == 200
    assert rv(api) == before


def test_stale_resource_version_in_a_patch_is_409(api):
    current = rv(api)
    stale = patch(api, {"metadata": {"resourceVersion": "1", "labels": {LABEL: "no"}}})
    assert stale.status == 409
    assert stale.body["reason"] == "Conflict"
    assert stale.body["message"] == (
        'Operation cannot be fulfilled on pods "some-pod": the object has been modified; '
        "please apply your changes to the latest version and try again")
    assert stale.body["details"] == {"name": "some-pod", "kind": "pods"}
    assert rv(api) == current and LABEL not in api.labels("some-pod")
    fresh = patch(api, {"metadata": {"resourceVersion": current, "labels": {LABEL: "no"}}})
    assert fresh.status == 200 and api.labels("some-pod")[LABEL] == "no"


def test_strategic_merge_patch_changes_labels_like_merge(api):
    answer = patch(api, {"metadata": {"labels": {LABEL: "no", "app": None}}},
                   "application/strategic-merge-patch+json")
    assert answer.status == 200 and api.labels("some-pod") == {LABEL: "no"}


def test_json_patch_operations(api):
    key = "/metadata/labels/" + LABEL.replace("~", "~0").replace("/", "~1")
    ops = [{"op": "test", "path": "/metadata/labels/app", "value": "echo"},
           {"op": "add", "path": key, "value": "no"},
           {"op": "replace", "path": "/metadata/labels/app", "value": "echo2"}]
    assert patch(api, ops, "application/json-patch+json").status == 200
    assert api.labels("some-pod") == {"app": "echo2", LABEL: "no"}
    before = rv(api)
    failed = patch(api, [{"op": "test", "path": key, "value": "yes"},
                         {"op": "remove", "path": key}], "application/json-patch+json")
    assert failed.status == 422 and failed.body["reason"] == "Invalid"
    assert rv(api) == before  # all or nothing
    assert patch(api, [{"op": "remove", "path": key}], "application/json-patch+json").status == 200
    assert api.labels("some-pod") == {"app": "echo2"}
    patch(api, [{"op": "remove", "path": "/metadata/labels"}], "application/json-patch+json")
    # Adding under a missing map fails, as with evanphx/json-patch in the API server.
    missing = patch(api, [{"op": "add", "path": key, "value": "no"}], "application/json-patch+json")
    assert missing.status == 422
    assert "missing" in missing.body["details"]["causes"][0]["message"]
    assert patch(api, {"op": "add"}, "application/json-patch+json").status == 400


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/apply-patch+yaml"])
def test_patch_with_a_non_patch_content_type_is_415(api, content_type):
    answer = patch(api, {"metadata": {"labels": {LABEL: "no"}}}, content_type)
    assert answer.status == 415 and answer.body["reason"] == "UnsupportedMediaType"
    assert "application/merge-patch+json" in answer.body["message"]


def test_bad_label_value_is_422_with_causes(api):
    before = rv(api)
    answer = patch(api, {"metadata": {"labels": {LABEL: "bad value!"}}})
    assert answer.status == 422 and answer.body["reason"] == "Invalid"
    assert answer.body["message"].startswith(
        'Pod "some-pod" is invalid: metadata.labels: Invalid value: "bad value!": '
        "a valid label must be an empty string")
    details = answer.body["details"]
    assert details["name"] == "some-pod" and details["kind"] == "Pod"
    assert details["causes"] == [{"reason": "FieldValueInvalid", "field": "metadata.labels",
                                  "message": answer.body["message"].split("metadata.labels: ", 1)[1]}]
    assert rv(api) == before


@pytest.mark.parametrize("labels, bad", [
    ({"a" * 64: "x"}, "name part must be no more than 63 characters"),
    ({"Echo.Soketi.App/x": "x"}, "prefix part a lowercase RFC 1123 subdomain"),
    ({"a/b/c": "x"}, "a qualified name must consist of"),
    ({"/x": "x"}, "prefix part must be non-empty"),
    ({"x": "v" * 64}, "must be no more than 63 characters"),
    ({"x": "-v"}, "a valid label must be an empty string"),
])
def test_label_rules(api, labels, bad):
    answer = patch(api, {"metadata": {"labels": labels}})
    assert answer.status == 422 and bad in answer.body["message"]


def test_good_label_edge_cases_pass(api):
    labels = {"x": "", "a" * 63: "v" * 63, "example.com/My_Name.1": "A-b_c.9"}
    assert patch(api, {"metadata": {"labels": labels}}).status == 200


def test_non_string_label_value_is_400(api):
    answer = patch(api, {"metadata": {"labels": {LABEL: True}}})
    assert answer.status == 400 and "cannot unmarshal bool" in answer.body["message"]


def test_unknown_fields_are_dropped_with_a_warning(api):
    answer = patch(api, {"metadata": {"labels": {LABEL: "no"}, "colour": "red"}, "extra": 1})
    assert answer.status == 200
    assert sorted(answer.headers.get_all("Warning")) == [
        '299 - "unknown field \\"extra\\""', '299 - "unknown field \\"metadata.colour\\""']
    assert "colour" not in api.pod("some-pod")["metadata"]
    strict = patch(api, {"metadata": {"colour": "red"}}, query="?fieldValidation=Strict")
    assert strict.status == 400 and 'unknown field "metadata.colour"' in strict.body["message"]


def test_dry_run_does_not_store(api):
    before = rv(api)
    answer = patch(api, {"metadata": {"labels": {LABEL: "no"}}}, query="?dryRun=All")
    assert answer.status == 200 and answer.body["metadata"]["labels"][LABEL] == "no"
    assert rv(api) == before and LABEL not in api.labels("some-pod")


def test_namespaces(api):
    assert api.request("GET", "/api/v1/namespaces/default").body["kind"] == "Namespace"
    missing = api.request("GET", "/api/v1/namespaces/nope")
    assert missing.status == 404 and missing.body["message"] == 'namespaces "nope" not found'
    assert api.request("GET", "/api/v1/namespaces/default/configmaps").status == 404


# -- events --------------------------------------------------------------------

def test_posted_event_is_schema_valid_and_stored(api):
    event = watcher_event(uid=api.pod("some-pod")["metadata"]["uid"])
    assert kubernetes_validate.validate(event, "1.30", strict=True) == "1.30"
    answer = api.request("POST", EVENTS, event, token=WATCHER_TOKEN)
    assert answer.status == 201
    stored = answer.body
    assert stored["metadata"]["uid"] and stored["metadata"]["resourceVersion"]
    assert stored["metadata"]["creationTimestamp"].endswith("Z")
    assert {k: v for k, v in stored.items() if k != "metadata"} == \
        {k: v for k, v in event.items() if k != "metadata"}
    assert api.events() == [stored]
    kubernetes_validate.validate(stored, "1.30", strict=True)


def test_fake_knows_the_same_event_fields_as_the_kubernetes_schema():
    # The fake prunes fields it does not know; it must know exactly the real ones.
    def properties(name):
        return set(schema_contents("kubernetes-json-schema/v1.30.0-local-strict/%s.json" % name,
                                   "1.30")["properties"])
    assert set(kube_objects.EVENT) == properties("event-v1")
    assert set(kube_objects.OBJECT_META) == properties("objectmeta-meta-v1")
    assert set(kube_objects.OBJECT_REFERENCE) == properties("objectreference-v1")
    assert set(kube_objects.EVENT["source"]) == properties("eventsource-v1")
    assert set(kube_objects.EVENT["series"]) == properties("eventseries-v1")


def test_duplicate_event_name_is_409_already_exists(api):
    assert api.request("POST", EVENTS, watcher_event()).status == 201
    again = api.request("POST", EVENTS, watcher_event())
    assert again.status == 409 and again.body["reason"] == "AlreadyExists"
    assert again.body["message"] == 'events "some-pod.187b0d1c2f3a4e50" already exists'
    assert again.body["details"] == {"name": "some-pod.187b0d1c2f3a4e50", "kind": "events"}


def test_event_whose_object_is_in_another_namespace_is_422(api):
    event = watcher_event()
    event["involvedObject"]["namespace"] = "other"
    answer = api.request("POST", EVENTS, event)
    assert answer.status == 422
    assert answer.body["details"]["causes"] == [
        {"reason": "FieldValueInvalid", "field": "involvedObject.namespace",
         "message": 'Invalid value: "other": does not match event.namespace'}]
    assert api.events() == []


@pytest.mark.parametrize("change, code, text", [
    ({"firstTimestamp": "yesterday"}, 400, 'parsing time "yesterday"'),
    ({"count": "1"}, 400, "cannot unmarshal string into Go struct field Event.count"),
    ({"eventTime": "2026-11-25T12:00:00.123Z", "action": "Label"}, 400, 'parsing time'),
    ({"eventTime": "2026-11-25T12:00:00.123456Z"}, 422, "action: Required value"),
    ({"metadata": {"name": "Some_Pod.1"}}, 422, "metadata.name: Invalid value"),
    ({"metadata": {}}, 422, "name or generateName is required"),
    ({"metadata": {"name": "x.1", "namespace": "other"}}, 400, "does not match the namespace"),
    ({"metadata": {"name": "x.1", "resourceVersion": "5"}}, 500, "should not be set"),
])
def test_malformed_events_are_rejected(api, change, code, text):
    answer = api.request("POST", EVENTS, watcher_event(**change))
    assert answer.status == code and text in answer.body["message"], answer.body


def test_new_style_event_with_reporting_fields_is_accepted(api):
    event = watcher_event(eventTime="2026-11-25T12:00:00.123456Z", action="Label")
    kubernetes_validate.validate(event, "1.30", strict=True)
    assert api.request("POST", EVENTS, event).status == 201


def test_event_in_a_missing_namespace_is_404(api):
    answer = api.request("POST", "/api/v1/namespaces/nope/events", watcher_event(namespace="nope"))
    assert answer.status == 404 and answer.body["details"] == {"name": "nope", "kind": "namespaces"}


def test_event_list_honours_limit_and_continue(api):
    for i in range(3):
        assert api.request("POST", EVENTS, watcher_event(name="some-pod.%d" % i)).status == 201
    page = api.request("GET", EVENTS + "?limit=2").body
    assert page["kind"] == "EventList"
    assert [e["metadata"]["name"] for e in page["items"]] == ["some-pod.0", "some-pod.1"]
    assert page["metadata"]["remainingItemCount"] == 1
    assert all("kind" not in e for e in page["items"])
    rest = api.request("GET", EVENTS + "?limit=2&continue=" + page["metadata"]["continue"]).body
    assert [e["metadata"]["name"] for e in rest["items"]] == ["some-pod.2"]
    assert "continue" not in rest["metadata"]
    selected = api.request("GET", EVENTS + "?fieldSelector=metadata.name%3Dsome-pod.1").body
    assert len(selected["items"]) == 1


def test_event_with_a_non_json_content_type_is_415(api):
    answer = api.request("POST", EVENTS, b"x", content_type="text/plain")
    assert answer.status == 415


def test_event_patch_counts_like_client_go_and_bumps_the_resource_version(api):
    """client-go's recorder counts a repeated Event with a patch of count, lastTimestamp and
    message (a strategic merge patch; for these scalars a merge patch means the same)."""
    assert api.request("POST", EVENTS, watcher_event()).status == 201
    path = EVENTS + "/some-pod.187b0d1c2f3a4e50"
    before = api.events()[0]["metadata"]["resourceVersion"]
    for count, content_type in ((2, MERGE), (3, "application/strategic-merge-patch+json")):
        body = {"count": count, "lastTimestamp": "2026-11-25T12:0%d:00Z" % count, "message": "again"}
        answer = patch(api, body, content_type=content_type, path=path, token=WATCHER_TOKEN)
        assert answer.status == 200, answer.body
        kubernetes_validate.validate(answer.body, "1.30", strict=True)
        assert answer.body == api.events()[0]
    stored = api.events()[0]
    assert (stored["count"], stored["lastTimestamp"], stored["message"]) == (3, "2026-11-25T12:03:00Z", "again")
    assert stored["firstTimestamp"] == "2026-11-25T12:00:00Z"
    assert int(stored["metadata"]["resourceVersion"]) > int(before)


def test_patch_of_a_missing_event_is_404(api):
    answer = patch(api, {"count": 2}, path=EVENTS + "/some-pod.gone")
    assert answer.status == 404
    assert answer.body["details"] == {"name": "some-pod.gone", "kind": "events"}


def test_patch_of_an_event_needs_the_patch_verb(api):
    api.set_tokens({"create-only": ["create events"]})
    assert api.request("POST", EVENTS, watcher_event(), token="create-only").status == 201
    answer = patch(api, {"count": 2}, path=EVENTS + "/some-pod.187b0d1c2f3a4e50", token="create-only")
    assert answer.status == 403
    assert 'cannot patch resource "events"' in answer.body["message"]


@pytest.mark.parametrize("body, code", [({"count": "3"}, 400), ({"lastTimestamp": "yesterday"}, 400),
                                        ({"involvedObject": {"namespace": "other"}}, 422),
                                        ({"metadata": {"name": "renamed"}}, 400)])
def test_an_event_patch_that_breaks_the_event_is_refused(api, body, code):
    assert api.request("POST", EVENTS, watcher_event()).status == 201
    stored = api.events()
    answer = patch(api, body, path=EVENTS + "/some-pod.187b0d1c2f3a4e50")
    assert answer.status == code, answer.body
    assert api.events() == stored


@pytest.mark.parametrize("seconds, shown", [(-5, "<invalid>"), (59, "59s"), (119, "119s"), (150, "2m30s"),
                                            (600, "10m"), (3 * 3600 + 5, "3h"), (9 * 3600, "9h"),
                                            (50 * 3600, "2d2h"), (400 * 86400, "400d")])
def test_ages_are_printed_as_apimachinery_prints_them(seconds, shown):
    assert kube_objects.human_duration(seconds) == shown


# -- faults and the request log ---------------------------------------------------

def test_fault_status_with_retry_after_is_used_once(api):
    api.add_faults({"method": "GET", "path_regex": "/pods/some-pod$", "status": 429,
                    "retry_after": 2})
    throttled = api.request("GET", POD)
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "2"
    assert throttled.body["reason"] == "TooManyRequests"
    assert throttled.body["details"] == {"retryAfterSeconds": 2}
    assert api.request("GET", POD).status == 200
    assert api.faults() == []


def test_faults_match_method_and_are_used_in_order(api):
    api.add_faults({"method": "PATCH", "path_regex": "pods", "status": 503, "count": 2},
                   {"path_regex": "pods", "status": 500, "body": "plain text oops"})
    assert api.request("GET", POD).status == 500  # first fault is for PATCH only
    assert api.request("GET", POD).status == 200
    assert [patch(api, {}).status for _ in range(3)] == [503, 503, 200]


def test_fault_delay_then_normal_answer(api):
    api.add_faults({"path_regex": "some-pod", "delay": 0.5})
    started = time.monotonic()
    assert api.request("GET", POD).status == 200
    assert time.monotonic() - started >= 0.5


def test_fault_drop_closes_without_an_answer(api):
    api.add_faults({"path_regex": "some-pod", "drop": True})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        api.request("GET", POD)
    assert api.request("GET", POD).status == 200
    assert [r["status"] for r in api.requests("some-pod")] == ["dropped", 200]


def test_request_log_records_and_clears(api):
    patch(api, {"metadata": {"labels": {LABEL: "no"}}}, query="?fieldManager=test")
    entry = api.requests()[-1]
    assert entry["method"] == "PATCH" and entry["path"] == POD
    assert entry["query"] == {"fieldManager": "test"}
    assert entry["headers"]["content-type"] == MERGE
    assert entry["headers"]["authorization"] == "Bearer " + ADMIN_TOKEN
    assert entry["body"] == {"metadata": {"labels": {LABEL: "no"}}}
    assert entry["status"] == 200
    api.clear_requests()
    assert api.requests() == []


# -- fidelity: the real kubectl against the fake -------------------------------

DISCOVERY = {"/version", "/api", "/apis", "/api/v1"}


def api_calls(server):
    """The non-discovery requests kubectl made, as (method, path, query)."""
    return [(r["method"], r["path"], {k: v for k, v in r["query"].items() if k != "timeout"})
            for r in server.requests() if r["path"] not in DISCOVERY]


def test_kubectl_get_pod_returns_the_stored_pod(api, kubectl):
    shown = json.loads(kubectl(api, "get", "pod", "some-pod", "-o", "json").stdout)
    assert shown == api.pod("some-pod")
    assert api_calls(api) == [("GET", POD, {})]


@pytest.mark.parametrize("kube_version", ["1.30.0", "1.32.0", "1.33.0"])
def test_kubectl_label_and_unlabel_send_merge_patches(start_fake_apiserver, kubectl,
                                                     kube_version):
    api = start_fake_apiserver(kube_version=kube_version)
    api.add_pod("some-pod", labels={"app": "echo"})
    kubectl(api, "label", "pod", "some-pod", LABEL + "=no", "--overwrite")
    assert api.labels("some-pod") == {"app": "echo", LABEL: "no"}
    shown = kubectl(api, "get", "pod", "some-pod", "-o", "jsonpath={.metadata.labels}").stdout
    assert json.loads(shown) == {"app": "echo", LABEL: "no"}
    kubectl(api, "label", "pod", "some-pod", LABEL + "-")
    assert api.labels("some-pod") == {"app": "echo"}

    calls = api_calls(api)
    label_patch = ("PATCH", POD, {"fieldManager": "kubectl-label"})
    assert calls == [("GET", POD, {}), label_patch, ("GET", POD, {}),
                     ("GET", POD, {}), label_patch]
    patches = [r for r in api.requests() if r["method"] == "PATCH"]
    assert [p["headers"]["content-type"] for p in patches] == [MERGE, MERGE]
    assert [p["body"] for p in patches] == [{"metadata": {"labels": {LABEL: "no"}}},
                                            {"metadata": {"labels": {LABEL: None}}}]
    # The dispatcher ran the kubectl matching the fake's /version.
    minor = kube_version.split(".")[1]
    assert all("kubectl/v1.%s." % minor in p["headers"]["user-agent"] for p in patches)


def test_kubectl_get_events_lists_posted_events(api, kubectl):
    for name in ("some-pod.1", "some-pod.2"):
        assert api.request("POST", EVENTS, watcher_event(name=name)).status == 201
    api.clear_requests()
    shown = json.loads(kubectl(api, "get", "events", "-o", "json").stdout)
    assert [e["metadata"]["name"] for e in shown["items"]] == ["some-pod.1", "some-pod.2"]
    assert shown["items"][0]["reason"] == "OverThreshold"
    assert api_calls(api) == [("GET", EVENTS, {"limit": "500"})]


def test_kubectl_shows_the_count_of_a_patched_event(api, kubectl):
    """The server prints Events for `kubectl get` (a Table, as the API server's printEvent):
    COUNT with -o wide; `kubectl describe` shows it as "(xN over ...)"."""
    uid = api.pod("some-pod")["metadata"]["uid"]
    assert api.request("POST", EVENTS, watcher_event(uid=uid)).status == 201
    kubectl(api, "patch", "event", "some-pod.187b0d1c2f3a4e50", "--type", "merge",
            "-p", '{"count": 7, "lastTimestamp": "2026-11-25T12:10:00Z"}')
    assert api.events()[0]["count"] == 7
    wide = kubectl(api, "get", "events", "-o", "wide").stdout.splitlines()
    header = wide[0].split()
    assert header[:3] == ["LAST", "SEEN", "TYPE"] and "COUNT" in header and "NAME" in header
    row = wide[1]
    assert "OverThreshold" in row and "pod/some-pod" in row and "network-watcher, some-pod" in row
    assert row.split()[-2:] == ["7", "some-pod.187b0d1c2f3a4e50"]
    narrow = kubectl(api, "get", "events").stdout.splitlines()
    assert narrow[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    described = kubectl(api, "describe", "pod", "some-pod").stdout
    assert re.search(r"Warning\s+OverThreshold\s+\S+ \(x7 over \S+\)\s+network-watcher", described), described


def test_kubectl_sees_conflict_on_a_stale_resource_version(api, kubectl):
    result = kubectl(api, "label", "pod", "some-pod", "k=v", "--resource-version=1", check=False)
    assert result.returncode != 0
    assert "the object has been modified" in result.stderr
    patches = [r for r in api.requests() if r["method"] == "PATCH"]
    assert patches[0]["body"]["metadata"]["resourceVersion"] == "1"


def test_kubectl_reports_forbidden_and_not_found_like_a_cluster(api, kubectl):
    denied = kubectl(api, "get", "events", token=WATCHER_TOKEN, check=False)
    assert denied.returncode != 0
    assert ('Error from server (Forbidden): events is forbidden: User "%s" cannot list '
            'resource "events"' % USER) in denied.stderr
    missing = kubectl(api, "get", "pod", "nope", check=False)
    assert 'Error from server (NotFound): pods "nope" not found' in missing.stderr


@pytest.mark.parametrize("kind, content_type, body", [
    ("merge", MERGE, '{"metadata":{"labels":{"k":"v"}}}'),
    ("strategic", "application/strategic-merge-patch+json", '{"metadata":{"labels":{"k":"v"}}}'),
    ("json", "application/json-patch+json", '[{"op":"add","path":"/metadata/labels/k","value":"v"}]'),
])
def test_kubectl_patch_types_are_accepted(api, kubectl, kind, content_type, body):
    kubectl(api, "patch", "pod", "some-pod", "--type", kind, "-p", body)
    assert api.labels("some-pod") == {"app": "echo", "k": "v"}
    sent = [r for r in api.requests() if r["method"] == "PATCH"][-1]
    assert sent["headers"]["content-type"] == content_type


def test_kubectl_label_validation_matches_the_fake(api, kubectl):
    # kubectl checks label values with apimachinery before sending: same text as the fake's cause.
    refused = kubectl(api, "label", "pod", "some-pod", "k=bad value!", check=False)
    assert refused.returncode != 0
    served = patch(api, {"metadata": {"labels": {"k": "bad value!"}}})
    detail = served.body["details"]["causes"][0]["message"].split('": ', 1)[1]
    assert detail in refused.stderr


def test_kubectl_over_plain_http(fake_apiserver_http, kubectl):
    fake_apiserver_http.add_pod("some-pod")
    kubectl(fake_apiserver_http, "label", "pod", "some-pod", "k=v")
    assert fake_apiserver_http.labels("some-pod") == {"k": "v"}
