import AgentServer
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging

/// Failover time of three real agents (dc-a, dc-b, witness) over two LocalKafka brokers: from
/// blackholing the active site's cluster to the standby's sidecar answering that it serves.
struct FailoverBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Failover time (active cluster blackholed → dc-b served as active) over fresh agents and brokers per trial.",
        discussion: """
            Each trial starts two LocalKafka brokers and three agents in this process, waits until
            dc-a serves steadily, blackholes dc-a's broker and polls GET /v1/active on dc-a and
            dc-b until dc-b answers that it serves dc-b at a newer epoch. A poll in which both
            answer that they serve counts as split-brain (it must stay 0).
            """
    )

    @Option(help: "Trials per timing set.")
    var trials = 20

    @Option(help: "Timing sets: fast (probe 250ms, down_after 1s, lease 2s), default (probe 1s, down_after 5s, lease 4s) or both.")
    var timings: TimingsChoice = .fast

    @Option(help: "Milliseconds between sidecar polls.")
    var pollMilliseconds = 10

    func validate() throws {
        guard trials > 0 else { throw ValidationError("--trials must be at least 1") }
        guard (1...1000).contains(pollMilliseconds) else { throw ValidationError("--poll-milliseconds must be 1…1000") }
    }

    func run() async throws {
        var logger = Logger(label: "switchback.bench.failover")
        logger.logLevel = .critical
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        printNow("Failover time: dc-a's LocalKafka blackholed → GET /v1/active on dc-b says it serves dc-b at a new epoch")
        printNow("3 agents (dc-a, dc-b, witness) + 2 LocalKafka brokers in one process, fresh per trial; poll every \(pollMilliseconds) ms\n")
        var rows: [FailoverTable.Row] = []
        for timingSet in timings.timings {
            printNow("timings \(timingSet.summary)")
            var row = FailoverTable.Row(timings: timingSet)
            for trial in 1...trials {
                do {
                    let outcome = try await FailoverTrial(timings: timingSet, poll: .milliseconds(pollMilliseconds))
                        .run(client: client, logger: logger)
                    row.times.append(outcome.failover)
                    row.splitBrainPolls += outcome.splitBrainPolls
                    printNow("  trial \(trial)/\(trials): \(FailoverTable.milliseconds(outcome.failover)) ms"
                        + " (epoch \(outcome.epochBefore) → \(outcome.epoch), \(outcome.polls) polls, split-brain polls \(outcome.splitBrainPolls))")
                } catch {
                    row.failures += 1
                    printNow("  trial \(trial)/\(trials): FAILED: \(error)")
                }
            }
            rows.append(row)
        }
        try await client.shutdown()
        printNow("\n" + FailoverTable(rows: rows).rendered)
        printNow("p99 is the nearest rank: with fewer than 100 trials it is the largest time.")
    }
}

/// One failover measurement on fresh brokers and agents.
struct FailoverTrial {
    struct Outcome {
        var failover: Duration
        /// The epoch dc-a served at before the fault, and the one dc-b serves at after it.
        var epochBefore: UInt64
        var epoch: UInt64
        var polls: Int
        var splitBrainPolls: Int
    }

    let timings: AgentTimings
    let poll: Duration

    func run(client: HTTPClient, logger: Logger) async throws -> Outcome {
        let clusters = try await SiteClusters.start(logger: logger)
        let layout: AgentLayout
        do {
            layout = try AgentLayout(timings: timings)
        } catch {
            await clusters.stop()
            throw error
        }
        let agents: InProcessAgents
        do {
            agents = try InProcessAgents.start(layout, clusters: clusters, logger: logger)
        } catch {
            await clusters.stop()
            layout.remove()
            throw error
        }
        let result = await Result(catching: { try await measure(layout: layout, clusters: clusters, client: client) })
        clusters.siteA.faults.heal()
        await agents.stop()
        await clusters.stop()
        layout.remove()
        return try result.get()
    }

    private func measure(layout: AgentLayout, clusters: SiteClusters, client: HTTPClient) async throws -> Outcome {
        let before = try await steadyActive(layout: layout, client: client)
        let fault = ContinuousClock.now
        clusters.siteA.faults.inject(.blackhole)
        var polls = 0
        var splitBrainPolls = 0
        let deadline = fault + .seconds(120)
        while ContinuousClock.now < deadline {
            async let a = layout.active("dc-a", client: client)
            async let b = layout.active("dc-b", client: client)
            let (answerA, answerB) = await (a, b)
            let seen = ContinuousClock.now
            polls += 1
            let aServes = answerA?.servingHere == true
            let bServes = answerB.map { $0.servingHere && $0.activeSite == "dc-b" && $0.epoch > before } ?? false
            if aServes && answerB?.servingHere == true { splitBrainPolls += 1 }
            if bServes, let answerB {
                return Outcome(failover: seen - fault, epochBefore: before, epoch: answerB.epoch, polls: polls, splitBrainPolls: splitBrainPolls)
            }
            try await Task.sleep(for: poll)
        }
        throw BenchFailure("dc-b was not served as active within 120 s of blackholing dc-a's cluster")
    }

    /// Waits until dc-a serves and dc-b agrees on it, continuously for one lease (so at least
    /// one renewal happened); returns the epoch.
    private func steadyActive(layout: AgentLayout, client: HTTPClient) async throws -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(90)
        var steadySince: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            let a = await layout.active("dc-a", client: client)
            let b = await layout.active("dc-b", client: client)
            if let a, let b, a.servingHere, a.activeSite == "dc-a", b.activeSite == "dc-a", !b.servingHere, a.epoch == b.epoch {
                let since = steadySince ?? ContinuousClock.now
                steadySince = since
                if ContinuousClock.now - since >= timings.lease { return a.epoch }
            } else {
                steadySince = nil
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchFailure("dc-a was not served steadily as active within 90 s of starting the agents")
    }
}
