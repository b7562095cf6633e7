import ArgumentParser
import FlowCore
import FlowIngest
import FlowNotify
import Foundation

// `urgentflow redact`: patient-identifiable text out of the journal's lines and the notification log's.

/// A restart names each journal line the patient-data checks now refuse (accepted under an
/// earlier release's checks) and asks for it to be removed from the journal: this does that,
/// with the service stopped, rather than leaving the information governance lead to edit JSON
/// by hand. Each line stays a line, so the restart's `file:line` warnings still point at it;
/// what a line cannot lose without changing what it says is left, and said
/// (`JournalRedaction`).
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Remove patient-identifiable text from the journal's lines (with the service stopped).",
        discussion: """
            Rewrites each journal file holding a line the patient-data checks refuse: a feed line loses its \
            fields outside the contract (free text the model never read), an operator's note, reason or name \
            is withheld. The notification log beside the journal (<journal>/notify) has its acknowledgements' \
            notes and silences' reasons withheld the same way. A restart then rebuilds the same state without \
            the warning. Lines whose identifiable data is in a contract field are left and listed; exit 1 if \
            there are any.
            """)

    @OptionGroup var configOption: ConfigOption

    @Option(help: "Journal directory.")
    var journal: String = "./urgentflow-journal"

    @Flag(name: .customLong("dry-run"), help: "Say what would be removed; change nothing (also while the service runs: every journal line the checks refuse, with its file and line).")
    var dryRun = false

    func run() throws {
        let (config, text, path) = try configOption.loadWithText()
        try requireJournalDirectory(journal)
        // A running service appends to today's file and to its notification log: its lock
        // refuses this while it runs.
        let lock: JournalLock?
        do { lock = dryRun ? nil : try JournalLock(directory: journal) } catch let e as JournalLockError {
            throw CLIError(e.description)
        }
        defer { withExtendedLifetime(lock) {} }
        var decoder = FeedDecoder(units: config.units)
        var tally = Tally()
        for file in try Journal.files(in: journal) {
            try redact(file.path, &tally) { line in
                switch JournalRedaction.redact(line, decoder: &decoder) {
                case .clean: return nil
                case let .redacted(text, fields, why): return .replace(text, fields, (why.field.map { "field \($0): " } ?? "") + why.detail)
                case let .cannot(why): return .cannot("\(why.field.map { "field \($0)" } ?? "the line") is part of what the line says (\(why.detail))")
                }
            }
        }
        // The notification log `run` keeps beside the journal: the acknowledgements' notes and
        // the silences' reasons as they were given (NotificationLogRedaction).
        let notify = (try? NotifyConfigLoader.load(yaml: text, file: path, system: config)) ?? NotificationConfig()
        let log = NotificationService.logPath(stateDirectory: (journal as NSString).appendingPathComponent("notify"), config: notify)
        if FileManager.default.fileExists(atPath: log) {
            try redact(log, &tally) { line in
                guard case let .redacted(text, fields, why) = NotificationLogRedaction.redact(Substring(decoding: line, as: UTF8.self)) else {
                    return nil
                }
                return .replace(text, fields, why)
            }
        }
        let verb = dryRun ? "would redact" : "redacted"
        let left = tally.left
        print("\(journal): \(verb) \(tally.lines) line\(tally.lines == 1 ? "" : "s") in \(tally.files) file\(tally.files == 1 ? "" : "s")"
              + (left > 0 ? "; \(left) left as \(left == 1 ? "it is" : "they are") (identifiable in a field the line needs: a restart still recovers and names \(left == 1 ? "it" : "them"))" : ""))
        if left > 0 { throw ExitCode(1) }
    }

    struct Tally { var lines = 0, files = 0, left = 0 }
    enum LineEdit {
        /// The line's new text, the fields removed or withheld, and why.
        case replace(String, [String], String)
        /// Left as it is, and why.
        case cannot(String)
    }

    /// Rewrites the file at `path` where `edit` changes a line (each line stays a line), saying
    /// each change by file and line; a dry run only says them.
    func redact(_ path: String, _ tally: inout Tally, _ edit: (UnsafeBufferPointer<UInt8>) -> LineEdit?) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))   // read, not mapped: a file cut short while mapped kills the process (README, "Not done yet")
        // The lines to replace, by byte range: the file is rebuilt only when there are some
        // (a day of a dense system's journal is tens of megabytes, nearly always clean).
        var edits: [(Range<Int>, [UInt8])] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var number = 0, start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                number += 1
                switch edit(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
                case nil:
                    break
                case let .replace(text, fields, why)?:
                    edits.append((start..<end, Array(text.utf8)))
                    tally.lines += 1
                    print("\(path):\(number): \(dryRun ? "would remove" : "removed") \(fields.joined(separator: ", ")) (\(why))")
                case let .cannot(why)?:
                    tally.left += 1
                    print("\(path):\(number): left as it is: \(why)")
                }
                start = end + 1
            }
        }
        guard !edits.isEmpty else { return }
        tally.files += 1
        if dryRun { return }
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var at = 0
        for (range, text) in edits {
            out += data[at..<range.lowerBound]
            out += text
            at = range.upperBound
        }
        out += data[at...]
        try Journal.replace(path, with: out)
    }
}
