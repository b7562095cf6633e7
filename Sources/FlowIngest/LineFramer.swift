#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into lines: `\n` separated, one trailing `\r` stripped, bytes passed
/// through untouched (UTF-8 validity is the consumer's business).
///
/// A line longer than `maxLineLength` bytes (not counting `\n` and the stripped `\r`) is never
/// buffered beyond the limit: it is reported once as `.tooLong` with its full length when its
/// `\n` arrives, and framing resynchronises on the next line. Lines before it are unaffected.
///
/// Line numbers are 1-based and count every `\n`-terminated line, including empty and
/// over-long ones, so they match what an editor or `nl -ba` shows.
public struct LineFramer: Sendable {
    public enum Event {
        /// A complete line. The buffer is only valid during the callback.
        case line(UnsafeRawBufferPointer, number: Int)
        /// A line over the limit (length in bytes, before `\r` stripping) that was skipped.
        case tooLong(number: Int, length: Int)
    }

    public let maxLineLength: Int
    /// Number of lines framed so far (the number of the last line emitted).
    public private(set) var lineNumber: Int = 0

    private var carry: [UInt8] = []
    private var discarding = false
    private var discardLength = 0

    public init(maxLineLength: Int = 1 << 20) {
        precondition(maxLineLength > 0)
        self.maxLineLength = maxLineLength
    }

    /// Bytes of an unterminated line held so far (or being discarded).
    public var pendingByteCount: Int { discarding ? discardLength : carry.count }
    public var hasPendingLine: Bool { discarding || !carry.isEmpty }

    /// Feed a chunk; `emit` is called for every line completed by it, in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ emit: (Event) throws -> Void) rethrows {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        let end = chunk.count
        var pos = 0
        while pos < end {
            let remaining = end - pos
            guard let nl = memchr(base + pos, 0x0A, remaining) else {
                // No newline in the rest of the chunk: keep it (bounded) for the next feed.
                if discarding {
                    discardLength += remaining
                } else if carry.count + remaining > maxLineLength + 1 {
                    // +1: a trailing `\r` does not count towards the limit.
                    discarding = true
                    discardLength = carry.count + remaining
                    carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(start: base + pos, count: remaining))
                }
                return
            }
            let nlIndex = base.distance(to: UnsafeRawPointer(nl))
            let segLength = nlIndex - pos
            lineNumber += 1
            if discarding {
                let total = discardLength + segLength
                discarding = false
                discardLength = 0
                try emit(.tooLong(number: lineNumber, length: total))
            } else if carry.isEmpty {
                try emitLine(UnsafeRawBufferPointer(start: base + pos, count: segLength), emit)
            } else {
                if carry.count + segLength > maxLineLength + 1 {
                    let total = carry.count + segLength
                    carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
                    try emit(.tooLong(number: lineNumber, length: total))
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(start: base + pos, count: segLength))
                    defer { carry.removeAll(keepingCapacity: true) }
                    try carry.withUnsafeBytes { try emitLine($0, emit) }
                }
            }
            pos = nlIndex + 1
        }
    }

    public mutating func feed(_ bytes: [UInt8], _ emit: (Event) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { try feed($0, emit) }
    }

    /// End of stream: an unterminated last line is emitted as a line (files and stdin do this;
    /// TCP does not, see `dropPending`). Returns whether something was emitted.
    @discardableResult
    public mutating func finish(_ emit: (Event) throws -> Void) rethrows -> Bool {
        if discarding {
            lineNumber += 1
            let total = discardLength
            discarding = false
            discardLength = 0
            try emit(.tooLong(number: lineNumber, length: total))
            return true
        }
        guard !carry.isEmpty else { return false }
        lineNumber += 1
        defer { carry.removeAll(keepingCapacity: true) }
        try carry.withUnsafeBytes { try emitLine($0, emit) }
        return true
    }

    /// Forget an unterminated line (a dropped connection, a truncated file).
    /// Returns how many bytes were dropped.
    @discardableResult
    public mutating func dropPending() -> Int {
        let n = pendingByteCount
        carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
        discarding = false
        discardLength = 0
        return n
    }

    /// Drop any pending line and restart numbering at 1 (a new file after rotation/truncation).
    public mutating func reset() {
        dropPending()
        lineNumber = 0
    }

    /// Carries on numbering after line `n` (reading resumes just after it).
    public mutating func resume(afterLine n: Int) {
        dropPending()
        lineNumber = n
    }

    @inline(__always)
    private func emitLine(_ raw: UnsafeRawBufferPointer, _ emit: (Event) throws -> Void) rethrows {
        var n = raw.count
        if n > 0, raw[n - 1] == 0x0D { n -= 1 }
        if n > maxLineLength {
            try emit(.tooLong(number: lineNumber, length: raw.count))
        } else {
            try emit(.line(UnsafeRawBufferPointer(rebasing: raw[0..<n]), number: lineNumber))
        }
    }
}
