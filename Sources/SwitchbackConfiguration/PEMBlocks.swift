import Foundation

/// The `-----BEGIN …-----` blocks of a PEM text, checked for shape only: labels and base64.
///
/// Configuration checks that a certificate file holds certificates and a key file a key
/// without a TLS library; whether the DER inside parses, and whether the key belongs to the
/// certificate, is checked where TLS is set up (AgentServer).
struct PEMBlocks {
    struct Block {
        var label: String
        var der: Data
    }

    enum Problem: Error {
        /// A BEGIN line without its END line.
        case unterminated(label: String)
        /// The text between BEGIN and END is not base64.
        case notBase64(label: String)
    }

    let blocks: [Block]

    init(text: String) throws(Problem) {
        var blocks: [Block] = []
        var label: String?
        var body = ""
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if let open = label {
                if line == "-----END \(open)-----" {
                    guard let der = Data(base64Encoded: body), !der.isEmpty else { throw .notBase64(label: open) }
                    blocks.append(Block(label: open, der: der))
                    label = nil
                    body = ""
                } else if !line.contains(":") {
                    // Header lines (`Proc-Type: …` of legacy encrypted keys) are not base64.
                    body += line
                }
            } else if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 {
                label = String(line.dropFirst("-----BEGIN ".count).dropLast("-----".count))
            }
        }
        if let open = label { throw .unterminated(label: open) }
        self.blocks = blocks
    }

    func count(of label: String) -> Int { blocks.count { $0.label == label } }

    var labels: [String] { blocks.map(\.label) }
}
