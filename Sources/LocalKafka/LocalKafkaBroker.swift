import Foundation
import Logging
import NIOCore

/// An embedded single-node Kafka-compatible broker, for the sandbox and for tests.
///
/// Unmodified Kafka clients (librdkafka, kcat, confluent-kafka, kafka-python) use it as they
/// would use Kafka. It keeps its data in `BrokerConfiguration.dataDirectory` and recovers it on
/// start. It is **not** a production broker: one node, no replication, no TLS or SASL.
///
/// ```swift
/// let broker = try await LocalKafkaBroker.start(configuration: .init(dataDirectory: dir, port: 0))
/// print(broker.bootstrapServers)     // 127.0.0.1:54321
/// try await broker.run()             // until the task is cancelled
/// ```
public final class LocalKafkaBroker: Sendable {
    /// `host:port` to give clients as `bootstrap.servers`.
    public let bootstrapServers: String
    /// `host:port` of the HTTP control endpoint, when one was asked for.
    public let controlEndpoint: String?
    /// The faults injected into this broker; the control endpoint drives the same object.
    public let faults: FaultInjector

    private let listener: KafkaListener
    private let control: ControlServer?
    private let core: BrokerCore
    private let logger: Logger

    private init(listener: KafkaListener, control: ControlServer?, core: BrokerCore, faults: FaultInjector, host: String, logger: Logger) {
        self.listener = listener
        self.control = control
        self.core = core
        self.faults = faults
        self.logger = logger
        self.bootstrapServers = "\(host):\(listener.localAddress.port ?? 0)"
        self.controlEndpoint = control.map { "\(host):\($0.localAddress.port ?? 0)" }
    }

    /// Opens (and recovers) the data directory and binds the listening sockets.
    ///
    /// - Parameters:
    ///   - configuration: where to keep data, which address to serve, fsync policy.
    ///   - controlPort: port for the HTTP control endpoint on the same host (0 picks one), or
    ///     nil for none.
    /// - Throws: `BrokerError` when the data directory cannot be opened or a port is taken.
    public static func start(
        configuration: BrokerConfiguration,
        controlPort: Int? = nil,
        logger: Logger = Logger(label: "localkafka")
    ) async throws -> LocalKafkaBroker {
        let faults = FaultInjector(logger: logger)
        let listener: KafkaListener
        do {
            listener = try await KafkaListener.bind(
                host: configuration.host, port: configuration.port,
                maxFrameBytes: configuration.maxRequestBytes, logger: logger
            )
        } catch {
            throw BrokerError(.network, "cannot listen on \(configuration.host):\(configuration.port): \(error). Choose another --listen address or stop what uses it.")
        }
        let advertisedPort = configuration.advertisedPort ?? listener.localAddress.port ?? configuration.port
        let core: BrokerCore
        do {
            core = try BrokerCore(
                configuration: configuration, advertisedHost: configuration.host,
                advertisedPort: advertisedPort, faults: faults, logger: logger
            )
        } catch {
            listener.close()
            throw error
        }
        listener.activate(handler: core, faults: faults)
        var control: ControlServer?
        if let controlPort {
            do {
                control = try await ControlServer.bind(
                    host: configuration.host, port: controlPort, faults: faults,
                    compact: { topic throws(StorageError) in try await core.compact(topic: topic) }, logger: logger
                )
            } catch {
                listener.close()
                await core.shutdown()
                throw BrokerError(.network, "cannot listen for control calls on \(configuration.host):\(controlPort): \(error). Choose another --control address.")
            }
        }
        return LocalKafkaBroker(listener: listener, control: control, core: core, faults: faults, host: configuration.host, logger: logger)
    }

    /// Compacts every partition of a compacted topic now, instead of waiting for the periodic
    /// cleaner (`BrokerConfiguration.compactionInterval`); only closed segments are cleaned.
    ///
    /// - Returns: what was removed, partition by partition.
    /// - Throws: `StorageError` for an unknown topic, a topic whose `cleanup.policy` does not
    ///   include `compact`, or an I/O failure.
    public func compact(topic: String) async throws(StorageError) -> CompactionReport {
        try await core.compact(topic: topic)
    }

    /// Serves clients until the calling task is cancelled, then closes connections and flushes
    /// and closes the storage, so nothing acknowledged is lost on a clean stop.
    public func run() async throws {
        logger.info("LocalKafka serving", metadata: ["bootstrap": "\(bootstrapServers)", "control": "\(controlEndpoint ?? "off")"])
        defer { logger.info("LocalKafka stopped", metadata: ["bootstrap": "\(bootstrapServers)"]) }
        try await withTaskCancellationHandler {
            try await serve()
        } onCancel: {
            // Parked fetches and joins would keep their connections (and so the listener) alive
            // until their own timeouts; answer them now so the stop is prompt.
            let core = self.core
            Task { await core.stopServing() }
        }
        await core.shutdown()
    }

    private func serve() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.listener.run() }
            group.addTask { await self.core.runMaintenance() }
            if let control = self.control {
                group.addTask { try await control.run() }
            }
            do {
                try await group.next()
                // One part stopped on its own (it only does so on failure): stop the others.
                group.cancelAll()
                while try await group.next() != nil {}
            } catch {
                group.cancelAll()
                await self.core.shutdown()
                // Cancellation is how a broker is asked to stop: the parts end by throwing
                // CancellationError, which is the clean stop the caller wanted, not a failure.
                if Task.isCancelled, error is CancellationError { return }
                throw error
            }
        }
    }
}
