import Foundation
import Spawning
import NIOCore
import Testing
import TestSupport

@testable import KafkaWire

@Suite struct ProtocolVersionTableTests {
    @Test func everyApiHasARangeAndOnlyApiVersionsIsFlexible() throws {
        for api in ApiKey.allCases {
            let range = try #require(SupportedApiVersions.ranges[api], "\(api)")
            for version in range where api != .apiVersions {
                #expect(!SupportedApiVersions.isFlexible(api, version: version), "\(api) v\(version) must not be advertised")
            }
        }
        #expect(SupportedApiVersions.ranges[.apiVersions] == 0...4)
        #expect(!SupportedApiVersions.isFlexible(.apiVersions, version: 2))
        #expect(SupportedApiVersions.isFlexible(.apiVersions, version: 3))
        #expect(SupportedApiVersions.isFlexible(.metadata, version: 9))
        #expect(!SupportedApiVersions.isFlexible(.offsetDelete, version: 0))
    }

    @Test func recordBatchV2VersionsOnlyForProduceAndFetch() {
        #expect(SupportedApiVersions.ranges[.produce] == 3...8)
        #expect(SupportedApiVersions.ranges[.fetch] == 4...11)
    }

    /// The codecs were generated for exactly the advertised ranges.
    @Test func generatedCodecsMatchTheTable() {
        let generated: [ApiKey: [ClosedRange<Int16>]] = [
            .produce: [ProduceRequest.generatedVersions, ProduceResponse.generatedVersions],
            .fetch: [FetchRequest.generatedVersions, FetchResponse.generatedVersions],
            .listOffsets: [ListOffsetsRequest.generatedVersions, ListOffsetsResponse.generatedVersions],
            .metadata: [MetadataRequest.generatedVersions, MetadataResponse.generatedVersions],
            .offsetCommit: [OffsetCommitRequest.generatedVersions, OffsetCommitResponse.generatedVersions],
            .offsetFetch: [OffsetFetchRequest.generatedVersions, OffsetFetchResponse.generatedVersions],
            .findCoordinator: [FindCoordinatorRequest.generatedVersions, FindCoordinatorResponse.generatedVersions],
            .joinGroup: [JoinGroupRequest.generatedVersions, JoinGroupResponse.generatedVersions],
            .heartbeat: [HeartbeatRequest.generatedVersions, HeartbeatResponse.generatedVersions],
            .leaveGroup: [LeaveGroupRequest.generatedVersions, LeaveGroupResponse.generatedVersions],
            .syncGroup: [SyncGroupRequest.generatedVersions, SyncGroupResponse.generatedVersions],
            .describeGroups: [DescribeGroupsRequest.generatedVersions, DescribeGroupsResponse.generatedVersions],
            .listGroups: [ListGroupsRequest.generatedVersions, ListGroupsResponse.generatedVersions],
            .apiVersions: [ApiVersionsRequest.generatedVersions, ApiVersionsResponse.generatedVersions],
            .createTopics: [CreateTopicsRequest.generatedVersions, CreateTopicsResponse.generatedVersions],
            .deleteTopics: [DeleteTopicsRequest.generatedVersions, DeleteTopicsResponse.generatedVersions],
            .deleteRecords: [DeleteRecordsRequest.generatedVersions, DeleteRecordsResponse.generatedVersions],
            .initProducerId: [InitProducerIdRequest.generatedVersions, InitProducerIdResponse.generatedVersions],
            .addPartitionsToTxn: [AddPartitionsToTxnRequest.generatedVersions, AddPartitionsToTxnResponse.generatedVersions],
            .addOffsetsToTxn: [AddOffsetsToTxnRequest.generatedVersions, AddOffsetsToTxnResponse.generatedVersions],
            .endTxn: [EndTxnRequest.generatedVersions, EndTxnResponse.generatedVersions],
            .txnOffsetCommit: [TxnOffsetCommitRequest.generatedVersions, TxnOffsetCommitResponse.generatedVersions],
            .describeConfigs: [DescribeConfigsRequest.generatedVersions, DescribeConfigsResponse.generatedVersions],
            .alterConfigs: [AlterConfigsRequest.generatedVersions, AlterConfigsResponse.generatedVersions],
            .createPartitions: [CreatePartitionsRequest.generatedVersions, CreatePartitionsResponse.generatedVersions],
            .incrementalAlterConfigs: [
                IncrementalAlterConfigsRequest.generatedVersions, IncrementalAlterConfigsResponse.generatedVersions,
            ],
            .offsetDelete: [OffsetDeleteRequest.generatedVersions, OffsetDeleteResponse.generatedVersions],
        ]
        for api in ApiKey.allCases {
            let advertised = SupportedApiVersions.ranges[api].map { [$0, $0] }
            #expect(generated[api] == advertised, "\(api)")
        }
    }

    @Test func errorCodesCarryKafkaNamesAndRetriability() {
        #expect(KafkaErrorCode.notCoordinator.rawValue == 16)
        #expect(KafkaErrorCode.notCoordinator.description == "NOT_COORDINATOR (16)")
        #expect(KafkaErrorCode.notCoordinator.isRetriable)
        #expect(KafkaErrorCode.offsetNotAvailable.rawValue == 78)
        #expect(KafkaErrorCode.memberIdRequired.rawValue == 79)
        #expect(KafkaErrorCode.fencedInstanceId.rawValue == 82)
        #expect(KafkaErrorCode.groupSubscribedToTopic.rawValue == 86)
        #expect(KafkaErrorCode.invalidRecord.rawValue == 87)
        #expect(!KafkaErrorCode.topicAlreadyExists.isRetriable)
        #expect(KafkaErrorCode(rawValue: 999).description == "UNKNOWN_ERROR_CODE (999)")
        #expect(KafkaErrorCode.none.name == "NONE")
    }

    /// The committed generated files match what the generator makes from the schemas today.
    @Test(.enabled(if: generatorInputsAvailable, "needs python3 and the Kafka schemas"))
    func generatedFilesAreUpToDate() async throws {
        let generator = repositoryRoot.appendingPathComponent("script/generate-protocol.py").path
        let (termination, message) = try await SpawnedProcess.run("/usr/bin/env", ["python3", generator, "--check"])
        let status = termination.status
        #expect(status == 0, "run script/generate-protocol.py: \(message)")
    }
}

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private let generatorInputsAvailable: Bool = {
    let schemas = ProcessInfo.processInfo.environment["KAFKA_PROTOCOL_SCHEMAS"] ?? "/work/shared/reference/kafka-protocol"
    return FileManager.default.fileExists(atPath: schemas + "/ProduceRequest.json")
        && FileManager.default.fileExists(atPath: "/usr/bin/python3")
}()
