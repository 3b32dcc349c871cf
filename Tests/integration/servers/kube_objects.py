"""What the Kubernetes API server says and checks, copied from its sources.

Status bodies, field validation (labels, names, Events), timestamp parsing,
unknown-field pruning and selectors. Messages follow apimachinery's wording
so that a client's log of an error reads as it would against a cluster.
"""
import datetime
import json
import re


class ApiError(Exception):
    """An error answer: `status` is the Status body, `headers` extra response headers."""

    def __init__(self, status, headers=None):
        super().__init__(status["message"])
        self.status = status
        self.headers = headers or {}


REASONS = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    410: ("Expired", "the resource version is too old"),
    413: ("RequestEntityTooLarge", "the request is too large"),
    415: ("UnsupportedMediaType", "the server does not support the media type"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "an error on the server (\"\") has prevented the request from succeeding"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted"),
}


def status(code, reason=None, message=None, details=None):
    """A v1 Status body for an error `code`; reason and message default per code."""
    default_reason, default_message = REASONS.get(
        code, ("Unknown", "the server responded with the status code %d" % code))
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message if message is not None else default_message,
            "reason": reason or default_reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def unauthorized():
    return ApiError(status(401))


def forbidden(user, verb, resource, namespace, name=None):
    # apiserver's forbiddenMessage + NewForbidden: `<resource> "<name>" is forbidden: <reason>`.
    scope = ('in the namespace "%s"' % namespace) if namespace else "at the cluster scope"
    reason = 'User "%s" cannot %s resource "%s" in API group "" %s' % (user, verb, resource, scope)
    subject = '%s "%s"' % (resource, name) if name else resource
    details = {"name": name, "kind": resource} if name else {"kind": resource}
    return ApiError(status(403, message="%s is forbidden: %s" % (subject, reason), details=details))


def not_found(resource, name):
    return ApiError(status(404, message='%s "%s" not found' % (resource, name),
                           details={"name": name, "kind": resource}))


def no_such_path():
    return ApiError(status(404, details={}))


def method_not_allowed():
    return ApiError(status(405, details={}))


def already_exists(resource, name):
    return ApiError(status(409, reason="AlreadyExists",
                           message='%s "%s" already exists' % (resource, name),
                           details={"name": name, "kind": resource}))


def conflict(resource, name):
    message = ('Operation cannot be fulfilled on %s "%s": the object has been modified; '
               "please apply your changes to the latest version and try again" % (resource, name))
    return ApiError(status(409, message=message, details={"name": name, "kind": resource}))


def bad_request(message):
    return ApiError(status(400, message=message))


def internal_error(cause):
    return ApiError(status(500, message="Internal error occurred: " + cause,
                           details={"causes": [{"message": cause}]}))


def patch_failed(message):
    # apiserver wraps json-patch failures in NewGenericServerResponse(422, ...).
    return ApiError(status(422, details={"causes": [
        {"reason": "UnexpectedServerResponse", "message": message}]}))


def unsupported_media_type(accepted):
    message = ("the body of the request was in an unknown format - accepted media types "
               "include: " + ", ".join(accepted))
    return ApiError(status(415, message=message))


class FieldError:
    """One entry of a field.ErrorList: `kind` is Invalid, Required or Forbidden."""

    TYPES = {"Invalid": "FieldValueInvalid", "Required": "FieldValueRequired",
             "Forbidden": "FieldValueForbidden"}

    def __init__(self, kind, field, detail, value=None):
        self.kind, self.field, self.detail, self.value = kind, field, detail, value

    def body(self):
        if self.kind == "Invalid":
            # Go formats the value with %q for strings, %v otherwise.
            shown = json.dumps(self.value) if isinstance(self.value, str) else str(self.value)
            text = "Invalid value: %s" % shown
        elif self.kind == "Required":
            text = "Required value"
        else:
            text = "Forbidden"
        return text + (": " + self.detail if self.detail else "")


def invalid(kind, resource_name, errors):
    """422 Invalid for `errors` (a list of FieldError), worded like NewInvalid."""
    texts = ["%s: %s" % (e.field, e.body()) for e in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [{"reason": FieldError.TYPES[e.kind], "message": e.body(), "field": e.field}
              for e in errors]
    return ApiError(status(422, message='%s "%s" is invalid: %s' % (kind, resource_name, joined),
                           details={"name": resource_name, "kind": kind, "causes": causes}))


# apimachinery/pkg/util/validation/validation.go
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must "
                      "start and end with an alphanumeric character")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric "
                   "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                   "character")
DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case "
                         "alphanumeric characters, '-' or '.', and must start and end with an "
                         "alphanumeric character")


def _regex_error(message, fmt, *examples):
    # The doubled space in ",  or" is apimachinery's own.
    return "%s (e.g. %sregex used for validation is '%s')" % (
        message, " or ".join("'%s', " % e for e in examples), fmt)


def _matches(fmt, value):
    return re.fullmatch(fmt, value) is not None


def dns1123_subdomain_errors(value):
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not _matches(DNS1123_SUBDOMAIN_FMT, value):
        errors.append(_regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def qualified_name_errors(value):
    """IsQualifiedName: optional DNS-subdomain prefix and '/', then a name of <= 63 chars."""
    parts = value.split("/")
    errors = []
    if len(parts) > 2:
        return ["a qualified name " + _regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT,
                                                   "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors += ["prefix part " + m for m in dns1123_subdomain_errors(parts[0])]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if not _matches(QUALIFIED_NAME_FMT, name):
        errors.append("name part " + _regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT,
                                                  "MyName", "my.name", "123-abc"))
    return errors


def label_value_errors(value):
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _matches(LABEL_VALUE_FMT, value):
        errors.append(_regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def label_errors(labels, field="metadata.labels"):
    """ValidateLabels: one FieldError per bad key or value, all on `field`."""
    errors = []
    for key, value in (labels or {}).items():
        errors += [FieldError("Invalid", field, m, key) for m in qualified_name_errors(key)]
        errors += [FieldError("Invalid", field, m, value) for m in label_value_errors(value)]
    return errors


_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_MICRO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})")


def parse_time(text, micro=False):
    """metav1.Time (RFC 3339, fraction optional) or MicroTime (exactly six digits) to UTC.

    Raises ValueError worded like Go's time.Parse.
    """
    layout = "2006-01-02T15:04:05.000000Z07:00" if micro else "2006-01-02T15:04:05Z07:00"
    match = _TIME.fullmatch(text)
    if not match or (micro and not _MICRO.fullmatch(text)):
        raise ValueError('parsing time "%s" as "%s": cannot parse "%s" as "%s"'
                         % (text, layout, text, layout))
    iso = text.replace("Z", "+00:00")
    fraction = match.group(7) or ""
    # fromisoformat in 3.11 wants 3 or 6 fractional digits; Go takes any number.
    iso = iso.replace(fraction, (fraction + "000000")[:7] if fraction else "")
    try:
        return datetime.datetime.fromisoformat(iso).astimezone(datetime.timezone.utc)
    except ValueError as e:
        raise ValueError('parsing time "%s": %s' % (text, e)) from None


def format_time(moment, micro=False):
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now(micro=False):
    return format_time(datetime.datetime.now(datetime.timezone.utc), micro)


# Known fields, for pruning and type checks: a dict is an object, a string a leaf type.
OBJECT_META = {
    "name": "string", "generateName": "string", "namespace": "string", "selfLink": "string",
    "uid": "string", "resourceVersion": "string", "generation": "int64",
    "creationTimestamp": "time", "deletionTimestamp": "time",
    "deletionGracePeriodSeconds": "int64", "labels": "map", "annotations": "map",
    "ownerReferences": "any", "finalizers": "any", "managedFields": "any",
}
OBJECT_REFERENCE = {
    "kind": "string", "namespace": "string", "name": "string", "uid": "string",
    "apiVersion": "string", "resourceVersion": "string", "fieldPath": "string",
}
EVENT = {
    "kind": "string", "apiVersion": "string", "metadata": OBJECT_META,
    "involvedObject": OBJECT_REFERENCE, "reason": "string", "message": "string",
    "source": {"component": "string", "host": "string"},
    "firstTimestamp": "time", "lastTimestamp": "time", "count": "int32", "type": "string",
    "eventTime": "microtime", "series": {"count": "int32", "lastObservedTime": "microtime"},
    "action": "string", "related": OBJECT_REFERENCE, "reportingComponent": "string",
    "reportingInstance": "string",
}
# Only the top and metadata are checked for pods; spec and status pass through.
POD = {"kind": "string", "apiVersion": "string", "metadata": OBJECT_META,
       "spec": "any", "status": "any"}

_GO_TYPES = {"string": "string", "int32": "int32", "int64": "int64", "time": "string",
             "microtime": "string", "map": "map[string]string"}


def _json_type(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "null")


