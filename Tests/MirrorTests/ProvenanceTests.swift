import Sites
import Testing

@testable import Mirror

@Suite("Provenance headers")
struct ProvenanceTests {
    @Test("source position round-trips through its header value")
    func sourceRoundTrip() throws {
        let position = SourcePosition(site: dcA, topic: topic("dc-c.orders_v2-x"), partition: 12, offset: 9_223_372_036_854_775_807)
        #expect(position.description == "dc-a/dc-c.orders_v2-x/12/9223372036854775807")
        #expect(try SourcePosition(headerValue: position.headerValue) == position)
        #expect(try SourcePosition(headerValue: bytes("dc-b/orders/0/0")).offset == 0)
    }

    @Test("malformed source headers are errors, never crashes", arguments: [
        "", "dc-a", "dc-a/orders/3", "dc-a/orders/3/4/5", "dc-a//3/4", "DC-A/orders/3/4",
        "dc-a/orders/-3/4", "dc-a/orders/3/-4", "dc-a/orders/+3/4", "dc-a/orders/03/4", "dc-a/orders/3/04",
        "dc-a/orders/2147483648/4", "dc-a/orders/3/9223372036854775808", "dc-a/orders/3/99999999999999999999",
        "dc-a/orders/3/4 ", "dc-a/ord ers/3/4", "dc-a/orders/3/0x10", "dc-a/orders/3/", "/orders/3/4",
    ])
    func malformedSource(text: String) {
        #expect(throws: MirrorError.self) { try SourcePosition(headerValue: bytes(text)) }
        #expect(Provenance.source(in: [RecordHeader(key: Provenance.sourceKey, value: bytes(text))]).value == nil)
    }

    @Test("invalid UTF-8 is rejected")
    func invalidUTF8() {
        let value: [UInt8] = [0x64, 0x63, 0xFF, 0x2F]
        #expect(throws: MirrorError.self) { try SourcePosition(headerValue: value) }
        guard case .malformed = Provenance.origin(in: [RecordHeader(key: Provenance.originKey, value: value)]) else {
            Issue.record("expected malformed origin")
            return
        }
    }

    @Test("origin header states: absent, present, malformed, repeated")
    func originStates() {
        #expect(Provenance.origin(in: []) == .absent)
        #expect(Provenance.origin(in: [RecordHeader(key: "other", value: bytes("dc-a"))]) == .absent)
        #expect(Provenance.origin(in: [RecordHeader(key: Provenance.originKey, value: bytes("dc-a"))]) == .present(dcA))
        let same = [RecordHeader(key: Provenance.originKey, value: bytes("dc-a")), RecordHeader(key: Provenance.originKey, value: bytes("dc-a"))]
        #expect(Provenance.origin(in: same) == .present(dcA))
        for bad in [
            [RecordHeader(key: Provenance.originKey, value: nil)],
            [RecordHeader(key: Provenance.originKey, value: bytes("Not A Site"))],
            [RecordHeader(key: Provenance.originKey, value: bytes("dc-a")), RecordHeader(key: Provenance.originKey, value: bytes("dc-b"))],
        ] {
            guard case .malformed(let error) = Provenance.origin(in: bad) else {
                Issue.record("expected malformed for \(bad)")
                continue
            }
            #expect(error.code == .malformedHeader)
        }
    }

    @Test("a record born at the target is never copied there")
    func shouldCopy() {
        let bornAtB = [RecordHeader(key: Provenance.originKey, value: bytes("dc-b"))]
        #expect(!Provenance.shouldCopy(recordHeaders: bornAtB, to: dcB))
        #expect(Provenance.shouldCopy(recordHeaders: bornAtB, to: dcC))
        #expect(Provenance.shouldCopy(recordHeaders: [], to: dcB))
        // Malformed origin: not written by Switchback, so born at the source: copied.
        #expect(Provenance.shouldCopy(recordHeaders: [RecordHeader(key: Provenance.originKey, value: nil)], to: dcB))
    }

