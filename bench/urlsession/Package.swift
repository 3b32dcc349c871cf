// swift-tools-version:6.0
import PackageDescription

// The URLSession peer of scripts/bench.sh, apart from the product so that it
// links Foundation and the product does not.
let package = Package(
    name: "urlsession-bench",
    targets: [
        .executableTarget(name: "urlsession-bench")
    ]
)
