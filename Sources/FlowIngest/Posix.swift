#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FlowCore

/// An error from a system call, with the operation and the path it concerned.
public struct IngestIOError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var code: Int32
    public init(_ operation: String, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }
    /// The cause first (`No space left on device: write /srv/j/journal-2026-01-05.jsonl`): the
    /// dashboard's status line may have room for little more.
    public var description: String {
        "\(String(cString: strerror(code))): \(operation) \(path)"
    }
}

public enum Posix {
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = path.withCString { Glibc_open($0, flags | O_CLOEXEC, mode) }
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw IngestIOError("open", path: path)
        }
    }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        while true {
            #if canImport(Darwin)
            let n = Darwin.read(fd, buffer.baseAddress, buffer.count)
            #else
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            #endif
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return -1 }
            throw IngestIOError("read", path: path)
        }
    }

    /// A `write(2)`: bytes written, or -1 with `errno` set.
    typealias WriteCall = (Int32, UnsafeRawPointer, Int) -> Int

    /// `write(2)` itself: what `writeAll` calls unless a test stands in a disk that takes part
    /// of a write, then refuses the rest.
    static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Darwin)
        return Darwin.write(fd, p, count)
        #else
        return Glibc.write(fd, p, count)
        #endif
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        try writeAll(fd, bytes, path: path, write: systemWrite)
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, write: WriteCall) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw IngestIOError("write", path: path)
            }
            // Nothing written and no error: asked again it would say the same, for ever (the
            // consumer thread would hang in the commit). Taken as an I/O error.
            if n == 0 { throw IngestIOError("write", path: path, code: EIO) }
            p += n
            left -= n
        }
    }

    /// Appends `bytes` whole to `fd` (opened to append), or not at all: a write refused part-way
    /// (a full disk) is cut back off the file, so the next append starts on a line of its own.
    public static func appendWhole(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        try appendWhole(fd, bytes, path: path, write: systemWrite)
    }

    static func appendWhole(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, write: WriteCall) throws {
        let start = lseek(fd, 0, SEEK_END)
        do { try writeAll(fd, bytes, path: path, write: write) } catch {
            if start >= 0 { _ = ftruncate(fd, start) }
            throw error
        }
    }

    static func dataSync(_ fd: Int32, path: String) throws {
        #if canImport(Darwin)
        let r = fsync(fd)
        #else
        let r = fdatasync(fd)
        #endif
        if r != 0 && errno != EINVAL { throw IngestIOError("fsync", path: path) }
    }

    static func syncDirectory(_ path: String) {
        guard let fd = try? open(path, O_RDONLY) else { return }
        _ = fsync(fd)
        sysClose(fd)
    }

    static func fileStatus(_ fd: Int32) -> stat? {
        var st = Glibc_stat_t()
        #if canImport(Darwin)
        return Darwin.fstat(fd, &st) == 0 ? st : nil
        #else
        return Glibc.fstat(fd, &st) == 0 ? st : nil
        #endif
    }

    static func pathStatus(_ path: String) -> stat? {
        var st = Glibc_stat_t()
        let r = path.withCString { Glibc_stat($0, &st) }
        return r == 0 ? st : nil
    }

    static func mkdirs(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw IngestIOError("mkdir", path: prefix)
            }
            prefix += "/"
        }
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw IngestIOError("opendir", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Today's local date as `YYYY-MM-DD` from the system time zone (TZ).
    static func localDayString() -> String {
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        return formatDay(year: Int(tmv.tm_year) + 1900, month: Int(tmv.tm_mon) + 1, day: Int(tmv.tm_mday))
    }

    static func formatDay(year: Int, month: Int, day: Int) -> String {
        RFC3339.pad(Int64(year), 4) + "-" + RFC3339.pad(Int64(month), 2) + "-" + RFC3339.pad(Int64(day), 2)
    }
}

// Name shims so the wrappers above can be called from inside `enum Posix` without recursion.
@inline(__always) private func Glibc_open(_ p: UnsafePointer<CChar>, _ f: Int32, _ m: mode_t) -> Int32 {
    #if canImport(Darwin)
    return Darwin.open(p, f, m)
    #else
    return Glibc.open(p, f, m)
    #endif
}
typealias Glibc_stat_t = stat
@inline(__always) private func Glibc_stat(_ p: UnsafePointer<CChar>, _ st: inout stat) -> Int32 {
    return fstatat(AT_FDCWD, p, &st, 0)
}

/// Civil date arithmetic on `YYYY-MM-DD` strings (proleptic Gregorian), for journal roll-over
/// and retention. No time zones involved: the caller decides what "today" is.
public enum DayString {
    /// Days since 1970-01-01, or nil when `s` is not `YYYY-MM-DD`.
    public static func dayNumber(_ s: some StringProtocol) -> Int? {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard u[i] >= 0x30 && u[i] <= 0x39 else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        return Int(RFC3339.daysFromCivil(Int64(y), Int64(m), Int64(d)))
    }

    /// `YYYY-MM-DD` for a day number (days since 1970-01-01).
    public static func string(dayNumber: Int) -> String {
        LocalDate(dayNumber: Int64(dayNumber)).description
    }
}

@inline(__always) func sysClose(_ fd: Int32) {
    #if canImport(Darwin)
    _ = Darwin.close(fd)
    #else
    _ = Glibc.close(fd)
    #endif
}
