// swift-tools-version:6.0
import PackageDescription

// The product depends on nothing but the C library and OpenSSL.
let package = Package(
    name: "network-watcher",
    products: [
        .executable(name: "network-watcher", targets: ["Watcher"]),
        .executable(name: "httplite", targets: ["httplite"]),
        .library(name: "HTTPLite", targets: ["HTTPLite"]),
    ],
    targets: [
        .systemLibrary(
            name: "CTLS",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Linux headers the Glibc module leaves out (signalfd).
        .systemLibrary(name: "CSystem"),
        .target(name: "HTTPLite", dependencies: ["CTLS"]),
        .executableTarget(name: "Watcher", dependencies: ["HTTPLite", "CSystem"]),
        // A command-line front end to HTTPLite, for the integration tests and benchmarks.
        .executableTarget(name: "httplite", dependencies: ["HTTPLite"]),
        .testTarget(name: "HTTPLiteTests", dependencies: ["HTTPLite"]),
        .testTarget(name: "WatcherTests", dependencies: ["Watcher", "HTTPLite"]),
    ]
)
