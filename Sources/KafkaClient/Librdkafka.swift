/// Facts about the librdkafka library this process is linked against.
public enum Librdkafka {
    /// The version string librdkafka reports at run time, for example `2.0.2`.
    public static var version: String {
        RDVersion.string
    }

    /// The version as librdkafka's packed integer (`0xMMmmrrpp`).
    public static var versionNumber: Int {
        RDVersion.number
    }

    /// Whether librdkafka offers the admin calls added after 2.0.2 (IncrementalAlterConfigs
    /// arrived in 2.2.0), so callers can prefer them when present.
    public static var hasIncrementalAlterConfigs: Bool {
        versionNumber >= 0x0202_0000
    }
}
