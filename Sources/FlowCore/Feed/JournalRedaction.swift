/// What `urgentflow redact` makes of one line of the service's own journal that the
/// patient-data checks refuse (a line accepted under an earlier release's checks: a restart
/// recovers it without its text and names it, docs/feed-contract.md, "A restart's own
/// journal"). Pure: the command reads and writes the files.
///
/// - A feed line loses every top-level field outside the contract: free text the model never
///   read (a `crew_note`, a nested `extra`), so the model a restart rebuilds from the redacted
///   line is the one it rebuilt before. The fields kept are their bytes as written, in order.
/// - An operator line (`ack`, `silence`) keeps its action: a `note`, `reason` or `by` the checks
///   refuse is replaced by `OperatorAction.withheldText`, as a restart shows it.
/// - A line whose identifiable data is in a contract field (a `patient` key shaped like an NHS
///   number, an operator line's `site`) cannot be redacted without changing what it says: it is
///   left as it is, and said (`cannot`).
/// Either way the line stays a line: the journal's line numbers, which the restart's warnings
/// name, still point at the same messages.
public enum JournalRedaction {
    public enum Outcome: Equatable, Sendable {
        /// The checks do not refuse it as patient-identifiable (whatever else they say of it).
        case clean
        /// The line rewritten, which the checks accept; the fields removed or withheld, and what
        /// the checks said of the line before.
        case redacted(line: String, fields: [String], why: Rejection)
        /// Identifiable in a field the line cannot do without: left as it is.
        case cannot(Rejection)
    }

    /// The contract's field names (a feed line keeps exactly these).
    static let contractNames: Set<String> = Set(FieldID.allCases.map(\.name))
    /// The operator fields that are free text, withheld rather than refusing the action (by a
    /// restart, `OperatorAction.parse(_:withholdingIdentifiableText:)`, and by `redact`).
    static let operatorFreeText: Set<String> = ["note", "reason", "by"]

    public static func redact(_ line: String, decoder: inout FeedDecoder) -> Outcome {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { redact(UnsafeBufferPointer($0), decoder: &decoder) }
    }

    static func redact(_ p: UnsafeBufferPointer<UInt8>, decoder: inout FeedDecoder) -> Outcome {
        if OperatorAction.parseMark(p) != nil { return .clean }
        // The top-level fields, read without the checks (they are what is being looked for).
        var scanner = JSONLineScanner()
        guard scanner.scan(p, checkingPatientData: false) == nil else { return .clean }   // not JSON: not ours to mend
        let fields = scanner.fields
        let names = fields.map { JSONLineScanner.keyString(p, $0) }
        let isOperator = zip(fields, names).contains { $1 == "feed" && JSONLineScanner.valueEquals(p, $0, "operator") }
        // What the checks say of it: an operator line's own reading, or where that reading's
        // scan refused the line (an identifiable name or a nested value) the decoder's, whose
        // scan is the same.
        let read = isOperator ? OperatorAction.parse(p) : nil
        let why: Rejection
        if case .failure(let r)? = read {
            guard r.reason == .identifiable else { return .clean }
            why = r
        } else if case .success? = read {
            return .clean
        } else {
            guard case .failure(let r) = decoder.decode(p), r.reason == .identifiable else { return .clean }
            why = r
        }
        var kept: [String] = [], changed: [String] = []
        for (f, name) in zip(fields, names) {
            let text = Self.text(p, Int(f.keyStart) - 1, Self.valueEnd(f))
            if isOperator {
                if operatorFreeText.contains(name), f.kind == .string, let s = JSONLineScanner.stringValue(p, f),
                   JSONLineScanner.freeTextWhy(s, names: name != "by") != nil {
                    kept.append(JSONText.quote(name) + ":" + JSONText.quote(OperatorAction.withheldText))
                    changed.append(name)
                    continue
                }
            } else if !contractNames.contains(name) {
                changed.append(name)
                continue
            }
            kept.append(text)
        }
        let redacted = "{" + kept.joined(separator: ",") + "}"
        // What the checks say of the line now: accepted (as far as patient data goes), or it
        // cannot be redacted so.
        var out = Array(redacted.utf8)
        let still: Rejection? = out.withUnsafeMutableBufferPointer { q in
            let q = UnsafeBufferPointer(q)
            if isOperator {
                if case .failure(let r)? = OperatorAction.parse(q), r.reason == .identifiable { return r }
                return OperatorAction.parse(q) == nil ? why : nil
            }
            if case .failure(let r) = decoder.decode(q), r.reason == .identifiable { return r }
            return nil
        }
        if let still { return .cannot(still) }
        return changed.isEmpty ? .cannot(why) : .redacted(line: redacted, fields: changed, why: why)
    }

    /// Just past a field's value (a string's closing quote included).
    static func valueEnd(_ f: JSONLineScanner.Field) -> Int {
        Int(f.valueEnd) + (f.kind == .string ? 1 : 0)
    }

    static func text(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[s..<e]), as: UTF8.self)
    }
}
