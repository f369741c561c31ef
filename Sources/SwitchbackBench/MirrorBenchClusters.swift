import ArgumentParser
import Foundation
import LocalKafka
import Logging

/// The two clusters of the mirror benchmark: LocalKafka brokers as child processes (the
/// default, so the brokers' work does not share the benchmark's process and thread pool) or
/// in-process, and optionally a simulated WAN link (``LinkProxy``) in front of the source.
final class MirrorBenchClusters {
    enum Placement: String, CaseIterable {
        case process
        case inProcess = "in-process"
    }

    let source: String
    let target: String
    /// The simulated link in front of the source, when there is one.
    let link: LinkProxy?
    private let stopBrokers: () async -> Void

    private init(source: String, target: String, link: LinkProxy?, stop: @escaping () async -> Void) {
        self.source = source
        self.target = target
        self.link = link
        self.stopBrokers = stop
    }

    static func start(placement: Placement, link settings: LinkProxy.Settings?, root: URL, logger: Logger) async throws -> MirrorBenchClusters {
        var link: LinkProxy?
        if let settings { link = try await LinkProxy(settings: settings) }
        switch placement {
        case .process:
            let sourceBroker = try BenchBrokerProcess(fsync: .always, advertisedPort: link?.port)
            let targetBroker: BenchBrokerProcess
            do {
                targetBroker = try BenchBrokerProcess(fsync: .always)
            } catch {
                sourceBroker.stop()
                await link?.shutdown()
                throw error
            }
            var source = sourceBroker.bootstrapServers
            if let link {
                let (host, port) = try hostPort(sourceBroker.bootstrapServers)
                link.connect(to: host, port: port)
                source = "127.0.0.1:\(link.port)"
            }
            return MirrorBenchClusters(source: source, target: targetBroker.bootstrapServers, link: link) {
                sourceBroker.stop()
                targetBroker.stop()
                await link?.shutdown()
            }
        case .inProcess:
            var sourceConfiguration = BrokerConfiguration(dataDirectory: root.appendingPathComponent("a"), port: 0)
            sourceConfiguration.autoCreateTopics = false
            sourceConfiguration.advertisedPort = link?.port
            var targetConfiguration = BrokerConfiguration(dataDirectory: root.appendingPathComponent("b"), port: 0)
            targetConfiguration.autoCreateTopics = false
            for directory in [sourceConfiguration.dataDirectory, targetConfiguration.dataDirectory] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            let sourceBroker = try await LocalKafkaBroker.start(configuration: sourceConfiguration, logger: logger)
            let targetBroker = try await LocalKafkaBroker.start(configuration: targetConfiguration, logger: logger)
            let running = [Task { try await sourceBroker.run() }, Task { try await targetBroker.run() }]
            var source = sourceBroker.bootstrapServers
            if let link {
                let (host, port) = try hostPort(sourceBroker.bootstrapServers)
                link.connect(to: host, port: port)
                source = "127.0.0.1:\(link.port)"
            }
            return MirrorBenchClusters(source: source, target: targetBroker.bootstrapServers, link: link) {
                for broker in running { broker.cancel() }
                for broker in running { _ = try? await broker.value }
                await link?.shutdown()
            }
        }
    }

    func stop() async { await stopBrokers() }

    private static func hostPort(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw BenchBrokerProcess.StartFailure(description: "not a host:port address: \(address)")
        }
        return (String(address[..<colon]), port)
    }
}

extension MirrorBenchClusters.Placement: ExpressibleByArgument {}
