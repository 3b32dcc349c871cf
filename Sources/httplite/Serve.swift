#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif
import HTTPLite

// `httplite serve PORT [--address ADDRESS] [--metrics FILE] [--tick SECONDS]`:
// HTTPServer in a poll loop of the shape the watcher's will have, for the
// integration tests (real clients, Prometheus, hostile clients). It serves
// `/metrics` (FILE, read at each request), `/healthz` (`ok`) and `/stats`
// (JSON: how the loop fared); other paths are 404. A tick every SECONDS
// (default 0.1) stands in for the watcher's checks: `/stats` says how late a
// tick ever came and how long one `advance` ever took. Writes
// `listening ADDRESS` on standard error once ready; SIGTERM or SIGINT stop it.

func runServe(_ arguments: [String]) {
    var port: Int?
    var address: String?
    var metricsPath: String?
    var tick = 0.1
    var index = 0
    func value() -> String { optionValue(arguments, &index) }
    while index < arguments.count {
        let argument = arguments[index]
        switch argument {
        case "--address": address = value()
        case "--metrics": metricsPath = value()
        case "--tick": tick = max(number(value(), argument), 0.001)
        default:
            guard port == nil else { fail("unexpected argument \(argument)") }
            port = wholeNumber(argument, "PORT")
        }
        index += 1
    }
    guard let port else { fail("serve needs a PORT") }

    var stats = LoopStats()
    let server: HTTPServer
    do {
        server = try HTTPServer(address: address, port: port) { path in
            switch path {
            case "/healthz":
                return HTTPServerResponse(status: 200, text: "ok")
            case "/metrics":
                guard let metricsPath, let text = try? readLocalFile(metricsPath) else {
                    return HTTPServerResponse(status: 404, text: "no metrics file")
                }
                return HTTPServerResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
            case "/stats":
                return HTTPServerResponse(status: 200, contentType: "application/json", body: Array(stats.json.utf8))
            default:
                return HTTPServerResponse(status: 404, text: "not found")
            }
        }
    } catch {
        fail("\(error)", status: 1)
    }
    let signals: Int32
    do {
        try System.blockSignals([SIGTERM, SIGINT])
        signals = try System.signalfd([SIGTERM, SIGINT])
    } catch {
        fail("\(error)", status: 1)
    }
    writeToStandardError("listening \(server.address)\n")

    var nextTick = monotonicSeconds() + tick
    while true {
        let interests = server.interests
        let wakeAt = min(server.wakeAt ?? nextTick, nextTick)
        let reported = waitForAny(interests + [.readable(signals)], until: wakeAt)
        if reported[interests.count] != 0 { break }
        let now = monotonicSeconds()
        if now >= nextTick {
            stats.ticks += 1
            stats.maxTickLateness = max(stats.maxTickLateness, now - nextTick)
            // Ticks missed while the loop was held count as missed, not made up.
            nextTick += tick * ((now - nextTick) / tick).rounded(.down) + tick
        }
        let ready = interests.indices.map { PollInterest(descriptor: interests[$0].descriptor, events: reported[$0]) }
        server.advance(ready: ready, now: now)
        stats.longestAdvance = max(stats.longestAdvance, monotonicSeconds() - now)
        stats.connectionsNow = server.connectionCount
        stats.mostConnections = max(stats.mostConnections, server.connectionCount)
        stats.evictions = server.evictions
    }
    server.close()
    writeToStandardError("stopped\n")
}

/// How the serve loop fared, for `/stats`.
struct LoopStats {
    var ticks = 0
    var maxTickLateness = 0.0
    var longestAdvance = 0.0
    var connectionsNow = 0
    var mostConnections = 0
    var evictions = 0

    var json: String {
        "{\"ticks\": \(ticks), \"max_tick_lateness_seconds\": \(maxTickLateness), "
            + "\"longest_advance_seconds\": \(longestAdvance), \"connections\": \(connectionsNow), "
            + "\"most_connections\": \(mostConnections), \"evictions\": \(evictions)}\n"
    }
}
