import Sites
import Testing
import TestSupport

@testable import Mirror

/// A pure simulation of sites, their topics and flows between them, built only from the mirror's
/// functions (naming, selection, provenance, resume, offset map). No Kafka: partitions are arrays.
struct SimulatedRecord: Equatable {
    var id: String
    var headers: [RecordHeader]
}

struct SimulatedWorld {
    var logs: [SiteID: [TopicPartition: [SimulatedRecord]]] = [:]
    var produced: [(site: SiteID, id: String)] = []

    mutating func produce(at site: SiteID, _ partition: TopicPartition, id: String) {
        logs[site, default: [:]][partition, default: []].append(SimulatedRecord(id: id, headers: [RecordHeader(key: "app", value: [7])]))
        produced.append((site, id))
    }

    func log(_ site: SiteID, _ partition: TopicPartition) -> [SimulatedRecord] { logs[site]?[partition] ?? [] }

    /// Every copy of record `id` anywhere: (site, partition).
    func copies(of id: String) -> [(SiteID, TopicPartition)] {
        logs.flatMap { site, partitions in
            partitions.flatMap { partition, records in records.filter { $0.id == id }.map { _ in (site, partition) } }
        }
    }

    var totalRecords: Int { logs.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
}

struct SimulatedFlow {
    let flow: FlowID
    let naming: TopicNaming
    let selection: TopicSelection
    var map: OffsetMap
    var cursors: [TopicPartition: Int] = [:]

    init(from source: SiteID, to target: SiteID, naming: TopicNaming) throws {
        flow = FlowID(from: source, to: target)
        self.naming = naming
        selection = try TopicSelection()
        map = OffsetMap(flow: flow)
    }

    /// Copies everything new; stops after `limit` copies to simulate a crash mid-batch.
    mutating func step(_ world: inout SimulatedWorld, limit: Int = .max) throws {
        var copied = 0
        let sourcePartitions = (world.logs[flow.source] ?? [:]).keys.sorted()
        for partition in sourcePartitions where selection.selects(partition.topic) {
            guard let targetTopic = naming.targetTopic(for: partition.topic, from: flow.source, to: flow.target) else { continue }
            let target = TopicPartition(targetTopic, partition.partition)
            let records = world.log(flow.source, partition)
            var next = try cursor(for: partition, target: target, world: world)
            while next < records.count {
                if copied == limit { return }
                let record = records[next]
                if Provenance.shouldCopy(recordHeaders: record.headers, to: flow.target) {
                    let headers = Provenance.headersForCopy(existing: record.headers, sourceSite: flow.source,
                                                            topic: partition.topic, partition: partition.partition, offset: Offset(Int64(next)))
                    let targetOffset = world.log(flow.target, target).count
                    world.logs[flow.target, default: [:]][target, default: []].append(SimulatedRecord(id: record.id, headers: headers))
                    try map.record(partition, sourceOffset: Offset(Int64(next)), targetOffset: Offset(Int64(targetOffset)))
                    copied += 1
                }
                next += 1
                cursors[partition] = next
                map.advanceSourceEnd(partition, to: Offset(Int64(next)))
            }
        }
    }

    /// The in-memory cursor, or after a crash the resume position read from the target partition.
    private mutating func cursor(for partition: TopicPartition, target: TopicPartition, world: SimulatedWorld) throws -> Int {
        if let cursor = cursors[partition] { return cursor }
        let targetLog = world.log(flow.target, target)
        let resume: Offset?
        switch naming.policy {
        case .prefix:
            resume = try ResumePosition.resumeOffset(afterLastTargetRecord: targetLog.last?.headers, sourceSite: flow.source,
                                                     sourceTopic: partition.topic, partition: partition.partition)
        case .identity:
            resume = try ResumePosition.resumeOffset(scanningNewestFirst: targetLog.reversed().map(\.headers), sourceSite: flow.source,
                                                     sourceTopic: partition.topic, partition: partition.partition)
        }
        // Nothing copied yet: skipped records below the first copy are re-examined, which is harmless.
        return Int(resume?.rawValue ?? 0)
    }

    /// Loses everything volatile, as a killed process does: the map falls back to what was last
    /// stored (`stored`) and is caught up from the target's headers.
    mutating func crash(world: SimulatedWorld, stored: [OffsetMapUpdate]) throws {
        cursors = [:]
        map = OffsetMap(flow: flow)
        for update in stored { try map.apply(update) }
        for partition in (world.logs[flow.source] ?? [:]).keys.sorted() {
            guard let targetTopic = naming.targetTopic(for: partition.topic, from: flow.source, to: flow.target) else { continue }
            let targetLog = world.log(flow.target, TopicPartition(targetTopic, partition.partition))
            let start = Int(map.catchUpStart(for: partition).rawValue)
            guard start < targetLog.count else { continue }
            try map.recordCopies(of: partition, inTargetRecords: (start..<targetLog.count).map { (Offset(Int64($0)), targetLog[$0].headers) })
        }
    }
}

@Suite("Active-active and ring simulation")
struct ActiveActiveSimulationTests {
    static let scenarios: [(NamingPolicy, [SiteID])] = [
        (.prefix, [dcA, dcB]), (.identity, [dcA, dcB]), (.prefix, [dcA, dcB, dcC]), (.identity, [dcA, dcB, dcC]),
    ]

