import CRdKafka

/// The librdkafka version linked at run time.
enum RDVersion {
    static var string: String { String(cString: rd_kafka_version_str()) }
    static var number: Int { Int(rd_kafka_version()) }
}
