/// Benchmark results as an aligned text table.
struct ThroughputTable {
    struct Row {
        var operation: String
        var recordSize: Int
        var records: Int
        var duration: Duration

        var seconds: Double {
            let (whole, fraction) = duration.components
            return Double(whole) + Double(fraction) / 1e18
        }

        var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
        /// Payload megabytes (10^6 bytes) per second; keys and headers are not counted.
        var megabytesPerSecond: Double { recordsPerSecond * Double(recordSize) / 1e6 }
    }

    var rows: [Row]

    var rendered: String {
        let header = ["operation", "record size", "records", "seconds", "records/s", "MB/s"]
        let body = rows.map { row in
            [
                row.operation, "\(row.recordSize) B", "\(row.records)", Self.format(row.seconds, decimals: 3),
                Self.format(row.recordsPerSecond, decimals: 0), Self.format(row.megabytesPerSecond, decimals: 1),
            ]
        }
        let widths = header.indices.map { column in
            ([header] + body).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { index, pair in
                let padding = String(repeating: " ", count: pair.1 - pair.0.count)
                return index == 0 ? pair.0 + padding : padding + pair.0
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + body.map(line)).joined(separator: "\n")
            + "\nMB/s counts record values only (10^6 bytes)."
    }

    /// Formats without Foundation: fixed decimals, rounded.
    static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard scaled < 9e18 else { return "-" }
        let integer = Int64(scaled)
        let whole = integer / Int64(scale)
        guard decimals > 0 else { return String(whole) }
        let fraction = String(integer % Int64(scale))
        return "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
