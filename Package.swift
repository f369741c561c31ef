// swift-tools-version:6.1
//
// Switchback: keeps Kafka applications running when a datacenter fails.
// Dependencies point one way (see ../shared/DESIGN.md §2):
//   switchback → AgentServer/Sandbox → Orchestrator → Mirror/Consensus/Alerts → KafkaClient → CRdKafka
// LocalKafka depends only on KafkaWire, KafkaCompression and SwiftNIO; only the sandbox and tests use it.
import PackageDescription

let package = Package(
    name: "switchback",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchback", targets: ["switchback"]),
        .executable(name: "switchback-bench", targets: ["SwitchbackBench"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
        .library(name: "SidecarClient", targets: ["SidecarClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.0.0"),
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
        // Kafka protocol codecs and the record batch v2 format, independent of networking.
        .target(
            name: "KafkaWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The four record batch codecs (gzip, snappy, lz4, zstd) over the system's libraries, kept
        // out of KafkaWire so the protocol layer links nothing but SwiftNIO.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"]), .brew(["snappy"])]),
        .target(
            name: "KafkaCompression",
            dependencies: [
                "KafkaWire", "CZlib", "CLZ4", "CZstd", "CSnappy",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "KafkaCompressionTests",
            dependencies: ["KafkaCompression", "KafkaWire", "TestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The embedded single-node Kafka-compatible broker (sandbox and tests; not for production).
        .target(
            name: "LocalKafka",
            dependencies: [
                "KafkaWire",
                "KafkaCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Site names, shared by the election, the mirror and the configuration.
        .target(name: "Sites"),
        // Crash-safe writes (every byte, fsync of file and directory) for the agent's state files.
        .target(name: "DurableFiles"),
        // Child processes through posix_spawn (Foundation's Process.run crashes on Linux, see
        // SpawnedProcess); CSpawn shows the GNU spawn actions and pipe2 that Swift's Glibc module hides.
        .target(name: "CSpawn"),
        .target(name: "Spawning", dependencies: ["CSpawn"]),
        .testTarget(name: "SpawningTests", dependencies: ["Spawning"]),
        .testTarget(
            name: "SitesTests",
            dependencies: ["Sites"]
        ),
        // The embedded mirror: naming, selection, provenance headers, offset map and translation.
        .target(
            name: "Mirror",
            dependencies: [
                "KafkaClient",
                "Sites",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The one YAML configuration schema shared by `switchback agent`, `mirror` and `offsets`.
        .target(
            name: "SwitchbackConfiguration",
            dependencies: [
                "Consensus",
                "Mirror",
                "Sites",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "SwitchbackConfigurationTests",
            dependencies: ["SwitchbackConfiguration", "Consensus", "Mirror", "Sites", "TestSupport"]
        ),
        // Webhook alerts (DESIGN.md §8): a durable outbox per webhook, signed deliveries with retries.
        .target(
            name: "Alerts",
            dependencies: [
                "DurableFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "AlertsTests",
            dependencies: [
                "Alerts", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Procedures and the data-plane actions they are made of (DESIGN.md §7): flows that
        // follow the election, promotion, fencing, reconcile, and the runbook engine.
        .target(
            name: "Orchestrator",
            dependencies: [
                "Alerts",
                "DurableFiles",
                "Spawning",
                "Consensus",
                "KafkaClient",
                "Mirror",
                "Sites",
                "SwitchbackConfiguration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "OrchestratorTests",
            dependencies: ["Orchestrator", "Consensus", "Mirror", "KafkaClient", "LocalKafka", "Sites", "TestSupport"]
        ),
        // What an application links to follow its site's agent (`GET /v1/active`, long-poll).
        .target(
            name: "SidecarClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SidecarClientTests",
            dependencies: [
                "SidecarClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The agent runtime (election driver, cluster probes, peer messaging) and its HTTP API.
        .target(
            name: "AgentServer",
            dependencies: [
                "Alerts",
                "DurableFiles",
                "Orchestrator",
                "SwitchbackConfiguration",
                "Consensus",
                "KafkaClient",
                "Mirror",
                "Sites",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AgentServerTests",
            dependencies: [
                "AgentServer", "Alerts", "SwitchbackConfiguration", "Consensus", "KafkaClient", "LocalKafka", "Mirror", "Orchestrator", "Sites",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `switchback sandbox` (DESIGN.md §2): two LocalKafka clusters, three agents and a
        // workload that follows the sidecar, as child processes on one machine.
        .target(
            name: "Sandbox",
            dependencies: [
                "AgentServer",
                "KafkaClient",
                "Spawning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SandboxTests",
            dependencies: [
                "Sandbox", "AgentServer", "KafkaClient", "Spawning", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // Helpers the tests run by path (#filePath), not resources of the bundle.
            exclude: ["drive_dashboard.py", "png_ink.py"]
        ),
        .executableTarget(
            name: "switchback",
            dependencies: [
                "Sandbox",
                "KafkaClient",
                "LocalKafka",
                "AgentServer",
                "Orchestrator",
                "SwitchbackConfiguration",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The site election (DESIGN.md §6): a pure state machine, no I/O besides its file store.
        .target(name: "Consensus", dependencies: ["DurableFiles", "Sites"]),
        .testTarget(
            name: "ConsensusTests",
            dependencies: ["Consensus", "Sites", "Spawning"]
        ),
        // Benchmarks that print figures (`swift run -c release switchback-bench client`).
        .executableTarget(
            name: "SwitchbackBench",
            dependencies: [
                "CRdKafka",
                "KafkaClient",
                "Mirror",
                "LocalKafka",
                "AgentServer",
                "Sandbox",
                "Spawning",
                "SwitchbackConfiguration",
                "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KafkaClientTests",
            dependencies: ["KafkaClient", "CRdKafka", "TestSupport"]
        ),
        .testTarget(
            name: "KafkaWireTests",
            dependencies: ["KafkaWire", "Spawning", "TestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "MirrorTests",
            dependencies: ["Mirror", "KafkaClient", "TestSupport"]
        ),
        // The mirror against real clusters: two LocalKafka brokers as two sites.
        .testTarget(
            name: "MirrorIntegrationTests",
            dependencies: [
                "Mirror", "KafkaClient", "LocalKafka", "KafkaWire", "Spawning", "TestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Fixtures shared by test targets (and the benchmarks): temporary directories, a
        // LocalKafka broker per test, free loopback ports,
        // KafkaClient producers and consumers that clean up after themselves.
        .target(
            name: "TestSupport",
            dependencies: ["LocalKafka", "KafkaClient", "Spawning", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "LocalKafkaTests",
            dependencies: [
                "LocalKafka", "KafkaWire", "KafkaCompression", "Spawning", "TestSupport", "KafkaClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Independent clients (kcat, confluent-kafka, kafka-python) and KafkaClient against LocalKafka.
        .testTarget(
            name: "CompatibilityTests",
            dependencies: [
                "LocalKafka", "KafkaClient", "KafkaWire", "KafkaCompression", "Spawning", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// Strict concurrency everywhere: Swift 6 language mode for every target.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
