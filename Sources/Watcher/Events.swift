import JSON

/// The pod an Event is about.
struct PodReference {
    let namespace: String
    let name: String
    let uid: String
}

/// The component name in `source.component` and `reportingComponent` (core/v1's JSON name
/// of client-go's `ReportingController`): a qualified name, as the API server requires of
/// events.k8s.io Events and client-go sets from the source.
let eventComponent = "network-watcher"

/// One Event object's variable fields, as created or as a count update makes it.
struct EventRecord: Equatable {
    let name: String
    let reason: Transition.Event.Reason
    let message: String
    let count: Int
    let firstTimestamp: WallClock
    let lastTimestamp: WallClock

    /// A new object for one occurrence at `time`, named `<pod>.<hex nanoseconds>` as
    /// client-go's recorder names it.
    init(new event: Transition.Event, message: String? = nil, about pod: PodReference, at time: WallClock) {
        self.init(name: "\(pod.name).\(time.hexNanoseconds)", reason: event.reason, message: message ?? event.message,
                  count: 1, firstTimestamp: time, lastTimestamp: time)
    }

    init(name: String, reason: Transition.Event.Reason, message: String, count: Int, firstTimestamp: WallClock,
         lastTimestamp: WallClock) {
        self.name = name
        self.reason = reason
        self.message = message
        self.count = count
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
    }

    var type: String { Transition.Event(reason: reason, message: message).type }
}

/// A core/v1 Event with every field the API server and `kubectl get events` show.
func makeEvent(_ record: EventRecord, about pod: PodReference) -> JSON {
    [
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": [
            "name": .string(record.name),
            "namespace": .string(pod.namespace),
        ],
        "involvedObject": [
            "apiVersion": "v1",
            "kind": "Pod",
            "name": .string(pod.name),
            "namespace": .string(pod.namespace),
            "uid": .string(pod.uid),
        ],
        "reason": .string(record.reason.rawValue),
        "message": .string(record.message),
        "type": .string(record.type),
        "firstTimestamp": .string(record.firstTimestamp.rfc3339),
        "lastTimestamp": .string(record.lastTimestamp.rfc3339),
        "count": .number(Double(record.count)),
        "source": ["component": .string(eventComponent)],
        "reportingComponent": .string(eventComponent),
        "reportingInstance": .string(pod.name),
    ]
}

/// The body of the PATCH that counts one more occurrence of an Event: the fields client-go's
/// strategic merge patch holds (`count`, `lastTimestamp`, `message`), all scalars, for which a
/// JSON merge patch (RFC 7386) means the same.
func makeEventPatch(_ record: EventRecord) -> JSON {
    ["count": .number(Double(record.count)), "lastTimestamp": .string(record.lastTimestamp.rfc3339),
     "message": .string(record.message)]
}
