import FlowCore
import Foundation

/// Where a file has been read up to: the file (device and inode, so a file rotated or
/// replaced while the service was down is recognised) and the byte offset and line number just
/// after the last line the consumer has taken and the journal has committed.
public struct FilePosition: Codable, Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var offset: Int
    public var line: Int
    /// How many of the file's first bytes `head` covers (up to `headBytes`, never past `offset`),
    /// and their fingerprint (`Fingerprint.bytes`, as the keys'): a file that replaced this one while the service was down can take
    /// its freed inode number, and was read from the saved position as the same file (the
    /// operators' user test). Absent in files written before the eleventh session.
    public var headLength: Int? = nil
    public var head: UInt64? = nil

    /// The most of a file's start a position fingerprints.
    static let headBytes = 64

    /// The fingerprint of the first `length` bytes of the open file `fd`; nil when it has fewer.
    static func head(of fd: Int32, length: Int) -> UInt64? {
        guard length > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: length)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, 0) }
        guard n == length else { return nil }
        return bytes.withUnsafeBufferPointer { Fingerprint.bytes($0, 0, length) }
    }

    /// Whether the open file `fd` starts as the file this position was taken in did (true when
    /// the position has no fingerprint: nothing says otherwise).
    func sameStart(as fd: Int32) -> Bool {
        guard let headLength, let head, headLength > 0 else { return true }
        return Self.head(of: fd, length: headLength) == head
    }
}

/// The positions of the files read (followed or read once), kept next to the journal
/// (`file-positions.json`), so that a restart carries on each file after its last line instead
/// of reading it again from the start (which refused every old line again as a duplicate and
/// filled the rejected count after every restart).
///
/// Written after the journal commit that holds the lines (so never ahead of the journal), at
/// most once a second and at shutdown, by write-then-rename. Not fsynced: a position that is
/// behind after a crash only means some lines are read again and refused as duplicates, as
/// before; nothing is lost.
final class FilePositions: @unchecked Sendable {
    static let fileName = "file-positions.json"
    let path: String
    private let lock = Lock()
    private var positions: [String: FilePosition] = [:]
    private var dirty = false
    private var lastSave: UInt64 = 0
    /// Why the file could not be read at start (a warning, never fatal), if it could not.
    private(set) var loadProblem: String?

    init(directory: String) {
        path = (directory.hasSuffix("/") ? directory : directory + "/") + Self.fileName
        guard let data = FileManager.default.contents(atPath: path) else { return }
        do {
            positions = try JSONDecoder().decode([String: FilePosition].self, from: data)
        } catch {
            loadProblem = "\(path) unreadable (\(error)); files are read from their start"
        }
    }

    /// The absolute form of a file path (the key: the same file named from another directory).
    static func key(_ path: String) -> String {
        if path.hasPrefix("/") { return (path as NSString).standardizingPath }
        return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    func position(of path: String) -> FilePosition? { lock.withLock { positions[Self.key(path)] } }

    /// Records positions the journal now holds (consumer thread).
    func record(_ updates: [String: FilePosition]) {
        guard !updates.isEmpty else { return }
        lock.withLock {
            for (k, v) in updates where positions[k] != v { positions[k] = v; dirty = true }
        }
    }

    /// Writes the file if something changed and a second has passed since the last write (or
    /// `force`). Throws the I/O error; the caller reports it and carries on.
    func save(force: Bool = false) throws {
        let snapshot: [String: FilePosition]? = lock.withLock {
            let now = Posix.monotonicNanos()
            guard dirty, force || now &- lastSave >= 1_000_000_000 else { return nil }
            dirty = false
            lastSave = now
            return positions
        }
        guard let snapshot else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try StateFile.replace(path, with: encoder.encode(snapshot))
    }
}

/// Small state files kept next to the journal (file positions, rejected-line counts).
public enum StateFile {
    /// Replaces the file at `path` whole: written beside it, then renamed over it, so a reader
    /// (or a restart after a crash) sees the old contents or the new, never half of one. Not
    /// fsynced: these files hold what can be lost at a crash without losing data.
    public static func replace(_ path: String, with data: Data) throws {
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw IngestIOError("write", path: tmp)
        }
        guard rename(tmp, path) == 0 else { throw IngestIOError("rename", path: path) }
    }
}
