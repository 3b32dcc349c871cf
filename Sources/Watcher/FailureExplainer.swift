/// Says in a log line what a failed API request means for the user, and what to do about it.
struct FailureExplainer {
    let namespace: String
    let podName: String
    /// Where the CA that verifies the API server comes from, in the user's words.
    let certificateAuthority: String

    /// A pod not found at start is most often a POD_NAME typed in by hand (or left at its default).
    static let missingPodHint = "set POD_NAME and POD_NAMESPACE from the downward API "
        + "(env valueFrom.fieldRef.fieldPath: metadata.name and metadata.namespace) so that they name this pod"

    func message(_ failure: APIFailure, verb: String, resource: String) -> String {
        if failure.rejectsCertificate {
            return "the API server's certificate did not verify against the CA from \(certificateAuthority)"
        }
        switch failure.status {
        case 401: return "the API server rejected the token (401 Unauthorized)"
        case 403: return "forbidden: the pod's Role must grant \"\(verb)\" on \"\(resource)\" in namespace \(namespace)"
        case 404: return "pod \(namespace)/\(podName) not found"
        default: return "the API server refused to \(verb) \(resource)"
        }
    }

    /// What the user can do, when the failure tells.
    func hint(_ failure: APIFailure, verb: String) -> String? {
        failure.status == 404 && verb == "get" ? Self.missingPodHint : nil
    }
}
