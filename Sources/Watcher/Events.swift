import JSON

/// The pod an Event is about.
struct PodReference {
    let namespace: String
    let name: String
    let uid: String
}

/// A core/v1 Event with every field the API server and `kubectl get events` show.
func makeEvent(_ event: Transition.Event, about pod: PodReference, at time: WallClock) -> JSON {
    let timestamp = JSON.string(time.rfc3339)
    return [
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": [
            "name": .string("\(pod.name).\(time.hexNanoseconds)"),
            "namespace": .string(pod.namespace),
        ],
        "involvedObject": [
            "apiVersion": "v1",
            "kind": "Pod",
            "name": .string(pod.name),
            "namespace": .string(pod.namespace),
            "uid": .string(pod.uid),
        ],
        "reason": .string(event.reason.rawValue),
        "message": .string(event.message),
        "type": .string(event.type),
        "firstTimestamp": timestamp,
        "lastTimestamp": timestamp,
        "count": 1,
        "source": ["component": "network-watcher"],
        "reportingComponent": "network-watcher",
        "reportingInstance": .string(pod.name),
    ]
}
