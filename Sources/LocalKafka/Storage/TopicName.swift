/// Kafka's topic naming rules: 1–249 characters from `[a-zA-Z0-9._-]`, not "." or "..".
///
/// The name becomes part of directory names (`<topic>-<partition>`), so these rules also keep
/// paths safe.
enum TopicName {
    static let maximumLength = 249

    static func validate(_ name: String) throws(StorageError) {
        guard !name.isEmpty else {
            throw StorageError(.invalidTopicName, "topic name is empty; use 1–249 characters from [a-zA-Z0-9._-]")
        }
        guard name != ".", name != ".." else {
            throw StorageError(.invalidTopicName, "topic name '\(name)' is not allowed; '.' and '..' are reserved")
        }
        guard name.utf8.count <= maximumLength else {
            throw StorageError(
                .invalidTopicName,
                "topic name of \(name.utf8.count) characters is too long; use at most \(maximumLength)"
            )
        }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard allowed else {
            throw StorageError(
                .invalidTopicName,
                "topic name '\(name)' contains characters outside [a-zA-Z0-9._-]; rename the topic"
            )
        }
    }
}
