// swift-tools-version:6.1
//
// Switchback: keeps Kafka applications running when a datacenter fails.
// Dependencies point one way (see ../shared/DESIGN.md §2):
//   switchback → AgentServer/Sandbox → Orchestrator → Mirror/Consensus/Alerts → KafkaClient → CRdKafka
// LocalKafka depends only on KafkaWire and SwiftNIO; only the sandbox and tests use it.
import PackageDescription

let package = Package(
    name: "switchback",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchback", targets: ["switchback"]),
        .executable(name: "switchback-bench", targets: ["SwitchbackBench"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // librdkafka from the operating system (Debian: librdkafka-dev).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        .target(
            name: "KafkaClient",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "switchback",
            dependencies: [
                "KafkaClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks that print figures (`swift run -c release switchback-bench client`).
        .executableTarget(
            name: "SwitchbackBench",
            dependencies: [
                "KafkaClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "CRdKafka"]
        ),
    ]
)

// Strict concurrency everywhere: Swift 6 language mode for every target.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
