import HTTPLite
import JSON

// `httplite get URL [options]`: HTTPLite on the command line, for the
// integration tests and the benchmarks. One JSON line per response.
// `httplite serve PORT`: HTTPServer in a poll loop (Serve.swift).

let usage = """
    usage: httplite get URL [--ca FILE] [--ca-pem FILE] [--cert FILE --key FILE]
                            [--cert-pem FILE --key-pem FILE] [--insecure] [--server-name NAME]
                            [--timeout SECONDS] [--connect-timeout SECONDS] [--repeat N]
                            [--method METHOD] [--data TEXT] [--header "Name: value"]...
                            [--max-body BYTES] [--max-header BYTES]
           httplite bench plain|tls|tlsnew N URL [CA-FILE]
           httplite serve PORT [--address ADDRESS] [--metrics FILE] [--tick SECONDS]
    """

func writeToStandardError(_ text: String) {
    System.writeToStandardError(text)
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    writeToStandardError("httplite: \(message)\n\(usage)\n")
    System.exit(status)
}

func readFile(_ path: String) -> [UInt8] {
    do { return try readLocalFile(path) } catch { fail("\(error)") }
}

func number(_ text: String, _ option: String) -> Double {
    guard let value = Double(text), value >= 0 else { fail("\(option) takes a number, not \"\(text)\"") }
    return value
}

/// The value after the option at `index`, which moves onto it; a missing one ends the program.
func optionValue(_ arguments: [String], _ index: inout Int) -> String {
    index += 1
    guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
    return arguments[index]
}

/// Decimal digits only, up to `Int.max`: `Int(Double)` would trap on 1e19, inf or nan.
func wholeNumber(_ text: String, _ option: String) -> Int {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else {
        fail("\(option) takes a whole number from 0 to \(Int.max), not \"\(text)\"")
    }
    return value
}

// A top-level `let`: a global `var` needs the Concurrency module in Swift 6 mode.
let commandLine = System.arguments()
guard let command = commandLine.first else { fail("no command") }

switch command {
case "get":
    runGet(Array(commandLine.dropFirst()))
case "bench":
    runBench(Array(commandLine.dropFirst()))
case "serve":
    runServe(Array(commandLine.dropFirst()))
default:
    fail("unknown command \(command)")
}

func runGet(_ arguments: [String]) {
    var configuration = HTTPClient.Configuration()
    var url: String?
    var repeatCount = 1
    var method = "GET"
    var body: [UInt8]?
    var headers = HTTPHeaders()
    var index = 0
    func value() -> String { optionValue(arguments, &index) }
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--ca": configuration.tls.trustRoots = .file(value())
        case "--ca-pem": configuration.tls.trustRoots = .bytes(readFile(value()))
        case "--cert": configuration.tls.certificate = .file(value())
        case "--key": configuration.tls.privateKey = .file(value())
        case "--cert-pem": configuration.tls.certificate = .bytes(readFile(value()))
        case "--key-pem": configuration.tls.privateKey = .bytes(readFile(value()))
        case "--insecure": configuration.tls.verifiesPeer = false
        case "--server-name": configuration.tls.serverName = value()
        case "--timeout": configuration.timeout = number(value(), argument)
        case "--connect-timeout": configuration.connectTimeout = number(value(), argument)
        case "--repeat": repeatCount = wholeNumber(value(), argument)
        case "--method": method = value()
        case "--data": body = Array(value().utf8)
        case "--max-body": configuration.limits.maxBodyBytes = wholeNumber(value(), argument)
        case "--max-header": configuration.limits.maxHeaderBytes = wholeNumber(value(), argument)
        case "--header":
            let field = value()
            guard let colon = field.firstIndex(of: ":") else { fail("--header takes \"Name: value\"") }
            headers.add(String(field[..<colon]), field[field.index(after: colon)...].trimmingWhitespace())
        default:
            if argument.hasPrefix("-") || url != nil { fail("unexpected argument \(argument)") }
            url = argument
        }
        index += 1
    }
    guard let url else { fail("no URL") }
    if !configuration.tls.verifiesPeer {
        writeToStandardError("httplite: warning: --insecure: the server's certificate and name are not verified\n")
    }

    let client = HTTPClient(configuration: configuration)
    do {
        let request = HTTPRequest(method: method, url: try HTTPURL(url), headers: headers, body: body)
        for _ in 0..<repeatCount {
            let response = try client.execute(request)
            let fields = response.headers.map { JSON.array([.string($0.name), .string($0.value)]) }
            let line = JSON.object([
                ("status", .number(Double(response.status))),
                ("headers", .array(fields)),
                ("body", .string(String(decoding: response.body, as: UTF8.self))),
                ("bodyLength", .number(Double(response.body.count))),
                ("connections", .number(Double(client.connectionsOpened))),
            ])
            print(line.serialized())
        }
    } catch {
        print(JSON.object([("error", .string(error.code.name)), ("detail", .string(error.detail))]).serialized())
        System.exit(1)
    }
}
