import ArgumentParser
import FlowCore
import FlowIngest
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func readText(_ path: String) throws -> String {
    // The reason in words: Foundation's error printed as "Error Domain=NSCocoaErrorDomain
    // Code=260 ... UserInfo={...}" (a folder given for a file: Code=256, "Is a directory" deep inside).
    guard access(path, R_OK) == 0 else { throw CLIError(String(cString: strerror(errno))) }
    if isDirectory(path) { throw CLIError(String(cString: strerror(EISDIR))) }
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw CLIError("not UTF-8 text, or it could not be read")
    }
}

func writeText(_ path: String, _ text: String) throws {
    // As `readText`: the reason in words, not Foundation's error (Code=4 for a missing folder,
    // Code=512 for a folder in the file's place).
    try checkWritable(path)
    let folder = (path as NSString).deletingLastPathComponent
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw CLIError(access(folder.isEmpty ? "." : folder, W_OK) == 0 ? "it could not be written" : String(cString: strerror(EACCES)))
    }
}

/// Whether a file can be written at `path` (its folder exists, and no folder is in its place):
/// asked before a long replay whose end writes it, as well as when it is written.
func checkWritable(_ path: String) throws {
    if isDirectory(path) { throw CLIError(String(cString: strerror(EISDIR))) }
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty, !isDirectory(folder) { throw CLIError("the folder \(folder) does not exist") }
}

func isDirectory(_ path: String) -> Bool {
    var d: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
}

/// Streams the lines of a file (or `-` for stdin) through the ingest framer, without loading it
/// whole: memory stays bounded for any file size. A line over `maxLineLength` bytes is not
/// buffered; `tooLong` is told its length and reading goes on.
enum LineReader {
    static let maxLineLength = 1 << 20

    static func forEachLine(path: String, maxLineLength: Int = maxLineLength, tooLong: (Int) throws -> Void = { _ in },
                            _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { if fd != 0 { close(fd) } }
        var framer = LineFramer(maxLineLength: maxLineLength)
        func emit(_ event: LineFramer.Event) throws {
            switch event {
            case .line(let raw, _): try body(raw.bindMemory(to: UInt8.self))
            case .tooLong(_, let length): try tooLong(length)
            }
        }
        // 64 KB: what is read is framed and decoded while still in the cache. With 1 MB reads a
        // replay without rules took 1.5% longer (mapping the file, 2 MB at a time, did no better).
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try framer.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n]), emit) }
        }
        try framer.finish(emit)
    }
}

/// Buffered writes to a file descriptor (stdout for headless replay).
final class BufferedOutput {
    let fd: Int32
    var buffer: [UInt8] = []
    init(fd: Int32) { self.fd = fd; buffer.reserveCapacity(1 << 16) }
    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }
    func flush() {
        var off = 0
        while off < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { if errno == EINTR { continue }; break }
            off += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

enum FileOutput {
    static func stderr(_ s: String) {
        var s = s
        s.withUTF8 { p in _ = Glibc.write(2, p.baseAddress, p.count) }
    }
}

/// A journal that is there, for the commands that read one (`recover`, `redact`): a mistyped
/// path was made as an empty journal (exit 0, "recovered 0 journal lines"), where `run` rightly
/// makes one to start.
func requireJournalDirectory(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CLIError("no journal directory \(path)")
    }
}

/// Finds the bundled Scenarios folder from any working directory: $URGENTFLOW_HOME, the
/// folders above the executable (a SwiftPM build inside the repo), or the installed share folder.
enum Bundled {
    static func scenariosDirectory() -> String? {
        var candidates: [String] = []
        if let home = ProcessInfo.processInfo.environment["URGENTFLOW_HOME"] { candidates.append(home + "/Scenarios") }
        var dir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.path + "/Scenarios")
            dir = dir.deletingLastPathComponent()
        }
        candidates.append("/usr/local/share/urgentflow/Scenarios")
        candidates.append(FileManager.default.currentDirectoryPath + "/Scenarios")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/herts-west-essex.yaml") }
    }

    static func path(_ name: String) throws -> String {
        guard let dir = scenariosDirectory() else {
            throw CLIError("cannot find the bundled Scenarios folder (set URGENTFLOW_HOME to the urgentflow checkout)")
        }
        return dir + "/" + name
    }

    /// A path as given if it exists; otherwise a bundled scenario by name.
    static func scenarioPath(_ nameOrPath: String) throws -> String {
        if FileManager.default.fileExists(atPath: nameOrPath) || nameOrPath == "-" { return nameOrPath }
        let name = nameOrPath.hasSuffix(".jsonl") ? nameOrPath : nameOrPath + ".jsonl"
        let dir = scenariosDirectory()
        if let dir, FileManager.default.fileExists(atPath: dir + "/" + name) { return dir + "/" + name }
        // The bundled names, so that a mistyped one can be put right without reading the README.
        let bundled = dir.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0) }?
            .filter { $0.hasSuffix(".jsonl") && !$0.hasSuffix(".expect.jsonl") }.map { String($0.dropLast(6)) }.sorted() ?? []
        throw CLIError("no such scenario file or bundled scenario: \(nameOrPath)"
                       + (bundled.isEmpty ? "" : " (bundled: " + bundled.joined(separator: ", ") + ")"))
    }
}

/// `--max-line` of `run`, `record`, `replay` and `check`: one limit, so that `check` says of a
/// file what the service and a replay do with it (a 70 KB line `check` refused was replayed).
struct MaxLineOption: ParsableArguments {
    static let defaultBytes = 64 * 1024

    @Option(name: .customLong("max-line"), help: "Longest accepted line in bytes (a longer line is refused, with its number, by the live service, a replay and check alike).")
    var maxLine: Int = MaxLineOption.defaultBytes

    func validate() throws {
        if maxLine < 64 { throw ValidationError("--max-line must be at least 64") }
    }
}