    @Test("every record arrives exactly once at every other site and nothing circulates",
          arguments: 0..<scenarios.count)
    func exactlyOnceNoLoops(scenario: Int) throws {
        let (policy, sites) = Self.scenarios[scenario]
        let naming = TopicNaming(policy: policy, knownSites: Set(sites))
        // Two sites: A⇄B. Three sites: the ring A→B→C→A (one path between any two sites).
        var flows = try sites.indices.map { index in
            try SimulatedFlow(from: sites[index], to: sites[(index + 1) % sites.count], naming: naming)
        }
        if sites.count == 2 { flows = [flows[0], flows[1]] }

        var world = SimulatedWorld()
        var generator = SeededGenerator(seed: UInt64(scenario) + 11)
        let localTopics = ["orders", "payments", "payments.eu"]
        for round in 0..<8 {
            for site in sites {
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    let name = localTopics.randomElement(using: &generator) ?? "orders"
                    let partition = PartitionID(rawValue: Int32.random(in: 0...1, using: &generator)) ?? 0
                    world.produce(at: site, tp(name, partition), id: "\(site)-\(round)-\(world.produced.count)")
                }
                world.produce(at: site, tp("__consumer_offsets", 0), id: "internal-\(site)-\(round)")
            }
            for index in flows.indices {
                if round == 3 && index == 0 {
                    // Store the map, copy a few more, crash mid-batch: the stored map is behind.
                    let stored = flows[index].map.snapshot
                    try flows[index].step(&world, limit: 3)
                    try flows[index].crash(world: world, stored: stored)
                }
                try flows[index].step(&world)
            }
        }
        // Quiescence: more rounds without production move nothing, so nothing circulates.
        for index in flows.indices { try flows[index].step(&world) }
        for index in flows.indices { try flows[index].step(&world) }
        let settled = world.totalRecords
        for _ in 0..<3 { for index in flows.indices { try flows[index].step(&world) } }
        #expect(world.totalRecords == settled)

        for (birth, id) in world.produced {
            let copies = world.copies(of: id)
            if id.hasPrefix("internal-") {
                #expect(copies.count == 1, "internal record \(id) was mirrored")
                continue
            }
            for site in sites {
                let here = copies.filter { $0.0 == site }
                #expect(here.count == 1, "\(id) born at \(birth) is at \(site) \(here.count) times (\(policy))")
            }
            // Every copy says where the record was born.
            for (site, partition) in copies where site != birth {
                let record = world.log(site, partition).first { $0.id == id }
                #expect(record.map { Provenance.origin(in: $0.headers) } == .present(birth))
            }
        }
        for flow in flows { try checkTranslation(flow, world: world) }
    }

    /// The map of each flow agrees with a brute-force mapping read from the target's headers.
    func checkTranslation(_ flow: SimulatedFlow, world: SimulatedWorld) throws {
        for (partition, partitionMap) in flow.map.partitions {
            guard let targetTopic = flow.naming.targetTopic(for: partition.topic, from: flow.flow.source, to: flow.flow.target) else { continue }
            let targetLog = world.log(flow.flow.target, TopicPartition(targetTopic, partition.partition))
            var pairs: [(source: Int64, target: Int64)] = []
            for (offset, record) in targetLog.enumerated() {
                guard let position = Provenance.source(in: record.headers).value, position.site == flow.flow.source,
                      position.topic == partition.topic, position.partition == partition.partition else { continue }
                pairs.append((position.offset.rawValue, Int64(offset)))
            }
            let reference = BruteForceMap(pairs: pairs, accountedEnd: partitionMap.accountedEnd.rawValue)
            let sourceLength = Int64(world.log(flow.flow.source, partition).count)
            #expect(partitionMap.accountedEnd.rawValue == sourceLength)
            for c in 0...(sourceLength + 2) {
                #expect(partitionMap.translate(sourceOffset: Offset(c)) == reference.toTarget(c), "\(flow.flow) \(partition) source \(c)")
            }
            for c in 0...(Int64(targetLog.count) + 2) {
                #expect(partitionMap.translate(targetOffset: Offset(c)) == reference.toSource(c), "\(flow.flow) \(partition) target \(c)")
            }
        }
    }
}
