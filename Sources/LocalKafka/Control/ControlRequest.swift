import KafkaWire

/// One call to the broker's control endpoint, parsed from an HTTP method, path and query.
///
/// The endpoint is for tests and the sandbox on loopback: `curl -X POST
/// 'http://127.0.0.1:PORT/faults/fail?api=produce&error=6&count=3'`.
enum ControlRequest: Equatable {
    case health
    case listFaults
    case inject(Fault)
    case heal
    /// Run the log cleaner on a compacted topic now.
    case compact(topic: String)

    /// Why a control call was refused; becomes a 4xx answer naming the problem and the fix.
    struct Rejection: Error, Equatable {
        let status: Int
        let message: String
    }

    static let usage = """
        GET  /healthz
        GET  /faults
        POST /faults/blackhole                      drop open connections, answer nothing until healed
        POST /faults/refuse                         close new connections at once
        POST /faults/latency?ms=N[&api=NAME]        delay requests (all, or of one API)
        POST /faults/fail?api=NAME&error=CODE&count=N
                                                    answer the next N requests of an API with an error
        POST /faults/heal                           remove every fault
        POST /compact?topic=T                       compact topic T's closed segments now
        """

    init(method: String, uri: String) throws(Rejection) {
        let (path, query) = Self.split(uri)
        switch (method, path) {
        case ("GET", "/healthz"):
            self = .health
        case ("GET", "/faults"):
            self = .listFaults
        case ("POST", "/faults/blackhole"):
            self = .inject(.blackhole)
        case ("POST", "/faults/refuse"):
            self = .inject(.refuse)
        case ("POST", "/faults/heal"):
            self = .heal
        case ("POST", "/faults/latency"):
            let milliseconds = try Self.integer("ms", in: query, range: 0...600_000)
            let api = try query["api"].map { name throws(Rejection) in try Self.api(named: name) }
            self = .inject(.latency(.milliseconds(milliseconds), api: api))
        case ("POST", "/faults/fail"):
            guard let apiName = query["api"] else {
                throw Rejection(status: 400, message: "missing query parameter 'api' (for example api=produce)")
            }
            let api = try Self.api(named: apiName)
            guard let errorName = query["error"] else {
                throw Rejection(status: 400, message: "missing query parameter 'error' (a Kafka error code number, for example error=6)")
            }
            let error = try Self.errorCode(errorName)
            let count = try Self.integer("count", in: query, range: 1...1_000_000, default: 1)
            self = .inject(.failRequests(api: api, error: error, count: count))
        case ("POST", "/compact"):
            guard let topic = query["topic"], !topic.isEmpty else {
                throw Rejection(status: 400, message: "missing query parameter 'topic' (the compacted topic to clean)")
            }
            self = .compact(topic: topic)
        case (_, "/healthz"), (_, "/faults"), (_, "/compact"), (_, "/faults/blackhole"), (_, "/faults/refuse"),
             (_, "/faults/heal"), (_, "/faults/latency"), (_, "/faults/fail"):
            throw Rejection(status: 405, message: "method \(method) not allowed on \(path)\n\(Self.usage)")
        default:
            throw Rejection(status: 404, message: "no control endpoint at \(path)\n\(Self.usage)")
        }
    }

    private static func split(_ uri: String) -> (path: String, query: [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(keyValue[0])] = keyValue.count == 2 ? String(keyValue[1]) : ""
            }
        }
        return (String(parts[0]), query)
    }

    private static func integer(
        _ key: String, in query: [String: String], range: ClosedRange<Int>, default defaultValue: Int? = nil
    ) throws(Rejection) -> Int {
        guard let text = query[key] else {
            if let defaultValue { return defaultValue }
            throw Rejection(status: 400, message: "missing query parameter '\(key)' (an integer in \(range))")
        }
        guard let value = Int(text), range.contains(value) else {
            throw Rejection(status: 400, message: "query parameter '\(key)' is '\(text)'; expected an integer in \(range)")
        }
        return value
    }

    private static func api(named name: String) throws(Rejection) -> ApiKey {
        let wanted = name.lowercased()
        if let key = ApiKey.allCases.first(where: { $0.name.lowercased() == wanted }) {
            return key
        }
        if let raw = Int16(name), let key = ApiKey(rawValue: raw) {
            return key
        }
        let known = ApiKey.allCases.map { "\($0)" }.joined(separator: ", ")
        throw Rejection(status: 400, message: "unknown API '\(name)'; use one of: \(known)")
    }

    private static func errorCode(_ text: String) throws(Rejection) -> KafkaErrorCode {
        guard let raw = Int16(text) else {
            throw Rejection(status: 400, message: "error '\(text)' is not a Kafka error code number (for example 6 for NOT_LEADER_OR_FOLLOWER)")
        }
        return KafkaErrorCode(rawValue: raw)
    }
}
