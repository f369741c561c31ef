import Crypto
import Foundation
import Synchronization

/// HMAC-SHA256 signatures of peer messages with the shared peer secret.
///
/// The signed text is `agent \n timestamp \n body`: the claimed sender, the sender's wall-clock
/// time in Unix seconds and the exact body bytes. A shared secret proves only that the sender
/// is one of the agents; the election additionally requires the signed sender to be the
/// message's `from`, so one agent's request cannot be replayed as another's.
public struct PeerSignature: Sendable {
    public static let agentHeader = "X-Switchback-Agent"
    public static let timestampHeader = "X-Switchback-Timestamp"
    public static let signatureHeader = "X-Switchback-Signature"

    private let secret: [UInt8]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// The hex signature of `body` sent by `agent` at `timestamp`.
    public func sign(agent: String, timestamp: Int64, body: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data("\(agent)\n\(timestamp)\n".utf8))
        mac.update(data: body)
        return Self.hex(mac.finalize().withUnsafeBytes { Array($0) })
    }

    /// Whether `signature` is the right one, compared in constant time.
    public func verify(signature: String, agent: String, timestamp: Int64, body: [UInt8]) -> Bool {
        guard let given = Self.bytes(fromHex: signature) else { return false }
        var data = Data("\(agent)\n\(timestamp)\n".utf8)
        data.append(contentsOf: body)
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: data, using: key)
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    static func bytes(fromHex text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count == 64 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(32)
        var index = 0
        while index + 1 < characters.count {
            guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Refuses peer requests outside the time window and signatures seen before within it.
public final class ReplayGuard: Sendable {
    /// How far a request's timestamp may be from this agent's clock.
    public let window: Int64
    private let seen = Mutex<[String: Int64]>([:])

    public init(windowSeconds: Int64 = 30) {
        window = windowSeconds
    }

    public enum Verdict: Equatable, Sendable {
        case fresh
        case stale(skewSeconds: Int64)
        case replayed
    }

    /// Records `signature` if it is fresh; a signature is remembered for the whole window.
    public func admit(signature: String, timestamp: Int64, now: Int64) -> Verdict {
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, skew.magnitude <= UInt64(window) else { return .stale(skewSeconds: overflow ? .max : skew) }
        return seen.withLock { seen in
            // Forget what can no longer pass the window check anyway; keeps memory bounded.
            if seen.count > 1024 { seen = seen.filter { now - $0.value <= window } }
            if seen[signature] != nil { return .replayed }
            seen[signature] = timestamp
            return .fresh
        }
    }
}
