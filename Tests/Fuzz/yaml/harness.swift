// libFuzzer target: the YAML reader, kubeconfig resolution and the
// ExecCredential an exec plugin prints, compiled into Watcher without
// main.swift (scripts/fuzz.sh). The input is the kubeconfig file; every other
// file it names holds a PEM block, and its exec plugin prints a token.
// Property: a document read, written back as block YAML with double-quoted
// strings, reads back equal; beyond that, traps, memory faults and hangs.

import HTTPLite
import JSON

private let configPath = "/fuzz/kube/config"
private let pem = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKubeconfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? YAML.parse(bytes) {
        var text = ""
        writeYAML(value, indent: 0, into: &text)
        let again = Result { () throws(YAMLError) in try YAML.parse(Array(text.utf8)) }
        guard case .success(let same) = again, same == value else {
            fatalError("\(value) written as \(text.debugDescription) reads back as \(again)")
        }
    }
    _ = try? ExecCredential.parse(bytes, apiVersion: "client.authentication.k8s.io/v1")
    // An exec plugin's expiry time and stderr, and a PEM file, are outside bytes too.
    let text = String(decoding: bytes, as: UTF8.self)
    _ = parseRFC3339(text)
    _ = ExecPlugin.oneLine(text)
    _ = holdsPEM(bytes)
    let io = EndpointIO(
        fileExists: { _ in true },
        readFile: { path in .success(path == configPath ? bytes : pem) },
        runPlugin: { _ in .success(ExecCredential(token: "t", certificate: nil, key: nil, expiry: nil)) })
    let builder = KubeconfigEndpointBuilder(io: io)
    if let endpoint = try? builder.endpoint(mode: "kubeconfig", files: [configPath], contextName: nil, source: "fuzz") {
        guard endpoint.baseURL.target == "/" else {
            fatalError("the server URL \(endpoint.baseURL) has a path")
        }
    }
    return 0
}

/// Writes `value` the way kubectl's YAML looks, except that every string is double-quoted.
private func writeYAML(_ value: JSON, indent: Int, into text: inout String) {
    let pad = String(repeating: " ", count: indent)
    switch value {
    case .array(let items) where !items.isEmpty:
        for item in items {
            text += pad + "-"
            writeNested(item, indent: indent + 2, into: &text)
        }
    case .object(let members) where !members.isEmpty:
        for (key, item) in members.pairs {
            text += pad + quoted(key) + ":"
            writeNested(item, indent: indent + 2, into: &text)
        }
    default:
        text += pad + scalar(value) + "\n"
    }
}

/// A value after `-` or `key:`: on the same line when it is a scalar, else on the lines below.
private func writeNested(_ value: JSON, indent: Int, into text: inout String) {
    switch value {
    case .array(let items) where !items.isEmpty:
        text += "\n"
        writeYAML(value, indent: indent, into: &text)
    case .object(let members) where !members.isEmpty:
        text += "\n"
        writeYAML(value, indent: indent, into: &text)
    default:
        text += " " + scalar(value) + "\n"
    }
}

private func scalar(_ value: JSON) -> String {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .string(let string): return quoted(string)
    case .array: return "[]"
    case .object: return "{}"
    case .number(let number): return quoted("\(number)")
    }
}

private func quoted(_ string: String) -> String {
    var out = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16)
            out += "\\x" + (hex.count < 2 ? "0" : "") + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
