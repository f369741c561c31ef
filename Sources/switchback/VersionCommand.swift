import ArgumentParser
import KafkaClient

/// The release of Switchback this binary was built from.
enum SwitchbackVersion {
    static let current = "0.1.0-dev"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the versions of Switchback and of the librdkafka it is linked against."
    )

    func run() {
        print("switchback \(SwitchbackVersion.current)")
        print("librdkafka \(Librdkafka.version)")
    }
}
