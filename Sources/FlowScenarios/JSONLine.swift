/// Hand-built JSON objects with a fixed key order: fast, and byte-for-byte deterministic.
struct JSONLine {
    private(set) var text: String
    private var first = true

    init() {
        text = "{"
        text.reserveCapacity(320)
    }

    @inline(__always) private mutating func key(_ k: String) {
        if first { first = false } else { text += "," }
        text += "\""
        text += k
        text += "\":"
    }

    mutating func str(_ k: String, _ v: String) {
        key(k)
        JSONLine.appendEscaped(v, to: &text)
    }

    mutating func int(_ k: String, _ v: Int) {
        key(k)
        text += String(v)
    }

    /// A number with one decimal place, from tenths (`723` -> `72.3`).
    mutating func tenths(_ k: String, _ v: Int) {
        key(k)
        text += String(v / 10)
        text += "."
        text += String(v % 10)
    }

    mutating func close() -> String {
        text += "}"
        return text
    }

    /// JSON string escaping: quote, backslash and control characters; everything else is
    /// written as UTF-8.
    static func appendEscaped(_ s: String, to out: inout String) {
        out += "\""
        var needs = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { needs = true; break }
        if !needs {
            out += s
        } else {
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if u.value < 0x20 {
                        let hex = String(u.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(u)
                    }
                }
            }
        }
        out += "\""
    }
}
