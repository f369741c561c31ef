import Foundation
import LocalKafka
import NIOCore
import NIOPosix
import Testing
import TestSupport

@Suite struct BrokerStartupTests {
    @Test func servesOnAFreePortAndReportsIt() async throws {
        try await withLocalKafka { broker in
            let parts = broker.bootstrapServers.split(separator: ":")
            #expect(parts.count == 2)
            let port = try #require(Int(parts[1]))
            #expect(port > 0)
            // A plain TCP connection is accepted.
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: String(parts[0]), port: port).get()
            try await channel.close()
        }
    }

    @Test func aSecondBrokerOnTheSameDataDirectoryIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let first = try await LocalKafkaBroker.start(configuration: BrokerConfiguration(dataDirectory: directory, port: 0))
            let running = Task { try await first.run() }
            defer { running.cancel() }
            await #expect(throws: BrokerError.self) {
                _ = try await LocalKafkaBroker.start(configuration: BrokerConfiguration(dataDirectory: directory, port: 0))
            }
        }
    }
}
