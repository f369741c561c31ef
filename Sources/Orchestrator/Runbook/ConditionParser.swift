/// A recursive-descent parser for ``Condition`` over the characters of one string.
struct ConditionParser {
    private enum Token: Equatable {
        case word(String)  // a keyword, number, true/false or reference
        case text(String)  // a quoted literal
        case symbol(String)  // ( ) == != < <= > >=
    }

    private let source: String
    private var tokens: [(token: Token, position: Int)] = []
    private var index = 0
    private var tokenizeError: ConditionError?

    init(_ source: String) {
        self.source = source
        do throws(ConditionError) { tokens = try Self.tokenize(source) } catch { tokenizeError = error }
    }

    mutating func parseAll() throws(ConditionError) -> Condition {
        if let tokenizeError { throw tokenizeError }
        guard !tokens.isEmpty else { throw ConditionError("the expression is empty; write a condition such as steps.probe.healthy == true") }
        let expression = try parseOr()
        if index < tokens.count { throw unexpected("an operator (and, or, ==, …) or the end") }
        return expression
    }

    private mutating func parseOr() throws(ConditionError) -> Condition {
        var left = try parseAnd()
        while accept(.word("or")) { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ConditionError) -> Condition {
        var left = try parseNot()
        while accept(.word("and")) { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(ConditionError) -> Condition {
        if accept(.word("not")) { return .not(try parseNot()) }
        let left = try parseOperand()
        for comparison in Condition.Comparison.allCases where accept(.symbol(comparison.rawValue)) {
            return .compare(left, comparison, try parseOperand())
        }
        return left
    }

    private mutating func parseOperand() throws(ConditionError) -> Condition {
        guard index < tokens.count else { throw ConditionError("'\(source)' ends where a value was expected") }
        let (token, _) = tokens[index]
        switch token {
        case .symbol("("):
            index += 1
            let inner = try parseOr()
            guard accept(.symbol(")")) else { throw unexpected("')'") }
            return inner
        case .text(let text):
            index += 1
            return .literal(text)
        case .word(let word) where ["and", "or", "not"].contains(word):
            throw unexpected("a value")
        case .word(let word):
            index += 1
            if word == "true" || word == "false" || Double(word) != nil { return .literal(word) }
            return .reference(try reference(word))
        case .symbol:
            throw unexpected("a value")
        }
    }

    private func reference(_ word: String) throws(ConditionError) -> Condition.Reference {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let valid = parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } }
        switch (parts.first, parts.count) {
        case ("params", 2) where valid: return .parameter(parts[1])
        case ("steps", 3) where valid: return .output(step: parts[1], key: parts[2])
        case ("result", 2) where valid: return .result(parts[1])
        default:
            throw ConditionError(
                "'\(word)' is not a value: write params.NAME, steps.STEP.KEY, result.KEY, a number, true, false or a quoted 'text'")
        }
    }

    private mutating func accept(_ token: Token) -> Bool {
        guard index < tokens.count, tokens[index].token == token else { return false }
        index += 1
        return true
    }

    private func unexpected(_ expected: String) -> ConditionError {
        guard index < tokens.count else { return ConditionError("'\(source)' ends where \(expected) was expected") }
        return ConditionError("'\(source)': expected \(expected) at character \(tokens[index].position + 1)")
    }

    private static func tokenize(_ source: String) throws(ConditionError) -> [(token: Token, position: Int)] {
        let characters = Array(source)
        var tokens: [(token: Token, position: Int)] = []
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace {
                i += 1
            } else if c == "'" || c == "\"" {
                guard let end = characters[(i + 1)...].firstIndex(of: c) else {
                    throw ConditionError("'\(source)': the quote at character \(i + 1) is never closed")
                }
                tokens.append((.text(String(characters[(i + 1)..<end])), i))
                i = end + 1
            } else if c == "(" || c == ")" {
                tokens.append((.symbol(String(c)), i))
                i += 1
            } else if "=!<>".contains(c) {
                let pair = i + 1 < characters.count && characters[i + 1] == "=" ? String([c, "="]) : String(c)
                guard Condition.Comparison(rawValue: pair) != nil else {
                    throw ConditionError("'\(source)': '\(pair)' at character \(i + 1) is not an operator; use ==, !=, <, <=, > or >=")
                }
                tokens.append((.symbol(pair), i))
                i += pair.count
            } else if c.isLetter || c.isNumber || "._-+".contains(c) {
                let start = i
                while i < characters.count, characters[i].isLetter || characters[i].isNumber || "._-+".contains(characters[i]) { i += 1 }
                tokens.append((.word(String(characters[start..<i])), start))
            } else {
                throw ConditionError("'\(source)': '\(c)' at character \(i + 1) is not allowed in a condition")
            }
        }
        return tokens
    }
}
