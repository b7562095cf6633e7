#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per journal directory: `urgentflow run` and `record` hold an exclusive `flock` on
/// `<journal>/journal.lock` from before recovery until they exit. A second service started on the
/// same journal (a second terminal, a unit started twice) would otherwise recover a journal that
/// is still being written and then interleave its own lines with the first one's.
///
/// The lock belongs to the open file, so the kernel releases it when the process dies however it
/// dies (kill -9 included): a stale lock file never blocks a restart. The file holds the holder's
/// process id, for the error message only.
public final class JournalLock: @unchecked Sendable {
    public static let fileName = "journal.lock"
    private let fd: Int32
    public let path: String

    /// Takes the lock, creating the directory if needed; throws `JournalLockError.inUse` at once
    /// (no waiting) when another process holds it.
    public init(directory: String) throws {
        try Posix.mkdirs(directory)
        path = (directory.hasSuffix("/") ? directory : directory + "/") + Self.fileName
        fd = try Posix.open(path, O_RDWR | O_CREAT, 0o644)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            close(fd)
            if code == EWOULDBLOCK { throw JournalLockError.inUse(directory: directory, pid: holder) }
            throw IngestIOError("flock", path: path, code: code)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }   // releases the lock

    private static func readPID(_ fd: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buf[..<n].filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self))
    }
}

public enum JournalLockError: Error, CustomStringConvertible, Equatable {
    case inUse(directory: String, pid: Int32?)

    public var description: String {
        switch self {
        case let .inUse(directory, pid):
            return "the journal \(directory) is in use by another urgentflow process\(pid.map { " (pid \($0))" } ?? ""): "
                + "stop it first, or give this one another --journal"
        }
    }
}
