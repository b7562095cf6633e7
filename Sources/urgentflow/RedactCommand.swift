import ArgumentParser
import FlowCore
import FlowIngest
import Foundation

// `urgentflow redact`: patient-identifiable text out of the journal's lines.

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
            is withheld. A restart then rebuilds the same state without the warning. Lines whose identifiable \
            data is in a contract field are left and listed; exit 1 if there are any.
            """)

    @OptionGroup var configOption: ConfigOption

    @Option(help: "Journal directory.")
    var journal: String = "./urgentflow-journal"

    @Flag(name: .customLong("dry-run"), help: "Say what would be removed; change nothing (also while the service runs: every journal line the checks refuse, with its file and line).")
    var dryRun = false

    func run() throws {
        let config = try configOption.load()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: journal, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("no journal directory \(journal)")
        }
        // A running service appends to today's file: its lock refuses this while it runs.
        let lock: JournalLock?
        do { lock = dryRun ? nil : try JournalLock(directory: journal) } catch let e as JournalLockError {
            throw CLIError(e.description)
        }
        defer { withExtendedLifetime(lock) {} }
        var decoder = FeedDecoder(units: config.units)
        var redactedLines = 0, rewrittenFiles = 0, left = 0
        for file in try Journal.files(in: journal) {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var changed = false
            var number = 0
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                number += 1
                let line = bytes[start..<end]
                switch JournalRedaction.redact(String(decoding: line, as: UTF8.self), decoder: &decoder) {
                case .clean:
                    out += line
                case let .redacted(text, fields, why):
                    out += Array(text.utf8)
                    changed = true
                    redactedLines += 1
                    let what = why.field.map { "field \($0): " } ?? ""
                    print("\(file.path):\(number): \(dryRun ? "would remove" : "removed") \(fields.joined(separator: ", ")) (\(what)\(why.detail))")
                case let .cannot(why):
                    out += line
                    left += 1
                    print("\(file.path):\(number): left as it is: \(why.field.map { "field \($0)" } ?? "the line") is part of what the line says (\(why.detail))")
                }
                if end < bytes.count { out.append(0x0A) }
                start = end + 1
            }
            if changed {
                rewrittenFiles += 1
                if !dryRun { try Journal.replace(file.path, with: out) }
            }
        }
        let verb = dryRun ? "would redact" : "redacted"
        print("\(journal): \(verb) \(redactedLines) line\(redactedLines == 1 ? "" : "s") in \(rewrittenFiles) file\(rewrittenFiles == 1 ? "" : "s")"
              + (left > 0 ? "; \(left) left as \(left == 1 ? "it is" : "they are") (identifiable in a field the line needs: a restart still recovers and names \(left == 1 ? "it" : "them"))" : ""))
        if left > 0 { throw ExitCode(1) }
    }
}