def check_fields(obj, schema, kind, strict=False):
    """Drop unknown fields from `obj` in place and check leaf types.

    Returns the warnings (`unknown field "a.b"`); raises ApiError 400 for a
    type mismatch, a bad timestamp, or (with strict) any unknown field.
    """
    unknown = []

    def fail(text):
        raise bad_request('%s in version "v1" cannot be handled as a %s: %s' % (kind, kind, text))

    def walk(node, spec, path):
        if not isinstance(node, dict):
            if node is not None:
                fail("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                     % (_json_type(node), kind, path or kind, "object"))
            return
        for key in list(node):
            where = path + "." + key if path else key
            if key not in spec:
                unknown.append(where)
                del node[key]
                continue
            leaf, value = spec[key], node[key]
            if isinstance(leaf, dict):
                walk(value, leaf, where)
            elif value is None or leaf == "any":
                continue
            elif leaf in ("int32", "int64"):
                if isinstance(value, bool) or not isinstance(value, int):
                    fail("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                         % (_json_type(value), kind, where, leaf))
            elif leaf == "map":
                if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                    bad = value if not isinstance(value, dict) else next(
                        v for v in value.values() if not isinstance(v, str))
                    fail("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                         % (_json_type(bad), kind, where,
                            "string" if isinstance(value, dict) else _GO_TYPES[leaf]))
            elif not isinstance(value, str):
                fail("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                     % (_json_type(value), kind, where, _GO_TYPES[leaf]))
            elif leaf in ("time", "microtime"):
                try:
                    parse_time(value, micro=leaf == "microtime")
                except ValueError as e:
                    fail(str(e))

    walk(obj, schema, "")
    if unknown and strict:
        raise bad_request("strict decoding error: " +
                          ", ".join('unknown field "%s"' % u for u in unknown))
    return ['unknown field "%s"' % u for u in unknown]


def normalize_times(obj, schema):
    """Rewrite timestamps the way the server stores them (UTC, seconds or microseconds)."""
    for key, leaf in schema.items():
        value = obj.get(key) if isinstance(obj, dict) else None
        if isinstance(leaf, dict):
            normalize_times(value, leaf)
        elif leaf in ("time", "microtime") and isinstance(value, str):
            obj[key] = format_time(parse_time(value, leaf == "microtime"), leaf == "microtime")


def event_errors(event, namespace):
    """legacyValidateEvent + ValidateObjectMeta for a core/v1 Event being created."""
    errors = []
    meta = event.get("metadata") or {}
    name = meta.get("name") or ""
    if not name and not meta.get("generateName"):
        errors.append(FieldError("Required", "metadata.name",
                                 "name or generateName is required"))
    for message in dns1123_subdomain_errors(name) if name else []:
        errors.append(FieldError("Invalid", "metadata.name", message, name))
    errors += label_errors(meta.get("labels"))
    involved = event.get("involvedObject") or {}
    involved_ns = involved.get("namespace") or ""
    if not event.get("eventTime"):
        if involved_ns and involved_ns != namespace or (
                not involved_ns and namespace not in ("", "default")):
            errors.append(FieldError("Invalid", "involvedObject.namespace",
                                     "does not match event.namespace", involved_ns))
        return errors
    # An Event with eventTime is a "new" Event and needs the reporting fields.
    if not involved_ns and namespace not in ("default", "kube-system"):
        errors.append(FieldError("Invalid", "involvedObject.namespace",
                                 "does not match event.namespace", involved_ns))
    component = event.get("reportingComponent") or ""
    if not component:
        errors.append(FieldError("Required", "reportingComponent", ""))
    errors += [FieldError("Invalid", "reportingComponent", m, component)
               for m in qualified_name_errors(component)]
    for field, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
        value = event.get(field) or ""
        if not value:
            errors.append(FieldError("Required", field, ""))
        if len(value) > limit:
            errors.append(FieldError("Invalid", field, "can have at most %d characters" % limit, ""))
    if event.get("type") not in ("Normal", "Warning"):
        errors.append(FieldError("Invalid", "type",
                                 "has invalid value: %s" % (event.get("type") or ""), ""))
    if len(event.get("message") or "") > 1024:
        errors.append(FieldError("Invalid", "message", "can have at most 1024 characters", ""))
    return errors


def parse_label_selector(text):
    """`a=b,c!=d,e,!f,g in (x,y),h notin (z)` to a list of (key, op, values)."""
    requirements = []
    for part in re.split(r",(?![^(]*\))", text or ""):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if match:
            values = {v.strip() for v in match.group(3).split(",")}
            requirements.append((match.group(1), match.group(2), values))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            requirements.append((key.strip(), "notin", {value.strip()}))
        elif "=" in part:
            key, value = re.split(r"==?", part, maxsplit=1)
            requirements.append((key.strip(), "in", {value.strip()}))
        elif part.startswith("!"):
            requirements.append((part[1:].strip(), "absent", set()))
        elif re.fullmatch(r"[^\s()]+", part):
            requirements.append((part, "exists", set()))
        else:
            raise bad_request("unable to parse requirement: %s" % part)
    return requirements


def labels_match(requirements, labels):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        if op == "in" and not (present and labels[key] in values):
            return False
        if op == "notin" and present and labels[key] in values:
            return False
        if op == "exists" and not present or op == "absent" and present:
            return False
    return True


def parse_field_selector(text):
    """`involvedObject.name=P,type!=Normal` to a list of (dotted path, equal?, value)."""
    terms = []
    for part in (text or "").split(","):
        if not part:
            continue
        match = re.fullmatch(r"([^=!]+)(==|=|!=)(.*)", part)
        if not match:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
        terms.append((match.group(1), match.group(2) != "!=", match.group(3)))
    return terms


def fields_match(terms, obj):
    for path, equal, value in terms:
        node = obj
        for step in path.split("."):
            node = node.get(step) if isinstance(node, dict) else None
        actual = "" if node is None else str(node)
        if (actual == value) != equal:
            return False
    return True


# -- server-side printing (kubectl get asks for a Table) -------------------------

def wants_table(accept):
    """Whether an Accept header asks for meta.k8s.io's Table (kubectl get does)."""
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in (accept or "").split(","))


def human_duration(seconds):
    """apimachinery's duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    seconds = int(seconds)
    if seconds < 120:
        return "%ds" % seconds
    minutes = seconds // 60
    if minutes < 10:
        return "%dm" % minutes if seconds % 60 == 0 else "%dm%ds" % (minutes, seconds % 60)
    if minutes < 180:
        return "%dm" % minutes
    hours = minutes // 60
    if hours < 8:
        return "%dh" % hours if minutes % 60 == 0 else "%dh%dm" % (hours, minutes % 60)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd" % (hours // 24) if hours % 24 == 0 else "%dd%dh" % (hours // 24, hours % 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    years, days = hours // (24 * 365), (hours // 24) % 365
    if hours < 24 * 365 * 8:
        return "%dy" % years if days == 0 else "%dy%dd" % (years, days)
    return "%dy" % years


def _since(stamp, micro=False):
    if not stamp:
        return "<unknown>"
    moment = parse_time(stamp, micro)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - moment).total_seconds())


# pkg/printers/internalversion/printers.go, eventColumnDefinitions: the server prints
# every column, kubectl shows those of priority 1 only with -o wide.
EVENT_COLUMNS = [("Last Seen", 0, ""), ("Type", 0, ""), ("Reason", 0, ""), ("Object", 0, ""),
                 ("Subobject", 1, ""), ("Source", 1, ""), ("Message", 0, ""),
                 ("First Seen", 1, ""), ("Count", 1, ""), ("Name", 1, "name")]


def event_row(event):
    """printEvent with Wide set, as the API server's table convertor calls it."""
    first = _since(event.get("firstTimestamp"))
    if not event.get("firstTimestamp"):
        first = _since(event.get("eventTime"), micro=True)
    last = _since(event.get("lastTimestamp")) if event.get("lastTimestamp") else first
    count = event.get("count") or 0
    series = event.get("series")
    if series:
        last, count = _since(series.get("lastObservedTime"), micro=True), series.get("count", 0)
    elif count == 0:
        count = 1  # singleton Events of the new API have no count
    involved = event.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = "%s/%s" % (kind, involved["name"]) if involved.get("name") else kind
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [last, event.get("type", ""), event.get("reason", ""), target,
            involved.get("fieldPath", ""), component + (", " + instance if instance else ""),
            (event.get("message") or "").strip(), first, count, event["metadata"]["name"]]


def event_table(event_list, include_object=None):
    """An EventList as the meta.k8s.io/v1 Table kubectl get prints."""
    rows = []
    for item in event_list["items"]:
        row = {"cells": event_row(item)}
        if include_object != "None":
            meta = item["metadata"]
            row["object"] = item if include_object == "Object" else {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": event_list["metadata"],
            "columnDefinitions": [{"name": name, "type": "string", "format": fmt,
                                   "description": "", "priority": priority}
                                  for name, priority, fmt in EVENT_COLUMNS],
            "rows": rows}
