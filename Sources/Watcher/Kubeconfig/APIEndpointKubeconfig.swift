/// The kubeconfig connections: `KUBE_CONNECTION=kubeconfig`, `=environment`, and
/// the fallback outside a pod when no `KUBE_CONNECTION` is given. These choose the
/// files from the settings; `KubeconfigEndpointBuilder` reads them.
extension APIEndpoint {
    /// The one file at KUBECONFIG_PATH (default ~/.kube/config).
    static func kubeconfigPath(value: (String) -> String?, io: EndpointIO, how: String) -> Result<APIEndpoint, SettingErrors> {
        let home = value("HOME")
        guard var path = value("KUBECONFIG_PATH") ?? home.map({ $0 + "/.kube/config" }) else {
            return settingFailure("KUBECONFIG_PATH", "", "KUBE_CONNECTION=kubeconfig needs the kubeconfig file here, or HOME to find ~/.kube/config")
        }
        if path.hasPrefix("~/"), let home { path = home + String(path.dropFirst()) }
        guard io.fileExists(path) else {
            return settingFailure("KUBECONFIG_PATH", path, "cannot read \(path) (missing or not readable)")
        }
        return kubeconfig(mode: "kubeconfig", files: [path], value: value, io: io, setting: "KUBECONFIG_PATH",
                          given: path, source: "\(how) \(path)")
    }

    /// The files KUBECONFIG lists, merged as kubectl merges them. Missing files are
    /// skipped, as kubectl skips them, but at least one must be there.
    static func kubeconfigList(value: (String) -> String?, io: EndpointIO, how: String) -> Result<APIEndpoint, SettingErrors> {
        guard let list = value("KUBECONFIG") else {
            return settingFailure("KUBECONFIG", "", "KUBE_CONNECTION=environment reads the kubeconfig files listed in KUBECONFIG (colon-separated)")
        }
        let paths = splitKubeconfigList(list)
        let present = paths.filter(io.fileExists)
        guard !present.isEmpty else {
            return settingFailure("KUBECONFIG", list, "none of its files can be read: \(paths.joined(separator: ", "))")
        }
        return kubeconfig(mode: "environment", files: present, value: value, io: io, setting: "KUBECONFIG",
                          given: list, source: "\(how) \(present.joined(separator: ":"))")
    }

    /// No KUBE_CONNECTION and no KUBERNETES_SERVICE_HOST: KUBECONFIG_PATH if set,
    /// then KUBECONFIG, then ~/.kube/config, as kubectl looks (it has no KUBECONFIG_PATH).
    static func kubeconfigFallback(value: (String) -> String?, io: EndpointIO) -> Result<APIEndpoint, SettingErrors> {
        if value("KUBECONFIG_PATH") != nil {
            return kubeconfigPath(value: value, io: io, how: "KUBECONFIG_PATH (no KUBE_CONNECTION, not in a pod)")
        }
        if value("KUBECONFIG") != nil {
            return kubeconfigList(value: value, io: io, how: "KUBECONFIG (no KUBE_CONNECTION, not in a pod)")
        }
        let home = value("HOME")
        if let home, io.fileExists(home + "/.kube/config") {
            return kubeconfigPath(value: value, io: io, how: "~/.kube/config (no KUBE_CONNECTION, not in a pod)")
        }
        let looked = home.map { "~/.kube/config (\($0)/.kube/config)" } ?? "~/.kube/config (HOME is not set)"
        return settingFailure("KUBE_CONNECTION", "",
                              "no API server settings found: looked for KUBE_CONNECTION, KUBERNETES_SERVICE_HOST (set inside a pod), KUBECONFIG_PATH, KUBECONFIG and \(looked); set KUBE_CONNECTION=http or token with KUBE_HOST, or KUBECONFIG to a kubeconfig file")
    }

    private static func kubeconfig(mode: String, files: [String], value: (String) -> String?, io: EndpointIO,
                                   setting: String, given: String, source: String) -> Result<APIEndpoint, SettingErrors> {
        do {
            let builder = KubeconfigEndpointBuilder(io: io)
            return .success(try builder.endpoint(mode: mode, files: files, contextName: value("KUBECONFIG_CONTEXT"), source: source))
        } catch {
            return settingFailure(setting, given, error.message)
        }
    }

    private static func settingFailure(_ setting: String, _ value: String, _ accepted: String) -> Result<APIEndpoint, SettingErrors> {
        .failure(SettingErrors(errors: [SettingError(setting: setting, value: value, accepted: accepted)]))
    }
}
