import HTTPLite

/// How endpoint resolution reaches files and exec plugins; unit tests replace it.
struct EndpointIO {
    var fileExists: (String) -> Bool
    var readFile: (String) -> Result<[UInt8], HTTPError>
    var runPlugin: (ExecPlugin) -> Result<ExecCredential, KubeconfigError>

    /// Kubeconfigs and the certificates they name are small; a bigger file is a mistake.
    static let fileLimit = 4 << 20

    static func readLocal(_ path: String) -> Result<[UInt8], HTTPError> {
        Result { () throws(HTTPError) -> [UInt8] in try readLocalFile(path, limit: fileLimit) }
    }
}
