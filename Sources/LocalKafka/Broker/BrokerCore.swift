import Foundation
import KafkaWire
import Logging
import NIOCore
import NIOPosix

/// The broker's state and request handling: storage, consumer groups, parked requests.
///
/// One actor owns everything that changes, so requests are applied one at a time in a single
/// order (what a single-node Kafka would do per partition, here for the whole broker). Frames
/// are decoded and responses encoded outside the actor; storage calls are synchronous inside it.
/// Requests that Kafka answers later (a fetch waiting for data, a join waiting for the
/// rebalance) suspend on continuations and leave the actor free for other requests.
actor BrokerCore: KafkaFrameHandler {
    let configuration: BrokerConfiguration
    let advertisedHost: String
    let advertisedPort: Int32
    let clusterID: String
    let faults: FaultInjector
    let logger: Logger

    /// The thread this actor runs on. Storage calls block (pwrite, fsync); on a thread of its
    /// own they never stall Swift's cooperative pool, which the broker's clients in the same
    /// process (tests, the sandbox) need to make progress.
    private let thread: MultiThreadedEventLoopGroup
    /// Runs this actor and every connection's serving task (see `KafkaConnectionHandler`).
    nonisolated let executor: EventLoopTaskExecutor

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    deinit {
        // The last reference may go away on the thread itself, so never wait for it here.
        thread.shutdownGracefully { _ in }
    }

    var store: LogStore
    var groups: GroupCoordinator
    /// Transactional ids, their producers and open transactions (see `TransactionCoordinator`).
    var transactions: TransactionCoordinator
    let transactionEffects: TransactionEffects
    /// JoinGroup and SyncGroup requests waiting for the rebalance to progress.
    var parkedGroupRequests: [RequestToken: CheckedContinuation<GroupCompletion.Response?, Never>] = [:]
    var nextRequestToken: UInt64 = 0
    /// Fetches waiting for data on any of their partitions.
    var fetchWaiters: [Int: FetchWaiter] = [:]
    var nextFetchWaiterID = 0
    var isShutDown = false
    var isStorageClosed = false

    struct FetchWaiter {
        let partitions: Set<PartitionKey>
        let continuation: CheckedContinuation<Void, Never>
    }

    struct PartitionKey: Hashable {
        let topic: String
        let partition: Int32
    }

    init(configuration: BrokerConfiguration, advertisedHost: String, advertisedPort: Int, faults: FaultInjector, logger: Logger) throws {
        self.configuration = configuration
        self.advertisedHost = advertisedHost
        self.advertisedPort = Int32(clamping: advertisedPort)
        self.faults = faults
        self.logger = logger
        self.thread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.executor = EventLoopTaskExecutor(thread.next())
        do {
            self.store = try LogStore(configuration: configuration, logger: logger)
        } catch {
            throw BrokerError(.storage, "cannot open the data directory \(configuration.dataDirectory.path): \(error)")
        }
        self.clusterID = try ClusterIdentity.loadOrCreate(in: configuration.dataDirectory)
        // Before the groups are restored: completing a transaction may commit a group's offsets.
        (self.transactions, self.transactionEffects) = try Self.recoverTransactions(store: store, configuration: configuration, logger: logger)
        var groups = GroupCoordinator(logger: logger)
        for group in store.groupOffsets.groups {
            groups.restoreGroup(GroupID(group))
        }
        self.groups = groups
    }

    /// Restores the transaction coordinator and settles what a restart left undecided: open
    /// transactions are aborted (markers written), preparing ones completed as decided, and
    /// transactions open on partitions but unknown to the coordinator aborted as well, so no
    /// last stable offset stays stuck.
    private static func recoverTransactions(store: LogStore, configuration: BrokerConfiguration, logger: Logger)
        throws -> (TransactionCoordinator, TransactionEffects)
    {
        let stateFile = TransactionStateFile(dataDirectory: configuration.dataDirectory)
        let effects = TransactionEffects(store: store, stateFile: stateFile, logger: logger)
        let restored = TransactionCoordinator.restored(try stateFile.load())
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        var coordinator = restored.0
        let settled = effects.apply(restored.1, to: &coordinator, nowMs: nowMs)
        let orphaned = effects.abortOrphanedTransactions(nowMs: nowMs)
        if !settled.markedPartitions.isEmpty || !orphaned.isEmpty {
            logger.warning("aborted or completed transactions left open by the previous run", metadata: [
                "settledPartitions": "\(settled.markedPartitions.count)", "orphanedPartitions": "\(orphaned.count)",
            ])
        }
        return (coordinator, effects)
    }

    // MARK: Frames

    nonisolated var taskExecutor: (any TaskExecutor)? { executor }

    nonisolated func handle(frame: ByteBuffer, from client: ClientConnection) async throws -> ByteBuffer? {
        var body = frame
        let header = try RequestHeader.decode(from: &body)
        guard let api = header.api else {
            throw WireError.unsupported(apiKey: header.apiKey, version: header.apiVersion)
        }
        if api == .apiVersions, !SupportedApiVersions.isSupported(api, version: header.apiVersion) {
            // Clients open with the newest ApiVersions they know; answer in v0 so any client can
            // read the error and the versions we do speak, then retry lower.
            return ResponseFrame.encode(
                correlationId: header.correlationId, api: .apiVersions, version: 0,
                response: .apiVersions(Self.apiVersionsResponse(error: .unsupportedVersion))
            )
        }
        let request = try KafkaRequest.decode(header: header, body: &body)
        let response: KafkaResponse?
        switch faults.admitRequest(api) {
        case .drop:
            return nil
        case .fail(let error, let delay):
            if let delay { try await Task.sleep(for: delay) }
            response = InjectedFailure.response(to: request, error: error, version: header.apiVersion)
        case .serve(let delay):
            if let delay { try await Task.sleep(for: delay) }
            response = try await respond(to: request, header: header, client: client)
        }
        guard let response else { return nil }
        return ResponseFrame.encode(correlationId: header.correlationId, api: api, version: header.apiVersion, response: response)
    }

    private func respond(to request: KafkaRequest, header: RequestHeader, client: ClientConnection) async throws -> KafkaResponse? {
        // A stopping broker answers nothing more: the connection closes, clients reconnect later.
        guard !isShutDown else { throw BrokerError(.network, "LocalKafka is stopping") }
        let version = header.apiVersion
        switch request {
        case .apiVersions: return .apiVersions(Self.apiVersionsResponse(error: .none))
        case .metadata(let r): return .metadata(metadata(r, version: version))
        case .produce(let r): return produce(r).map(KafkaResponse.produce)
        case .fetch(let r): return .fetch(await fetch(r))
        case .listOffsets(let r): return .listOffsets(listOffsets(r, version: version))
        case .findCoordinator(let r): return .findCoordinator(findCoordinator(r))
        case .initProducerId(let r): return .initProducerId(initProducerId(r))
        case .addPartitionsToTxn(let r): return .addPartitionsToTxn(addPartitionsToTxn(r))
        case .addOffsetsToTxn(let r): return .addOffsetsToTxn(addOffsetsToTxn(r))
        case .txnOffsetCommit(let r): return .txnOffsetCommit(txnOffsetCommit(r))
        case .endTxn(let r): return .endTxn(endTxn(r))
        case .joinGroup(let r): return .joinGroup(await joinGroup(r, version: version, client: client, clientID: header.clientId))
        case .syncGroup(let r): return .syncGroup(await syncGroup(r))
        case .heartbeat(let r): return .heartbeat(heartbeat(r))
        case .leaveGroup(let r): return .leaveGroup(leaveGroup(r, version: version))
        case .describeGroups(let r): return .describeGroups(describeGroups(r))
        case .listGroups: return .listGroups(listGroups())
        case .offsetCommit(let r): return .offsetCommit(offsetCommit(r))
        case .offsetFetch(let r): return .offsetFetch(offsetFetch(r))
        case .offsetDelete(let r): return .offsetDelete(offsetDelete(r))
        case .createTopics(let r): return .createTopics(createTopics(r))
        case .deleteTopics(let r): return .deleteTopics(deleteTopics(r))
        case .createPartitions(let r): return .createPartitions(createPartitions(r))
        case .deleteRecords(let r): return .deleteRecords(deleteRecords(r))
        case .describeConfigs(let r): return .describeConfigs(describeConfigs(r))
        case .alterConfigs(let r): return .alterConfigs(alterConfigs(r))
        case .incrementalAlterConfigs(let r): return .incrementalAlterConfigs(incrementalAlterConfigs(r))
        }
    }

    static func apiVersionsResponse(error: KafkaErrorCode) -> ApiVersionsResponse {
        .advertising(SupportedApiVersions.advertised, errorCode: error)
    }

    // MARK: Time

    var nowMs: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Background work

    /// Runs group timers, interval fsyncs, retention and the log cleaner until cancelled.
    func runMaintenance() async {
        var lastFlush = ContinuousClock.now
        var lastRetention = ContinuousClock.now
        var lastCompaction = ContinuousClock.now
        while !Task.isCancelled {
            let now = ContinuousClock.now
            complete(groups.tick(now: now))
            expireTransactions()
            if configuration.fsync == .interval, now - lastFlush >= configuration.fsyncInterval {
                flushStorage()
                lastFlush = now
            }
            if now - lastRetention >= configuration.retentionCheckInterval {
                store.enforceRetention(nowMs: nowMs)
                lastRetention = now
            }
            if now - lastCompaction >= configuration.compactionInterval {
                store.compactChangedPartitions(nowMs: nowMs)
                lastCompaction = now
            }
            // Group timers need about this resolution; a finer one would only burn CPU at idle.
            var wake = now + .milliseconds(100)
            if let deadline = groups.nextDeadline(), deadline < wake { wake = max(deadline, now) }
            if let deadline = transactions.nextDeadline(), deadline < wake { wake = max(deadline, now) }
            try? await Task.sleep(until: wake, clock: .continuous)
        }
    }

    private func flushStorage() {
        do {
            try store.flush()
        } catch {
            logger.error("fsync failed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers every parked request and refuses new ones; the storage stays open for requests
    /// already being handled.
    func stopServing() {
        isShutDown = true
        for (_, waiter) in fetchWaiters { waiter.continuation.resume() }
        fetchWaiters.removeAll()
        for (_, parked) in parkedGroupRequests { parked.resume(returning: nil) }
        parkedGroupRequests.removeAll()
    }

    /// Stops serving, then flushes and closes the storage cleanly. Idempotent.
    func shutdown() {
        stopServing()
        guard !isStorageClosed else { return }
        isStorageClosed = true
        flushStorage()
        store.close()
    }
}
