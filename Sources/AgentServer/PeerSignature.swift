import Crypto
import Foundation
import Synchronization

/// HMAC-SHA256 signatures of peer messages with the shared peer secret.
///
/// The signed text is `sender \n recipient \n timestamp \n body`: the claimed sender, the agent
/// the message is addressed to, the sender's wall-clock time in Unix seconds and the exact body
/// bytes. A shared secret proves only that the sender is one of the agents; naming the recipient
/// means a message captured on its way to one agent (a vote for candidate A) is refused by every
/// other agent, and the election additionally requires the signed sender to be the message's
/// `from`, so one agent's message cannot be replayed as another's.
public struct PeerSignature: Sendable {
    public static let agentHeader = "X-Switchback-Agent"
    public static let recipientHeader = "X-Switchback-Recipient"
    public static let timestampHeader = "X-Switchback-Timestamp"
    public static let signatureHeader = "X-Switchback-Signature"

    private let secret: [UInt8]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// The hex signature (lower case) of `body` sent by `sender` to `recipient` at `timestamp`.
    public func sign(sender: String, recipient: String, timestamp: Int64, body: [UInt8]) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Self.signedText(sender, recipient, timestamp, body), using: key))
    }

    /// Whether `signature` (hex, either case) is the right one, compared in constant time.
    public func verify(signature: String, sender: String, recipient: String, timestamp: Int64, body: [UInt8]) -> Bool {
        guard let given = Self.bytes(fromHex: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Self.signedText(sender, recipient, timestamp, body), using: key)
    }

    /// The header lines that carry `body` from `sender` to `recipient`, signed now (or at `timestamp`).
    public func headers(sender: String, recipient: String, timestamp: Int64, body: [UInt8]) -> [(String, String)] {
        [
            (Self.agentHeader, sender), (Self.recipientHeader, recipient), (Self.timestampHeader, String(timestamp)),
            (Self.signatureHeader, sign(sender: sender, recipient: recipient, timestamp: timestamp, body: body)),
        ]
    }

    private static func signedText(_ sender: String, _ recipient: String, _ timestamp: Int64, _ body: [UInt8]) -> Data {
        // Agent names are [a-z0-9-] (SiteID), so the separators cannot occur inside them.
        var text = Data("\(sender)\n\(recipient)\n\(timestamp)\n".utf8)
        text.append(contentsOf: body)
        return text
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// The 32 bytes of a 64-digit hex signature, or `nil` when it is anything else.
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

/// Refuses peer requests outside the time window and messages seen before within it.
///
/// A message is known by its sender, its recipient and its signature's bytes — not the text of
/// the header, which can spell the same bytes in upper- or lower-case hex.
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

    /// Records the message if it is fresh; it is remembered for the whole window.
    public func admit(signature: String, sender: String, recipient: String, timestamp: Int64, now: Int64) -> Verdict {
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, skew.magnitude <= UInt64(window) else { return .stale(skewSeconds: overflow ? .max : skew) }
        let canonical = PeerSignature.bytes(fromHex: signature).map { PeerSignature.hex($0) } ?? signature.lowercased()
        let key = "\(sender)>\(recipient):\(canonical)"
        return seen.withLock { seen in
            // Forget what can no longer pass the window check anyway; keeps memory bounded.
            if seen.count > 1024 { seen = seen.filter { now - $0.value <= window } }
            if seen[key] != nil { return .replayed }
            seen[key] = timestamp
            return .fresh
        }
    }
}
