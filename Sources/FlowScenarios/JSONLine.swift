import FlowCore

/// Hand-built JSON objects with a fixed key order: fast, and byte-for-byte deterministic.
/// Strings are quoted by the core's `JSONText.quote`.
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
        text += JSONText.quote(v)
    }

    mutating func int(_ k: String, _ v: Int) {
        key(k)
        text += String(v)
    }

    /// A number with one decimal place, from tenths (`723` -> `72.3`). Not `JSONText.number`:
    /// that drops a trailing `.0` (`72.0` -> `72`), which would change the scenario files' bytes.
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
}
