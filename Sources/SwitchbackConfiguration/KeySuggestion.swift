/// "Did you mean" for unknown keys: the closest allowed key by edit distance, if close enough
/// to be a typo.
public enum KeySuggestion {
    public static func closest(to key: String, among allowed: [String]) -> String? {
        let scored = allowed.map { ($0, distance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored else { return nil }
        let limit = max(2, best.count / 3)
        return score <= limit ? best : nil
    }

    /// Levenshtein distance, counting `-` and `_` as the same character (a common slip).
    static func distance(_ a: String, _ b: String) -> Int {
        let left = Array(a.lowercased().map { $0 == "-" ? "_" : $0 })
        let right = Array(b.lowercased().map { $0 == "-" ? "_" : $0 })
        if left.isEmpty { return right.count }
        if right.isEmpty { return left.count }
        var previous = Array(0...right.count)
        var current = Array(repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let cost = left[i - 1] == right[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
