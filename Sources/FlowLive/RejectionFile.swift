import FlowCore
import FlowIngest
import Foundation

/// The live service's rejected-line counts, kept next to the journal (`rejections.json`).
///
/// Rejected lines are never journalled, so recovery cannot count them again: without this file a
/// restart showed `rejected 0`, hiding that a feed had been sending bad lines just before. The
/// counts (by feed, site and reason) and the instant counting began are written at most once a
/// second when they change, and at shutdown; on start they are added back to the engine. A file
/// that cannot be read is reported and counting starts again (it holds counts, not data).
public final class RejectionFile: @unchecked Sendable {
    public static let fileName = "rejections.json"
    public let path: String
    private var savedTotal = -1
    private var lastSave: UInt64 = 0
    /// When counting began (the first run on this journal that kept the file).
    public private(set) var since: EventTime

    struct Contents: Codable {
        var since: String
        var counts: [RejectionCount]
    }

    public init(directory: String, now: EventTime) {
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        since = now
    }

    /// Adds the saved counts to `engine`; returns a warning when the file exists but is unreadable.
    public func restore(into engine: FlowEngine) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            let c = try JSONDecoder().decode(Contents.self, from: data)
            engine.restoreRejections(c.counts)
            if let t = RFC3339.parse(c.since) { since = t }
            savedTotal = engine.rejectedTotal
            return nil
        } catch {
            return "\(path) unreadable (\(error)): rejected lines are counted from now"
        }
    }

    /// Writes the engine's counts if they changed and a second has passed (or `force`); returns
    /// whether it wrote them.
    @discardableResult
    public func save(_ engine: FlowEngine, force: Bool = false) throws -> Bool {
        guard engine.rejectedTotal != savedTotal else { return false }
        let now = WallClock.monotonicNanos()
        guard force || now &- lastSave >= 1_000_000_000 else { return false }
        lastSave = now
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try StateFile.replace(path, with: encoder.encode(Contents(since: RFC3339.format(since), counts: engine.rejectionCounts)))
        savedTotal = engine.rejectedTotal
        return true
    }
}
