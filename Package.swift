// swift-tools-version:6.0
import PackageDescription

// The product depends on nothing but the C library and OpenSSL. Its modules
// do without the Regex and Concurrency runtimes, which keeps the static
// binary small (scripts/build-static.sh); importing them implicitly would let
// a stray `String.contains(String)` pull in megabytes unnoticed.
let lean: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import",
                  "-Xfrontend", "-disable-implicit-concurrency-module-import"]),
]

let package = Package(
    name: "network-watcher",
    products: [
        .executable(name: "network-watcher", targets: ["Watcher"]),
        .executable(name: "httplite", targets: ["httplite"]),
        .library(name: "HTTPLite", targets: ["HTTPLite"]),
        .library(name: "JSON", targets: ["JSON"]),
    ],
    targets: [
        .systemLibrary(
            name: "CTLS",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Linux headers the Glibc module leaves out (signalfd, posix_spawn), for HTTPLite's System.swift.
        .systemLibrary(name: "CSystem"),
        // The commit, date and compiler scripts/build-static.sh stamps into the binary (-Xcc -D).
        .systemLibrary(name: "CBuildStamp"),
        .target(name: "HTTPLite", dependencies: ["CTLS", "CSystem"], swiftSettings: lean),
        // RFC 8259 JSON values, reader and writer; depends on nothing.
        .target(name: "JSON", swiftSettings: lean),
        .executableTarget(name: "Watcher", dependencies: ["HTTPLite", "JSON", "CBuildStamp"], swiftSettings: lean),
        // A command-line front end to HTTPLite, for the integration tests and benchmarks.
        .executableTarget(name: "httplite", dependencies: ["HTTPLite", "JSON"], swiftSettings: lean),
        .testTarget(name: "HTTPLiteTests", dependencies: ["HTTPLite"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "WatcherTests", dependencies: ["Watcher", "HTTPLite", "JSON"]),
    ]
)
