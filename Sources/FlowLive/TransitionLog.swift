import FlowCore
import FlowIngest
import FlowNotify
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - The alert log

/// Append-only JSON Lines of alert transitions (`AlertTransition.jsonLine`, the headless replay's
/// format). Never fsynced: everything in it can be derived again from the journal, and on start
/// it is reconciled with the transitions recovery derived (see `reconcile`).
public final class TransitionLog: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    public private(set) var written = 0

    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LiveError("cannot open the alert log \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { close(fd) } }

    public func append(_ transitions: [AlertTransition]) {
        guard !transitions.isEmpty else { return }
        var text = ""
        for t in transitions { text += t.jsonLine; text += "\n" }
        do {
            // Whole or not at all: the lines not written are appended by the next start's
            // reconciliation with the journal.
            try Array(text.utf8).withUnsafeBytes { try Posix.appendWhole(fd, $0, path: path) }
        } catch {
            Log.warn("alert log \(path): write failed: \(error) (\(transitions.count) transitions; a restart writes them from the journal)")
            return
        }
        written += transitions.count
    }

    /// The complete lines at the end of the file (at most `maxBytes` read). A half-written last
    /// line (a crash during a write) is cut off the file first.
    public func tailLines(maxBytes: Int) -> [String] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return [] }
        let size = Int(st.st_size)
        guard size > 0 else { return [] }
        let start = max(0, size - maxBytes)
        var buf = [UInt8](repeating: 0, count: size - start)
        let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard got == buf.count else { return [] }
        if buf.last != 0x0A {
            let keep = (buf.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            Log.warn("alert log \(path): half-written last line (\(buf.count - keep) bytes) removed; it is written again from the journal")
            _ = ftruncate(fd, off_t(start + keep))
            buf.removeSubrange(keep...)
        }
        var lines = buf.split(separator: 0x0A, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        if start > 0, !lines.isEmpty { lines.removeFirst() }   // may be cut
        return lines
    }

    /// Appends the recovered transitions the log does not have yet. Every line of the log was
    /// written after the journal held what caused it, so the log ends with a prefix of
    /// `recovered` (all of it after a clean stop, less after a crash): find the longest such
    /// prefix and append the rest. If there is no overlap (the journal was cut by retention),
    /// only transitions later than the log's last line are appended.
    @discardableResult
    public func reconcile(with recovered: [AlertTransition]) -> (alreadyLogged: Int, appended: Int) {
        let r = recovered.map(\.jsonLine)
        let a = tailLines(maxBytes: max(1 << 20, r.count * 600))
        var m = 0
        if let last = a.last, !r.isEmpty {
            var j = min(r.count, a.count) - 1
            while j >= 0 {
                if r[j] == last, a[(a.count - j - 1)...].elementsEqual(r[0...j]) { m = j + 1; break }
                j -= 1
            }
            if m == 0, let lastAt = Self.at(of: last) {
                m = recovered.firstIndex { $0.at > lastAt } ?? recovered.count
                if m > 0 { Log.warn("alert log \(path): no overlap with the journal's transitions; appending those after \(RFC3339.format(lastAt))") }
            }
        }
        append(Array(recovered[m...]))
        return (m, recovered.count - m)
    }

    public static func at(of line: String) -> EventTime? {
        guard line.hasPrefix("{\"at\":\"") else { return nil }
        let rest = line.dropFirst(7)
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return RFC3339.parse(String(rest[..<end]))
    }
}
