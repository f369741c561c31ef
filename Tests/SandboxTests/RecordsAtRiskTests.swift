import Foundation
import KafkaClient
import Logging
import Testing
import TestSupport

@testable import Sandbox

/// The records at risk at a site's failure: acknowledged there and not held by the site that
/// took over, counted from the ledger against the copy read back from a real cluster.
@Suite(.timeLimit(.minutes(2))) struct RecordsAtRiskTests {
    static func acknowledgement(_ site: String, partition: Int32, offset: Int64) -> Ledger.Acknowledgement {
        Ledger.Acknowledgement(site: site, topic: "orders", partition: partition, offset: offset)
    }

    @Test func acknowledgementsWithoutACopyAreAtRiskPerPartition() {
        let acknowledged = [
            "order-1": Self.acknowledgement("dc-a", partition: 0, offset: 0),
            "order-2": Self.acknowledgement("dc-a", partition: 1, offset: 0),
            "order-3": Self.acknowledgement("dc-a", partition: 0, offset: 1),
            "order-4": Self.acknowledgement("dc-a", partition: 0, offset: 2),
            "order-5": Self.acknowledgement("dc-a", partition: 2, offset: 0),
        ]
        let tally = RecordsAtRisk.tally(acknowledged: acknowledged, copied: ["order-1", "order-2", "order-99"])
        #expect(tally.count == 3)
        #expect(tally.byPartition == ["orders/0": 2, "orders/2": 1])
        #expect(RecordsAtRisk.tally(acknowledged: acknowledged, copied: Set(acknowledged.keys)).count == 0)
    }

    @Test func theLedgerGivesTheAcknowledgementsOfOneSite() {
        let ledger = Ledger(origin: .now)
        ledger.acknowledged("order-1", Self.acknowledgement("dc-a", partition: 0, offset: 0))
        ledger.acknowledged("order-2", Self.acknowledgement("dc-b", partition: 0, offset: 0))
        ledger.acknowledged("order-3", Self.acknowledgement("dc-a", partition: 1, offset: 0))
        #expect(Set(ledger.acknowledgements(at: "dc-a").keys) == ["order-1", "order-3"])
        #expect(Set(ledger.acknowledgements(at: "dc-b").keys) == ["order-2"])
    }

    /// The copy is read as an application reads it: records of an aborted transaction are not
    /// there, and partitions ending in a transaction marker (as the mirror's writes do) are read
    /// to their end.
    @Test func theCopyHoldsCommittedRecordsOnlyAndIsReadPastTrailingMarkers() async throws {
        try await withLocalKafka { broker in
            let topic = TopicName(LabLayout.copyTopic(of: "dc-a"))
            var logger = Logger(label: "records-at-risk-test")
            logger.logLevel = .critical
            let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers], logLevel: .error), logger: logger)
            for (_, result) in try await admin.createTopics([NewTopic(name: topic, partitions: 3)]) { try result.get() }
            try await withProducer(broker.bootstrapServers, configure: { $0.transactionalID = TransactionalID("at-risk-\(UUID())") }) { producer in
                try await producer.initTransactions()
                try producer.beginTransaction()
                for outcome in try await producer.send((1...4).map { ProducerRecord(topic: topic, partition: Partition(Int32($0 % 2)), key: "order-\($0)", value: "copied") }) {
                    _ = try outcome.get()
                }
                try await producer.commitTransaction()
                try producer.beginTransaction()
                _ = try await producer.send(ProducerRecord(topic: topic, partition: 0, key: "order-5", value: "aborted"))
                try await producer.abortTransaction()
            }
            let keys = try await TopicKeys.read(topic.rawValue, at: broker.bootstrapServers, logger: logger)
            #expect(keys == [0: ["order-2", "order-4"], 1: ["order-1", "order-3"], 2: []])
            let acknowledged = Dictionary(uniqueKeysWithValues: (1...6).map { ("order-\($0)", Self.acknowledgement("dc-a", partition: Int32($0 % 2), offset: Int64($0))) })
            let tally = RecordsAtRisk.tally(acknowledged: acknowledged, copied: keys.values.reduce(into: Set<String>()) { $0.formUnion($1) })
            #expect(tally.count == 2)
            #expect(tally.byPartition == ["orders/0": 1, "orders/1": 1])
            #expect(try await TopicKeys.read("dc-b.orders", at: broker.bootstrapServers, logger: logger).isEmpty)
        }
    }

    @Test func theSummaryShowsTheRecordsAtRiskAndWhatTheyAreOutOf() {
        var records = SandboxReportTests.records()
        records.atRiskAtFailure = 7
        records.atRisk = RecordsAtRisk(
            failedSite: "dc-a", newSite: "dc-b", acknowledgedAtFailedSite: 1_600, count: 7, byPartition: ["orders/0": 4, "orders/2": 3],
            reportedByAgent: 6, measuredAfterSeconds: 3.41)
        let report = SandboxReport(
            scenario: "failover-failback", rate: 200, failoverSeconds: 3.2, records: records, splitBrain: SandboxReportTests.whole, steps: [],
            passed: true, problems: [], directory: "/tmp/x")
        #expect(SandboxRunner.summary(report).contains(
            "records at risk at the failure: 7 (of 1600 acknowledged at dc-a, not at dc-b 3.4 s after the fault; agent dc-b reported 6) orders/0: 4, orders/2: 3"))
        records.atRisk = nil
        records.atRiskAtFailure = nil
        records.atRiskError = "reading dc-a.orders at 127.0.0.1:1 failed"
        #expect(SandboxRunner.atRiskSummary(records) == "not measured: reading dc-a.orders at 127.0.0.1:1 failed")
    }

    @Test func theReportCarriesTheRecordsAtRiskInItsJSON() throws {
        var records = SandboxReportTests.records()
        records.atRiskAtFailure = 7
        let report = SandboxReport(
            scenario: "failover-failback", rate: 200, failoverSeconds: 3.2, records: records, splitBrain: SandboxReportTests.whole, steps: [],
            passed: true, problems: [], directory: "/tmp/x")
        let object = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect((object["records"] as? [String: Any])?["atRiskAtFailure"] as? Int == 7)
    }
}
