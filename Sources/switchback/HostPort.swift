import ArgumentParser

/// A `HOST:PORT` command-line value, checked when parsed so the error names the option.
struct HostPort: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":") else { return nil }
        let host = String(argument[..<colon])
        guard !host.isEmpty, let port = Int(argument[argument.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
    }

    static var defaultValueDescription: String { "HOST:PORT" }

    var description: String { "\(host):\(port)" }
}
