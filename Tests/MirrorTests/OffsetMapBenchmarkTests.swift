import Testing

@testable import Mirror

@Suite("Offset map benchmark function")
struct OffsetMapBenchmarkTests {
    @Test("reports one range per gap-separated run and the serialized sizes")
    func smallRun() throws {
        let result = try runOffsetMapBenchmark(records: 100_000, gapEvery: 1_000, lookups: 10_000)
        #expect(result.rangeCount == 100)
        #expect(result.topicRecords == 100)  // no trailing sourceEnd: the map ends on a copied record
        #expect(result.topicBytes > 100 * 26)
        #expect(result.cacheFileBytes > 100 * 20)
        #expect(result.description.contains("ranges:            100"))
        // Timing is reported, never asserted.
        print(result)
    }
}
