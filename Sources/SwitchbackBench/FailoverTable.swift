import SwitchbackConfiguration

/// Failover times per timing set: percentiles, extremes and split-brain polls.
struct FailoverTable {
    struct Row {
        var timings: AgentTimings
        var times: [Duration] = []
        var failures = 0
        var splitBrainPolls = 0
    }

    var rows: [Row]

    var rendered: String {
        let header = ["timings", "probe/down_after/lease", "trials", "failed", "p50 ms", "p99 ms", "min ms", "max ms", "split-brain polls"]
        let lines = rows.map { row -> [String] in
            let sorted = row.times.sorted()
            return [
                row.timings.rawValue,
                row.timings.triple,
                String(row.times.count + row.failures), String(row.failures),
                Self.percentile(sorted, 0.50).map(Self.milliseconds) ?? "-",
                Self.percentile(sorted, 0.99).map(Self.milliseconds) ?? "-",
                sorted.first.map(Self.milliseconds) ?? "-",
                sorted.last.map(Self.milliseconds) ?? "-",
                String(row.splitBrainPolls),
            ]
        }
        return TextTable(header: header, rows: lines).rendered
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Duration], _ fraction: Double) -> Duration? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func milliseconds(_ duration: Duration) -> String {
        let components = duration.components
        return TextTable.format(Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15, decimals: 0)
    }
}