    @Test("copy headers: first hop sets origin and source, other headers keep their order")
    func firstHop() {
        let existing = [RecordHeader(key: "trace", value: bytes("t1")), RecordHeader(key: "k", value: nil)]
        let headers = Provenance.headersForCopy(existing: existing, sourceSite: dcA, topic: topic("orders"), partition: 2, offset: 41)
        #expect(headers == existing + [
            RecordHeader(key: Provenance.originKey, value: bytes("dc-a")),
            RecordHeader(key: Provenance.sourceKey, value: bytes("dc-a/orders/2/41")),
        ])
    }

    @Test("copy headers: a later hop keeps the origin and replaces the source")
    func laterHop() {
        let first = Provenance.headersForCopy(existing: [RecordHeader(key: "x", value: [1])], sourceSite: dcA,
                                              topic: topic("orders"), partition: 2, offset: 41)
        let second = Provenance.headersForCopy(existing: first, sourceSite: dcB, topic: topic("dc-a.orders"), partition: 2, offset: 7)
        #expect(second == [
            RecordHeader(key: "x", value: [1]),
            RecordHeader(key: Provenance.originKey, value: bytes("dc-a")),
            RecordHeader(key: Provenance.sourceKey, value: bytes("dc-b/dc-a.orders/2/7")),
        ])
        #expect(Provenance.origin(in: second) == .present(dcA))
        #expect(Provenance.source(in: second).value == SourcePosition(site: dcB, topic: topic("dc-a.orders"), partition: 2, offset: 7))
    }

    @Test("copy headers: a malformed origin is replaced by the source site, exactly one of each key")
    func malformedOriginReplaced() {
        let existing = [
            RecordHeader(key: Provenance.originKey, value: bytes("garbage!")),
            RecordHeader(key: Provenance.sourceKey, value: bytes("nonsense")),
            RecordHeader(key: Provenance.originKey, value: nil),
        ]
        let headers = Provenance.headersForCopy(existing: existing, sourceSite: dcA, topic: topic("t"), partition: 0, offset: 0)
        #expect(headers.filter { $0.key == Provenance.originKey }.count == 1)
        #expect(headers.filter { $0.key == Provenance.sourceKey }.count == 1)
        #expect(Provenance.origin(in: headers) == .present(dcA))
    }
}

@Suite("Resume position")
struct ResumePositionTests {
    func copied(_ site: SiteID, _ name: String, _ partition: PartitionID, _ offset: Offset) -> [RecordHeader] {
        Provenance.headersForCopy(existing: [], sourceSite: site, topic: topic(name), partition: partition, offset: offset)
    }

    @Test("resumes one past the source offset of the last target record")
    func resumeAfterLast() throws {
        let offset = try ResumePosition.resumeOffset(
            afterLastTargetRecord: copied(dcA, "orders", 3, 1_199), sourceSite: dcA, sourceTopic: topic("orders"), partition: 3)
        #expect(offset == 1_200)
    }

    @Test("an empty target partition means nothing was mirrored yet")
    func emptyTarget() throws {
        #expect(try ResumePosition.resumeOffset(afterLastTargetRecord: nil, sourceSite: dcA, sourceTopic: topic("orders"), partition: 0) == nil)
    }

    @Test("a last record that is not this flow's copy stops the flow with a reason")
    func refuseToGuess() {
        let cases: [([RecordHeader], String)] = [
            ([], "has no switchback-source header"),
            ([RecordHeader(key: Provenance.sourceKey, value: bytes("dc-a/orders/3"))], "malformed"),
            (copied(dcC, "orders", 3, 5), "a different source"),
            (copied(dcA, "orders", 4, 5), "a different source"),
            (copied(dcA, "payments", 3, 5), "a different source"),
            (copied(dcA, "orders", 3, Offset(Int64.max)), "has no successor"),
        ]
        for (headers, expected) in cases {
            do {
                _ = try ResumePosition.resumeOffset(afterLastTargetRecord: headers, sourceSite: dcA, sourceTopic: topic("orders"), partition: 3)
                Issue.record("resumed from \(headers)")
            } catch {
                #expect(error.code == .cannotResume)
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test("scanning resume passes over local and foreign records")
    func scanning() throws {
        let newestFirst: [[RecordHeader]] = [
            [],  // produced locally at the target
            copied(dcC, "orders", 3, 900),  // from another flow
            [RecordHeader(key: Provenance.sourceKey, value: bytes("garbage"))],
            copied(dcA, "orders", 3, 77),
            copied(dcA, "orders", 3, 76),
        ]
        #expect(try ResumePosition.resumeOffset(scanningNewestFirst: newestFirst, sourceSite: dcA, sourceTopic: topic("orders"), partition: 3) == 78)
        #expect(try ResumePosition.resumeOffset(scanningNewestFirst: newestFirst.prefix(3), sourceSite: dcA, sourceTopic: topic("orders"), partition: 3) == nil)
    }
}
