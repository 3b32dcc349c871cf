import HTTPLite

// Kubernetes' rules for names and label keys, so bad settings stop the
// program at start instead of as a 422 from the API server later.

private func isLowerAlphanumeric(_ c: UInt8) -> Bool {
    (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}

private func isAlphanumeric(_ c: UInt8) -> Bool {
    isLowerAlphanumeric(c) || (c >= 65 && c <= 90)
}

/// A numeric IPv4 or IPv6 address, for a listening address (no name is resolved).
func isNumericAddress(_ text: String) -> Bool {
    HTTPURL.isIPAddress(text)
}

/// RFC 1123 label: at most 63 of `[a-z0-9-]`, alphanumeric at both ends (namespaces).
func isDNSLabel(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
    return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
        && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
}

/// RFC 1123 subdomain: at most 253, dot-separated labels (pod names, label prefixes).
func isDNSSubdomain(_ text: String) -> Bool {
    text.utf8.count <= 253 && !text.isEmpty
        && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
}

/// A label name or value: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
func isLabelName(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
    return isAlphanumeric(first) && isAlphanumeric(last)
        && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
}

/// `[prefix/]name` where the prefix is a DNS subdomain.
func isLabelKey(_ text: String) -> Bool {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    switch parts.count {
    case 1: return isLabelName(String(parts[0]))
    case 2: return isDNSSubdomain(String(parts[0])) && isLabelName(String(parts[1]))
    default: return false
    }
}
