import Sites
import Testing

@testable import Mirror

@Suite("Flow resume: where a restarted flow continues")
struct FlowResumeTests {
    let a = site("dc-a")
    let orders = topic("orders")

    func copyHeaders(_ offset: Int64, partition: PartitionID = 0, from source: SiteID? = nil) -> [RecordHeader] {
        Provenance.headersForCopy(existing: [RecordHeader(key: "app", value: [1])], sourceSite: source ?? a,
                                  topic: orders, partition: partition, offset: Offset(offset))
    }

    @Test("prefix: right after the last target record's source offset, the map notwithstanding")
    func prefixLastRecord() throws {
        var map = PartitionOffsetMap()
        try map.record(sourceOffset: 0, targetOffset: 0)
        let resume = try FlowResume.resumeOffset(
            policy: .prefix, scannedTargetHeaders: [copyHeaders(1), copyHeaders(5)], map: map,
            sourceSite: a, sourceTopic: orders, partition: 0)
        #expect(resume == 6)
    }

    @Test("prefix: a last record from another writer stops the flow")
    func prefixOtherWriter() {
        #expect(throws: MirrorError.self) {
            try FlowResume.resumeOffset(
                policy: .prefix, scannedTargetHeaders: [copyHeaders(5), [RecordHeader(key: "app", value: nil)]],
                map: PartitionOffsetMap(), sourceSite: a, sourceTopic: orders, partition: 0)
        }
        #expect(throws: MirrorError.self) {
            try FlowResume.resumeOffset(
                policy: .prefix, scannedTargetHeaders: [copyHeaders(5, partition: 1)],
                map: PartitionOffsetMap(), sourceSite: a, sourceTopic: orders, partition: 0)
        }
    }

    @Test("identity: the newest copy among local records decides")
    func identityScans() throws {
        let local: [RecordHeader] = [RecordHeader(key: "app", value: [2])]
        let resume = try FlowResume.resumeOffset(
            policy: .identity, scannedTargetHeaders: [copyHeaders(3), copyHeaders(4), local, local], map: PartitionOffsetMap(),
            sourceSite: a, sourceTopic: orders, partition: 0)
        #expect(resume == 5)
    }

    @Test("nothing scanned: the map decides, including a skipped tail it accounted for")
    func mapDecides() throws {
        var map = PartitionOffsetMap()
        #expect(try FlowResume.resumeOffset(policy: .prefix, scannedTargetHeaders: [], map: map,
                                            sourceSite: a, sourceTopic: orders, partition: 0) == nil)
        try map.record(sourceOffset: 10, targetOffset: 0)
        try map.record(sourceOffset: 11, targetOffset: 1)
        #expect(try FlowResume.resumeOffset(policy: .prefix, scannedTargetHeaders: [], map: map,
                                            sourceSite: a, sourceTopic: orders, partition: 0) == 12)
        map.advanceSourceEnd(to: 20)
        #expect(try FlowResume.resumeOffset(policy: .identity, scannedTargetHeaders: [], map: map,
                                            sourceSite: a, sourceTopic: orders, partition: 0) == 20)
    }
}
