import CRdKafka
import Logging

/// Owns an `rd_kafka_mock_cluster_t` and the `rd_kafka_t` it lives on.
final class RDMockCluster: @unchecked Sendable {  // the mock cluster locks internally.
    private let client: RDClient
    private let cluster: OpaquePointer
    let bootstraps: String

    init(brokers: Int32, logger: Logger) throws(KafkaError) {
        // The handle exists only to host the mock cluster; errors-only logging keeps it quiet.
        client = try RDClient(kind: .producer, properties: ["log_level": "3"], logger: logger)
        guard let created = rd_kafka_mock_cluster_new(client.handle, brokers) else {
            throw KafkaError(
                code: .failed, message: "starting the librdkafka mock cluster failed; check that loopback TCP ports are available.",
                isRetriable: false)
        }
        cluster = created
        bootstraps = String(cString: rd_kafka_mock_cluster_bootstraps(created))
        client.startPolling()
    }

    deinit {
        // Destroying joins the mock cluster's thread; keep that off the cooperative pool.
        let owned = RDOwnedMockCluster(cluster: cluster, client: client)
        RDBlocking.shared.async { owned.destroy() }
    }

    func createTopic(_ topic: String, partitions: Int32, replicationFactor: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_topic_create(cluster, topic, partitions, replicationFactor),
            "creating mock topic \(topic)", topic)
    }

    func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let result = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        try check(result, "setting mock broker \(id) \(up ? "up" : "down")", nil)
    }

    func setLeader(_ topic: String, _ partition: Int32, _ leader: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster, topic, partition, leader),
            "moving the leader of \(topic)[\(partition)] to broker \(leader)", topic)
    }

    func pushRequestErrors(apiKey: Int16, _ codes: [Int32]) {
        let errors = codes.map { rd_kafka_resp_err_t(rawValue: $0) }
        errors.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
        }
    }

    func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }

    private func check(_ result: rd_kafka_resp_err_t, _ what: String, _ topic: String?) throws(KafkaError) {
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDErrorCode.error(result, while: what, topic: topic.map { TopicName($0) })
        }
    }
}

/// A mock cluster on its way to being destroyed, before the handle it lives on.
private struct RDOwnedMockCluster: @unchecked Sendable {  // moved once to the destroying thread.
    let cluster: OpaquePointer
    let client: RDClient

    func destroy() {
        rd_kafka_mock_cluster_destroy(cluster)
        client.requestStop()
    }
}
