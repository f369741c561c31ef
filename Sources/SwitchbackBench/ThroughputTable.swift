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
        let table = TextTable(
            header: ["operation", "record size", "records", "seconds", "records/s", "MB/s"],
            rows: rows.map { row in
                [
                    row.operation, "\(row.recordSize) B", "\(row.records)", TextTable.format(row.seconds, decimals: 3),
                    TextTable.format(row.recordsPerSecond, decimals: 0), TextTable.format(row.megabytesPerSecond, decimals: 1),
                ]
            }
        )
        return table.rendered + "\nMB/s counts record values only (10^6 bytes)."
    }
}
