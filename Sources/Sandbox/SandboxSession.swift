import AsyncHTTPClient
import Foundation
import Logging

/// A running sandbox: the lab (whose agents run the mirror flows), the outside observer and
/// the workload, each in a task of its own, all stopped by ``stop()``.
public final class SandboxSession: Sendable {
    public let lab: Lab
    public let watch: ActiveWatch
    public let follower: SidecarFollower
    public let ledger: Ledger
    public let origin: ContinuousClock.Instant
    public let rate: Double
    private let background: [Task<Void, Never>]
    private let workload: [Task<Void, Never>]

    private init(
        lab: Lab, watch: ActiveWatch, follower: SidecarFollower, ledger: Ledger, origin: ContinuousClock.Instant,
        rate: Double, background: [Task<Void, Never>], workload: [Task<Void, Never>]
    ) {
        self.lab = lab
        self.watch = watch
        self.follower = follower
        self.ledger = ledger
        self.origin = origin
        self.rate = rate
        self.background = background
        self.workload = workload
    }

    /// Starts the lab, then the observer and the workload.
    public static func start(
        layout: LabLayout, executable: String, http: LabHTTP, rate: Double,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> SandboxSession {
        let origin = ContinuousClock.now
        let lab = try await Lab.start(layout: layout, executable: executable, http: http, progress: progress)
        let watch = ActiveWatch(lab: lab, origin: origin)
        let follower = SidecarFollower(lab: lab)
        let ledger = Ledger(origin: origin)
        var kafkaLogger = Logger(label: "switchback.sandbox.kafka")
        kafkaLogger.logLevel = .critical
        let background = [Task { await watch.run() }, Task { await follower.run() }]
        let producer = OrderProducer(follower: follower, ledger: ledger, rate: rate, logger: kafkaLogger)
        let consumer = OrderConsumer(follower: follower, ledger: ledger, logger: kafkaLogger)
        let workload = [Task { await producer.run() }, Task { await consumer.run() }]
        progress("workload: \(Int(rate)) records/s to \(LabLayout.topic), group \(OrderConsumer.group) reading \(LabLayout.topicPattern)")
        return SandboxSession(
            lab: lab, watch: watch, follower: follower, ledger: ledger, origin: origin, rate: rate,
            background: background, workload: workload)
    }

    /// Seconds since the session started.
    public func elapsed(_ instant: ContinuousClock.Instant = .now) -> Double { (instant - origin).seconds }

    /// Stops the producer, then waits until every acknowledged record was delivered, or until
    /// nothing new was delivered for `quiet`, at most `limit`.
    public func drain(quiet: Duration = .seconds(8), limit: Duration = .seconds(60)) async {
        workload[0].cancel()
        await workload[0].value
        let deadline = ContinuousClock.now + limit
        var lastDelivered = ledger.totals.delivered
        var lastChange = ContinuousClock.now
        while ContinuousClock.now < deadline, !ledger.allDelivered, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            let delivered = ledger.totals.delivered
            if delivered != lastDelivered {
                lastDelivered = delivered
                lastChange = .now
            } else if ContinuousClock.now - lastChange > quiet {
                break
            }
        }
    }

    /// Stops the workload, the observer and the lab, in that order; runs to the
    /// end even when the calling task is cancelled.
    public func stop() async {
        let (workload, background, lab) = (self.workload, self.background, self.lab)
        await Task {
            for task in workload { task.cancel() }
            for task in workload { await task.value }
            for task in background { task.cancel() }
            for task in background { await task.value }
            await lab.stop()
        }.value
    }

    /// Kills every child at once (the second Ctrl-C).
    public func kill() {
        lab.kill()
    }
}
