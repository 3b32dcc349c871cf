/// A variable of the API server connection, which `APIEndpoint.resolve` reads, and its help.
struct ConnectionVariable {
    let names: [String]
    let help: String
}

/// The API server connection's variables, in the order `--help` lists them.
let connectionVariableHelp = [
    ConnectionVariable(names: ["KUBE_CONNECTION"], help: "cluster (default in a pod), http, token, kubeconfig or environment\n"
                       + "(outside a pod without it: KUBECONFIG_PATH, KUBECONFIG, then ~/.kube/config)"),
    ConnectionVariable(names: ["KUBE_HOST"], help: "API server URL for http and token"),
    ConnectionVariable(names: ["KUBE_BEARER_TOKEN", "KUBE_CA_PATH", "KUBE_VERIFY_SSL", "KUBE_CERTIFICATE_PATH", "KUBE_KEY_PATH"],
                       help: "for token"),
    ConnectionVariable(names: ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"],
                       help: "for cluster: the API server, as Kubernetes sets them in every pod (port default 443)"),
    ConnectionVariable(names: ["SERVICE_ACCOUNT_DIR"], help: "for cluster (default \(APIEndpoint.defaultServiceAccountDir))"),
    ConnectionVariable(names: ["KUBECONFIG_PATH"], help: "kubeconfig file for kubeconfig (default ~/.kube/config, from HOME)"),
    ConnectionVariable(names: ["KUBECONFIG"], help: "colon-separated kubeconfig files for environment, merged as kubectl does"),
    ConnectionVariable(names: ["KUBECONFIG_CONTEXT"], help: "context for kubeconfig and environment (default: current-context)"),
]

/// `--help`: every setting from `Settings.table`, then the connection's variables.
func helpText(version: String) -> String {
    var text = """
        network-watcher \(version): labels its pod by the Echo Server's memory use.

        usage: network-watcher [network:watch] [flags]

        Settings (flag, then environment variable, then default):

        """
    for setting in Settings.table {
        for name in setting.names {
            let flags = name.flags.joined(separator: ", ") + (setting.isSwitch ? "" : " VALUE")
            text += "  \(flags)\n      \(name.env): \(name.help ?? setting.help) (default: \(setting.defaultText))\n"
        }
    }
    text += "\nAPI server connection (environment only):\n"
    for variable in connectionVariableHelp {
        let help = variable.help.split(separator: "\n").joined(separator: "\n      ")
        text += "  \(variable.names.joined(separator: ", "))\n      \(help)\n"
    }
    text += "\n  --help (or: network-watcher help), --version"
    return text
}
