import Foundation
import LocalKafka
import Logging

/// Two LocalKafka brokers in this process, standing in for the Kafka clusters of sites dc-a and
/// dc-b; each keeps its data in a fresh temporary directory, removed by `stop()`.
final class SiteClusters {
    let siteA: LocalKafkaBroker
    let siteB: LocalKafkaBroker
    private let serving: [Task<Void, any Error>]
    private let directory: URL

    private init(siteA: LocalKafkaBroker, siteB: LocalKafkaBroker, serving: [Task<Void, any Error>], directory: URL) {
        self.siteA = siteA
        self.siteB = siteB
        self.serving = serving
        self.directory = directory
    }

    static func start(logger: Logger) async throws -> SiteClusters {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchback-bench-clusters-\(UUID().uuidString.prefix(8))", isDirectory: true)
        var brokers: [LocalKafkaBroker] = []
        for site in ["dc-a", "dc-b"] {
            let data = directory.appendingPathComponent(site, isDirectory: true)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            brokers.append(try await LocalKafkaBroker.start(configuration: .init(dataDirectory: data, port: 0), logger: logger))
        }
        let serving = brokers.map { broker in Task { try await broker.run() } }
        return SiteClusters(siteA: brokers[0], siteB: brokers[1], serving: serving, directory: directory)
    }

    /// Heals any fault, stops both brokers and removes their data.
    func stop() async {
        siteA.faults.heal()
        siteB.faults.heal()
        for task in serving { task.cancel() }
        for task in serving { _ = try? await task.value }
        try? FileManager.default.removeItem(at: directory)
    }
}
