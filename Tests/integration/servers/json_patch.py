"""JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902) over parsed JSON values.

Standalone on purpose: the fake API server imports it by file name, tests may
import it as `servers.json_patch`.
"""
import copy


class PatchError(Exception):
    """A patch that cannot be applied; `bad_request` means the patch itself is malformed."""

    def __init__(self, message, bad_request=False):
        super().__init__(message)
        self.bad_request = bad_request


def merge_patch(target, patch):
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _tokens(pointer):
    # RFC 6901 section 4: "~1" before "~0", so "~01" becomes "~1", not "/".
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError("invalid JSON pointer %r" % pointer, bad_request=True)
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container, token, pointer, allow_end=False):
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError("invalid array index %r in %s" % (token, pointer))
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError("array index %d out of bounds in %s" % (index, pointer))
    return index


def _parent(doc, pointer, op):
    """The container that holds the last token of `pointer`, and that token."""
    tokens = _tokens(pointer)
    if not tokens:
        return None, None
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, pointer)]
        else:
            # Same wording as evanphx/json-patch, which the API server uses.
            raise PatchError("%s operation does not apply: doc is missing path: %s: missing value"
                             % (op, pointer))
    if not isinstance(node, (dict, list)):
        raise PatchError("%s operation does not apply: doc is missing path: %s: missing value"
                         % (op, pointer))
    return node, tokens[-1]


def _get(doc, pointer, op):
    parent, token = _parent(doc, pointer, op)
    if parent is None:
        return doc
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError("%s operation does not apply: doc is missing key: %s: missing value"
                             % (op, pointer))
        return parent[token]
    return parent[_index(parent, token, pointer)]


def _add(doc, pointer, value):
    parent, token = _parent(doc, pointer, "add")
    if parent is None:
        return value
    if isinstance(parent, dict):
        parent[token] = value
    else:
        parent.insert(_index(parent, token, pointer, allow_end=True), value)
    return doc


def _remove(doc, pointer, op="remove"):
    parent, token = _parent(doc, pointer, op)
    if parent is None:
        raise PatchError("%s operation does not apply: cannot remove the whole document" % op)
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError("%s operation does not apply: doc is missing key: %s: missing value"
                             % (op, pointer))
        return doc, parent.pop(token)
    return doc, parent.pop(_index(parent, token, pointer))


def _same(a, b):
    # Python says True == 1 == 1.0; JSON does not.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b and isinstance(a, str) == isinstance(b, str)


def json_patch(target, operations):
    """RFC 6902: apply add/remove/replace/move/copy/test in order, all or nothing."""
    if not isinstance(operations, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                         bad_request=True)
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise PatchError("invalid JSON patch operation %r" % (operation,), bad_request=True)
        op, path = operation["op"], operation.get("path")
        if not isinstance(path, str):
            raise PatchError("%s operation is missing path" % op, bad_request=True)
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError("%s operation is missing value" % op, bad_request=True)
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc, _ = _remove(doc, path)
        elif op == "replace":
            _get(doc, path, "replace")  # must exist, RFC 6902 section 4.3
            doc, _ = _remove(doc, path, "replace") if path else (doc, None)
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise PatchError("%s operation is missing from" % op, bad_request=True)
            if op == "move":
                doc, value = _remove(doc, source, "move")
            else:
                value = copy.deepcopy(_get(doc, source, "copy"))
            doc = _add(doc, path, value)
        elif op == "test":
            if not _same(_get(doc, path, "test"), operation["value"]):
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % op, bad_request=True)
    return doc
