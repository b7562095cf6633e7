// The seam between the ingest adapters and the core.
//
// FlowIngest never depends on the core's engine API: the executable adapts its engine to
// `LineConsumer`. Every source delivers into ONE consumer, always called from the hub's single
// consumer thread (the core has one owner), never concurrently.

/// Where a line came from: the source name and the line number within that source.
///
/// `source` examples: `"stdin"`, `"file:/var/feeds/beds.jsonl"`, `"tcp:127.0.0.1:5514#3 from 10.2.0.7:50122"`
/// (listener address, the connection's sequence number, the producer's address), `"journal:/x/journal-2026-01-05.jsonl"`.
/// `line` is 1-based; for TCP it is the producer's line number on that connection (the `AUTH` line
/// is not counted); for a followed file it restarts at 1 after a rotation or a truncation.
public struct LineOrigin: Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var line: Int
    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }
    public var description: String { "\(source):\(line)" }

    /// The source name of a file's lines (`FileSource`).
    public static func fileSource(_ path: String) -> String { filePrefix + path }
    private static let filePrefix = "file:"
    /// Whether the lines come from a file (`fileSource`).
    public var isFile: Bool { source.hasPrefix(Self.filePrefix) }

    /// The source name of a TCP connection's lines: the listener's source, the connection's
    /// number, and the producer's address when known (`tcp:0.0.0.0:5514#3 from 10.2.0.7:50122`):
    /// the log then says which producer sent a line.
    public static func connectionSource(listener: String, connection: Int, peer: String?) -> String {
        "\(listener)#\(connection)" + (peer.map { Self.peerMark + $0 } ?? "")
    }
    private static let peerMark = " from "

    /// The source in a few characters, where the width is short (the status line): a file's
    /// name without its directory (`beds.jsonl`), a TCP connection by its producer's address
    /// and its number (`10.2.0.7#3`), any other source as it is.
    public var shortSource: String {
        if source.hasPrefix(Self.filePrefix) {
            return String(source.dropFirst(Self.filePrefix.count).split(separator: "/", omittingEmptySubsequences: true).last ?? "")
        }
        if let mark = source.range(of: Self.peerMark), let hash = source[..<mark.lowerBound].lastIndex(of: "#") {
            var peer = source[mark.upperBound...]
            if let colon = peer.lastIndex(of: ":"), !peer.hasPrefix("[") || peer[..<colon].hasSuffix("]") {
                peer = peer[..<colon]   // without the producer's (ephemeral) port
            }
            return String(peer + source[hash..<mark.lowerBound])
        }
        return source
    }
}

/// What the consumer made of one line.
public enum LineVerdict: Sendable, Equatable {
    case accepted
    /// Accepted, with something its sender should know: a TCP sender is answered
    /// `ok N <note>` (an operator's silence that replaced a colleague's, docs/ingest.md).
    case acceptedNoting(String)
    case rejected(reason: String)

    public var isAccepted: Bool {
        if case .rejected = self { return false }
        return true
    }
}

/// The core, seen from ingest. Implemented by the executable around the engine.
///
/// All methods are called on the hub's consumer thread only (serially), so an implementation
/// needs no locking for state it does not share with other threads.
public protocol LineConsumer: AnyObject {
    /// Validate and apply one line (bytes exactly as received, without `\n` and trailing `\r`;
    /// possibly invalid UTF-8). Only `.accepted` lines are written to the journal.
    func consume(_ line: ArraySlice<UInt8>, origin: LineOrigin) -> LineVerdict

    /// A line the ingest layer rejected before the consumer saw it, so the consumer can count
    /// it and say where and why: `line_too_long`; and `journal_failed` for the lines refused
    /// while the journal cannot write and holds too much (said once per group of lines, for its
    /// first refused line, the reason giving how many and up to which line). Default: nothing.
    func rejectedBeforeConsume(origin: LineOrigin, reason: String)

    /// Called after each group of lines has been consumed and appended to the journal, just
    /// before the group's journal commit: what the consumer appends to the journal now is made
    /// durable in the same commit (the live engine's `evaluate` mark). Default: nothing.
    func batchWillCommit()

    /// Called after each group of lines has been consumed, journalled (durably, per policy) and
    /// acknowledged. A good moment to publish a dashboard snapshot. Default: nothing.
    func batchDidEnd()

    /// Called on the consumer thread every `IngestHub.Configuration.tickInterval` (when set),
    /// even when no input arrives. Default: nothing.
    func tick()

    /// Called on the consumer thread, after a commit, when the journal's backlog passes its
    /// bound (`held` true: its commits fail, a full disk; from now files, stdin and operator
    /// lines wait and TCP senders are refused, so no new line reaches the consumer); and at the
    /// start of the first round after a commit brings it back under (`held` false), before
    /// the lines that waited are taken in that round. Default: nothing.
    func journalHeld(_ held: Bool)
}

extension LineConsumer {
    public func rejectedBeforeConsume(origin: LineOrigin, reason: String) {}
    public func batchWillCommit() {}
    public func batchDidEnd() {}
    public func tick() {}
    public func journalHeld(_ held: Bool) {}
}

/// Reasons produced by the ingest layer itself (the core produces the contract's reasons).
public enum IngestReason {
    /// A line longer than the configured maximum; it is skipped up to the next `\n`.
    public static let lineTooLong = "line_too_long"
    /// The reason given for such a line: the code first (producers parse it), then its size and
    /// the limit, as `urgentflow check` says them (`line_too_long: the line is 70000 bytes, over
    /// the 65536-byte limit`). It said `line_too_long` alone.
    public static func lineTooLong(length: Int, limit: Int) -> String {
        "\(lineTooLong): the line is \(length) bytes, over the \(limit)-byte limit"
    }
    /// An empty line (nothing, or only spaces, tabs and `\r`: `FeedLine.isEmpty`): never passed
    /// to the consumer, never journalled.
    public static let emptyLine = "empty_line"
    /// TCP: the connection's input ended in the middle of a line; that partial line is dropped.
    public static let incompleteLine = "incomplete_line"
    /// The journal commit holding the line failed (a full disk), or the journal already holds
    /// too much it cannot write and the line was not taken: treat as not recorded, resend.
    public static let journalFailed = "journal_failed"
}

/// A consumer that accepts every line: `urgentflow record`-style ingest that only writes the
/// journal, and a handy default for tools and tests.
public final class AcceptAllConsumer: LineConsumer, @unchecked Sendable {
    public private(set) var accepted = 0
    public init() {}
    public func consume(_ line: ArraySlice<UInt8>, origin: LineOrigin) -> LineVerdict {
        accepted += 1
        return .accepted
    }
}
