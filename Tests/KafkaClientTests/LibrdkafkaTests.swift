import Testing
@testable import KafkaClient

@Suite struct LibrdkafkaTests {
    @Test func reportsTheLinkedLibraryVersion() {
        let version = Librdkafka.version
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count >= 3, "librdkafka reported \(version)")
        // The packed number and the string describe the same release.
        #expect(Librdkafka.versionNumber >> 24 == parts[0])
        #expect((Librdkafka.versionNumber >> 16) & 0xff == parts[1])
    }
}
