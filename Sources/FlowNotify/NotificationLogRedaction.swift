import FlowCore
import Foundation

/// What `urgentflow redact` makes of one line of the notification log (`AlertLog`): the log keeps
/// each acknowledgement's note and `by` and each silence's reason and `by` as they were given,
/// so an acknowledgement whose note a restart withholds from the journal (accepted under an
/// earlier release's checks: docs/feed-contract.md, "A restart's own journal") still held the
/// text there, and a restart restored it from there. Pure: the command reads and writes the file.
///
/// A line's free text that the patient-data checks refuse (as they refuse it in an operator
/// line: `by` is not checked for a titled name, it names the member of staff) is replaced by
/// `OperatorAction.withheldText`, as the journal's line is, and the line is written as the log
/// writes it (`AlertLog.ackLine`, `AlertLog.silenceLine`); every other line is left as it is.
public enum NotificationLogRedaction {
    public enum Outcome: Equatable, Sendable {
        case clean
        /// The line rewritten; the fields withheld, and why the first was refused.
        case redacted(line: String, fields: [String], why: String)
    }

    private struct AckLine: Decodable { var rule: String; var site: String; var ack: Acknowledgement }
    private struct SilenceLine: Decodable { var silence: Silence }

    public static func redact(_ line: Substring) -> Outcome {
        let isAck = line.hasPrefix("{\"type\":\"ack\""), isSilence = line.hasPrefix("{\"type\":\"silence\"")
        guard isAck || isSilence else { return .clean }
        var fields: [String] = [], why: String? = nil
        /// `text` withheld if the checks refuse it.
        func checked(_ text: String, _ field: String) -> String {
            guard let refused = JSONLineScanner.freeTextWhy(text, names: field != "by") else { return text }
            fields.append(field)
            if why == nil { why = "field \(field): \(refused)" }
            return OperatorAction.withheldText
        }
        let d = JSONDecoder()
        if isAck, let a = try? d.decode(AckLine.self, from: Data(line.utf8)) {
            var ack = a.ack
            ack.by = checked(ack.by, "by")
            ack.note = ack.note.map { checked($0, "note") }
            guard let why else { return .clean }
            return .redacted(line: AlertLog.ackLine(rule: a.rule, site: a.site, ack), fields: fields, why: why)
        }
        if isSilence, let s = try? d.decode(SilenceLine.self, from: Data(line.utf8)) {
            var silence = s.silence
            silence.by = checked(silence.by, "by")
            silence.reason = checked(silence.reason, "reason")
            guard let why else { return .clean }
            return .redacted(line: AlertLog.silenceLine(silence), fields: fields, why: why)
        }
        return .clean
    }

    /// Each line of the log holding free text the checks refuse (a restart restores it
    /// redacted, and names it): its number (from 1), the line redacted, and why.
    public static func identifiableLines(_ lines: [Substring]) -> [(line: Int, redacted: String, why: String)] {
        var out: [(line: Int, redacted: String, why: String)] = []
        for (i, line) in lines.enumerated() {
            if case let .redacted(text, _, why) = redact(line) { out.append((i + 1, text, why)) }
        }
        return out
    }
}
