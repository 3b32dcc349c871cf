"""The fake API server's objects and the rules for changing them, behind one lock.

Stored objects are never changed in place, only replaced, so a caller may
serialize what it got after the lock is released.
"""
import base64
import copy
import json
import random
import re
import string
import threading
import uuid

import json_patch
import kube_objects as k

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")
CREATE_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


def _media_type(content_type):
    return (content_type or "").split(";")[0].strip().lower()


def _drop_empty_maps(meta):
    # The API server serializes maps with omitempty: {} is never shown.
    for key in ("labels", "annotations"):
        if key in meta and not meta[key]:
            del meta[key]


def _list_item(obj):
    item = dict(obj)
    item.pop("kind", None)
    item.pop("apiVersion", None)
    return item


class State:
    """Namespaces, pods, events, the token table, faults and the request log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.revision = 1000
        self.namespaces = {}
        self.pods = {}      # (namespace, name) -> Pod
        self.events = {}    # (namespace, name) -> Event
        self.tokens = {}    # token -> {"user": str or None, "allow": set of "verb resource"}
        self.faults = []
        self.requests = []
        self.tls_failures = 0

    def _bump(self):
        self.revision += 1
        return str(self.revision)

    # -- control ---------------------------------------------------------

    def _ensure_namespace(self, name):
        if name not in self.namespaces:
            self.namespaces[name] = {
                "kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": name, "uid": str(uuid.uuid4()),
                             "resourceVersion": self._bump(), "creationTimestamp": k.now(),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        return self.namespaces[name]

    def add_namespace(self, name):
        with self.lock:
            return self._ensure_namespace(name)

    def put_pod(self, namespace, name, labels=None, annotations=None, uid=None):
        """Create or replace a pod; a replaced pod keeps its uid unless one is given."""
        with self.lock:
            self._ensure_namespace(namespace)
            old = self.pods.get((namespace, name))
            meta = {"name": name, "namespace": namespace,
                    "uid": uid or (old["metadata"]["uid"] if old else str(uuid.uuid4())),
                    "resourceVersion": self._bump(),
                    "creationTimestamp": old["metadata"]["creationTimestamp"] if old else k.now(),
                    "labels": dict(labels or {}), "annotations": dict(annotations or {})}
            _drop_empty_maps(meta)
            pod = {"kind": "Pod", "apiVersion": "v1", "metadata": meta,
                   "spec": {"containers": [{"name": "echo-server", "image": "quay.io/soketi/soketi:1.6"},
                                           {"name": "network-watcher", "image": "network-watcher:test"}],
                            "restartPolicy": "Always", "serviceAccountName": "network-watcher",
                            "nodeName": "node-1"},
                   "status": {"phase": "Running", "podIP": "10.0.0.7",
                              "conditions": [{"type": "Ready", "status": "True"}]}}
            self.pods[(namespace, name)] = pod
            return pod

    def pod(self, namespace, name):
        with self.lock:
            return self.pods.get((namespace, name))

    def delete_pod(self, namespace, name):
        with self.lock:
            return self.pods.pop((namespace, name), None) is not None

    def set_tokens(self, table):
        """Replace the token table: token -> list of "verb resource", or {user, allow}."""
        parsed = {}
        for token, entry in table.items():
            if isinstance(entry, dict):
                parsed[token] = {"user": entry.get("user"), "allow": set(entry.get("allow", []))}
            else:
                parsed[token] = {"user": None, "allow": set(entry)}
        with self.lock:
            self.tokens = parsed

    def add_faults(self, faults):
        for fault in faults:
            re.compile(fault.get("path_regex", ""))
            if not (fault.get("status") or fault.get("delay") or fault.get("drop")):
                raise ValueError("a fault needs status, delay or drop: %r" % (fault,))
        with self.lock:
            self.faults += [dict(f, count=f.get("count", 1)) for f in faults]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def take_fault(self, method, path):
        """The first fault matching this request, used up by one (count -1 never runs out)."""
        with self.lock:
            for fault in self.faults:
                if fault.get("method", "*") not in ("*", method):
                    continue
                if not re.search(fault.get("path_regex", ""), path):
                    continue
                if fault["count"] > 0:
                    fault["count"] -= 1
                    if fault["count"] == 0:
                        self.faults.remove(fault)
                return dict(fault)
        return None

    def snapshot(self):
        with self.lock:
            return {"resourceVersion": str(self.revision),
                    "namespaces": sorted(self.namespaces),
                    "pods": [self.pods[key] for key in sorted(self.pods)],
                    "events": [self.events[key] for key in sorted(self.events)],
                    "tokens": {t: {"user": e["user"], "allow": sorted(e["allow"])}
                               for t, e in self.tokens.items()},
                    "faults": copy.deepcopy(self.faults),
                    "tls_failures": self.tls_failures}

    # -- API -------------------------------------------------------------

    def authenticate(self, token, cert_name):
        """(user or None, allowed set); user None means unknown credentials."""
        with self.lock:
            if cert_name is not None:
                entry = self.tokens.get("cert:" + cert_name, {"allow": set()})
                return cert_name, entry["allow"]
            entry = self.tokens.get(token) if token else None
            if entry is None:
                return None, set()
            return entry["user"] or "", entry["allow"]

    def get(self, resource, namespace, name):
        with self.lock:
            if resource == "namespaces":
                found = self.namespaces.get(name)
            else:
                found = getattr(self, resource).get((namespace, name))
        if found is None:
            raise k.not_found(resource, name)
        return found

    def list(self, resource, namespace, query):
        """A PodList/EventList/NamespaceList honouring selectors, limit and continue."""
        labels = k.parse_label_selector(query.get("labelSelector"))
        fields = k.parse_field_selector(query.get("fieldSelector"))
        with self.lock:
            if resource == "namespaces":
                store = {("", name): obj for name, obj in self.namespaces.items()}
            else:
                store = getattr(self, resource)
            revision = str(self.revision)
            keys = sorted(key for key in store if namespace is None or key[0] == namespace)
            matched = [(key, store[key]) for key in keys
                       if k.labels_match(labels, store[key]["metadata"].get("labels"))
                       and k.fields_match(fields, store[key])]
        if query.get("continue"):
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(query["continue"])))
            except ValueError:
                raise k.bad_request("continue key is not valid") from None
            matched = [(key, obj) for key, obj in matched if key > after]
        meta = {"resourceVersion": revision}
        limit = query.get("limit")
        if limit and limit.isdigit() and 0 < int(limit) < len(matched):
            rest = len(matched) - int(limit)
            matched = matched[:int(limit)]
            last = json.dumps(list(matched[-1][0])).encode()
            meta["continue"] = base64.urlsafe_b64encode(last).decode()
            meta["remainingItemCount"] = rest
        kind = {"pods": "PodList", "events": "EventList", "namespaces": "NamespaceList"}[resource]
        return {"kind": kind, "apiVersion": "v1", "metadata": meta,
                "items": [_list_item(obj) for _, obj in matched]}

    def patch_pod(self, namespace, name, content_type, raw, query):
        """Apply a patch; returns (pod, warnings). No-op patches keep resourceVersion."""
        def check(patched):
            warnings = k.check_fields(patched, k.POD, "Pod", query.get("fieldValidation") == "Strict")
            return warnings, k.label_errors(patched["metadata"].get("labels"))
        return self._patch("pods", "Pod", namespace, name, content_type, raw, query, check)

    def patch_event(self, namespace, name, content_type, raw, query):
        """Apply a patch to an Event (client-go's recorder counts repeats so); returns
        (event, warnings). The result is validated as an update of a core/v1 Event
        (ValidateEventUpdate: the create rules again, for the v1 API nothing more)."""
        def check(patched):
            warnings = k.check_fields(patched, k.EVENT, "Event", query.get("fieldValidation") == "Strict")
            k.normalize_times(patched, k.EVENT)
            return warnings, k.event_errors(patched, namespace)
        return self._patch("events", "Event", namespace, name, content_type, raw, query, check)

    def _patch(self, resource, kind, namespace, name, content_type, raw, query, check):
        """Patch a stored object: (object, warnings). `check(patched)` gives (warnings,
        field errors). No-op patches keep resourceVersion; a missing object is 404."""
        media = _media_type(content_type)
        if media not in PATCH_TYPES:
            raise k.unsupported_media_type(PATCH_TYPES)
        try:
            patch = json.loads(raw or b"null")
        except ValueError as e:
            raise k.bad_request("error decoding patch: %s" % e) from None
        store = getattr(self, resource)
        with self.lock:
            current = store.get((namespace, name))
            if current is None:
                raise k.not_found(resource, name)
            if media == "application/json-patch+json":
                try:
                    patched = json_patch.json_patch(current, patch)
                except json_patch.PatchError as e:
                    raise (k.bad_request(str(e)) if e.bad_request else k.patch_failed(str(e))) from None
            elif isinstance(patch, dict):
                # Strategic merge equals JSON merge for what the fake stores: maps
                # (metadata.labels, annotations) and an Event's scalars (count,
                # lastTimestamp, message); lists in a pod's spec are not merged by key.
                patched = json_patch.merge_patch(current, patch)
            else:
                raise k.bad_request("json: cannot unmarshal %s into Go value of type "
                                    "map[string]interface {}" % type(patch).__name__)
            if not isinstance(patched, dict):
                raise k.bad_request("the patch did not produce an object")
            meta = patched.get("metadata") or {}
            patched["metadata"] = meta
            warnings, errors = check(patched)
            _drop_empty_maps(meta)
            old = current["metadata"]
            if meta.get("name") != name:
                raise k.bad_request("the name of the object (%s) does not match the name on "
                                    "the URL (%s)" % (meta.get("name"), name))
            if meta.get("namespace") != namespace:
                raise k.bad_request("the namespace of the provided object does not match the "
                                    "namespace sent on the request")
            for field in ("uid", "creationTimestamp"):
                if meta.get(field) != old.get(field):
                    errors.append(k.FieldError("Invalid", "metadata." + field,
                                               "field is immutable", meta.get(field)))
            if errors:
                raise k.invalid(kind, name, errors)
            # A resourceVersion left in the patched object is a precondition.
            if meta.get("resourceVersion") and meta["resourceVersion"] != old["resourceVersion"]:
                raise k.conflict(resource, name)
            meta["resourceVersion"] = old["resourceVersion"]
            patched["kind"], patched["apiVersion"] = kind, "v1"
            if patched == current:
                return current, warnings
            if query.get("dryRun") != "All":
                meta["resourceVersion"] = self._bump()
                store[(namespace, name)] = patched
            return patched, warnings

    def create_event(self, namespace, content_type, raw, query):
        """Store a posted Event; returns (event, warnings)."""
        media = _media_type(content_type) or "application/json"
        if media not in CREATE_TYPES:
            raise k.unsupported_media_type(CREATE_TYPES)
        if media != "application/json":
            raise k.bad_request("the fake API server only decodes application/json")
        try:
            event = json.loads(raw)
        except ValueError as e:
            raise k.bad_request("couldn't get version/kind; json parse error: %s" % e) from None
        if not isinstance(event, dict):
            raise k.bad_request("couldn't get version/kind; json parse error: not an object")
        if event.get("apiVersion", "v1") != "v1" or event.get("kind", "Event") != "Event":
            raise k.bad_request("the API version in the data (%s) does not match the expected "
                                "API version (v1) or kind %s is not Event"
                                % (event.get("apiVersion"), event.get("kind")))
        warnings = k.check_fields(event, k.EVENT, "Event",
                                  query.get("fieldValidation") == "Strict")
        meta = event.setdefault("metadata", {}) or {}
        event["metadata"] = meta
        if meta.get("namespace", namespace) not in (namespace, ""):
            raise k.bad_request("the namespace of the provided object does not match the "
                                "namespace sent on the request")
        meta["namespace"] = namespace
        if meta.get("resourceVersion"):
            raise k.internal_error("resourceVersion should not be set on objects to be created")
        with self.lock:
            if namespace not in self.namespaces:
                raise k.not_found("namespaces", namespace)
            if not meta.get("name") and meta.get("generateName"):
                suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
                meta["name"] = meta["generateName"] + suffix
            name = meta.get("name") or ""
            errors = k.event_errors(event, namespace)
            if errors:
                raise k.invalid("Event", name, errors)
            if (namespace, name) in self.events:
                raise k.already_exists("events", name)
            k.normalize_times(event, k.EVENT)
            _drop_empty_maps(meta)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=k.now())
            event["kind"], event["apiVersion"] = "Event", "v1"
            if query.get("dryRun") != "All":
                meta["resourceVersion"] = self._bump()
                self.events[(namespace, name)] = event
            return event, warnings

    def clear_events(self):
        with self.lock:
            self.events = {}

