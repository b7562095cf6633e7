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
    public static func redact(_ line: String, decoder: inout FeedDecoder) -> Outcome {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { redact(UnsafeBufferPointer($0), decoder: &decoder) }
    }

    /// The same, of the line's bytes. A line the checks accept costs one decoding: the fields
    /// are read apart only for a line they refuse.
    public static func redact(_ p: UnsafeBufferPointer<UInt8>, decoder: inout FeedDecoder) -> Outcome {
        if OperatorAction.parseMark(p) != nil { return .clean }
        // An operator line is refused by the feed decoder as of no feed (or as identifiable,
        // before its feed is read); any other refusal is not this command's to mend.
        guard case .failure(let refused) = decoder.decode(p), refused.reason == .identifiable || refused.reason == .unknownFeed else {
            return .clean
        }
        // The top-level fields, read without the checks (they are what is being looked for).
        var scanner = JSONLineScanner()
        guard scanner.scan(p, checkingPatientData: false) == nil else { return .clean }
        let fields = scanner.fields
        let names = fields.map { JSONLineScanner.keyString(p, $0) }
        let isOperator = zip(fields, names).contains { $1 == "feed" && JSONLineScanner.valueEquals(p, $0, "operator") }
        // What the checks say of it: an operator line's own reading; where that reading's scan
        // refused the line (an identifiable name or a nested value), or for a feed line, the
        // decoder's, whose scan is the same.
        let why: Rejection
        switch isOperator ? OperatorAction.parse(p) : nil {
        case .success?: return .clean
        case .failure(let r)?:
            guard r.reason == .identifiable else { return .clean }
            why = r
        case nil:
            guard refused.reason == .identifiable else { return .clean }
            why = refused
        }
        var kept: [String] = [], changed: [String] = []
        for (f, name) in zip(fields, names) {
            if isOperator {
                if OperatorAction.freeTextFields.contains(name), f.kind == .string, let s = JSONLineScanner.stringValue(p, f),
                   JSONLineScanner.freeTextWhy(s, names: name != "by") != nil {
                    kept.append(JSONText.quote(name) + ":" + JSONText.quote(OperatorAction.withheldText))
                    changed.append(name)
                    continue
                }
            } else if !contractNames.contains(name) {
                changed.append(name)
                continue
            }
            kept.append(Self.text(p, Int(f.keyStart) - 1, Self.valueEnd(f)))
        }
        let redacted = "{" + kept.joined(separator: ",") + "}"
        // What the checks say of the line now: accepted (as far as patient data goes), or it
        // cannot be redacted so.
        var out = Array(redacted.utf8)
        let still: Rejection? = out.withUnsafeMutableBufferPointer { q in
            let q = UnsafeBufferPointer(q)
            if isOperator {
                switch OperatorAction.parse(q) {
                case .failure(let r)? where r.reason == .identifiable: return r
                case nil: return why   // its scan refuses it still
                default: return nil
                }
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
