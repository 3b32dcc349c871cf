// libFuzzer target: the YAML reader, kubeconfig resolution and the
// ExecCredential an exec plugin prints, compiled into Watcher without
// main.swift (scripts/fuzz.sh). The input is the kubeconfig file; every other
// file it names holds a PEM block, and its exec plugin prints a token.
// Trapping, memory faults and hangs are the failures looked for.

import HTTPLite

private let configPath = "/fuzz/kube/config"
private let pem = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKubeconfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? YAML.parse(bytes)
    _ = try? ExecCredential.parse(bytes, apiVersion: "client.authentication.k8s.io/v1")
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
