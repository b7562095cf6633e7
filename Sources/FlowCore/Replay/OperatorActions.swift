/// Operator actions: lines of the journal (and of any feed) with `"feed":"operator"`.
///
/// They are not feed data: they record what happened to the alert state besides the rules, so
/// that a restart rebuilds exactly the state the operators saw (docs/feed-contract.md,
/// "Operator actions"):
///
/// - `ack`: an operator acknowledged the active alert `rule` at `site`.
///   `{"feed":"operator","id":"ack-...","at":"...","site":"RWH","kind":"ack","rule":"ga_occupancy","by":"Priya Shah","note":"..."}`
/// - `silence`: an operator silenced the alerts of `site` (or one `rule` there) until `until`,
///   with who and why; notifications stop, the dashboard marks them. A silence whose `until` is
///   not after `at` ends the silences it matches early.
///   `{"feed":"operator","id":"silence-...","at":"...","site":"RWH","kind":"silence","rule":"handover_queue","until":"...","by":"Priya Shah","reason":"..."}`
/// - `clock`: the live engine moved its clock to `at` (the wall clock) and ran the rule ticks
///   due up to it. A live run writes one whenever a tick became due, in order with the data
///   lines, so that recovery runs every tick at the same place among the lines as it ran live.
///   `{"feed":"operator","id":"clock-...","at":"...","kind":"clock"}`
/// - `evaluate`: the live engine evaluated its rules at `at` (the wall clock), after the lines
///   before it, so that an alert follows its line at once rather than at the next tick. A live
///   run writes one after each group of accepted lines, before the group's journal commit;
///   recovery evaluates at the same instant, at the same place among the lines.
///   `{"feed":"operator","id":"evaluate-...","at":"...","kind":"evaluate"}`
/// - `held`: the live input was held from `since` to `at`, because the journal could not write
///   (a full disk): a feed's silence does not count that time (`FlowModel.inputHolds`). A live
///   run writes one when the journal writes again, before the lines that waited; recovery and a
///   replay of the journal apply it at the same place among the lines.
///   `{"feed":"operator","id":"held-...","at":"...","kind":"held","since":"..."}`
///
/// `FlowEngine.ingest` applies them and returns `.operatorAction`: clock and evaluate marks as
/// `mark(_:at:)` writes them are read first by `parseMark` (a feed line pays a prefix compare);
/// any other operator line is an `unknown_feed` to the feed decoder, then read by `parse`.
public struct OperatorAction: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case acknowledge(rule: String, site: String, by: String, note: String?)
        /// `rule` nil: every alert of the site.
        case silence(site: String, rule: String?, until: EventTime, by: String, reason: String)
        case clock
        /// Rules evaluated at `at` (off the tick grid): see the type's documentation.
        case evaluate
        /// The input held from `since` to `at`: see the type's documentation.
        case held(since: EventTime)
    }

    public var id: String
    public var at: EventTime
    public var kind: Kind

    public init(id: String, at: EventTime, kind: Kind) {
        self.id = id
        self.at = at
        self.kind = kind
    }

    public static let feedName = "operator"

    /// The clock or evaluate mark the live consumer journals at `at` (its id is the kind and
    /// the instant in milliseconds), in the exact shape `parseMark` reads.
    public static func mark(_ kind: Kind, at: EventTime) -> OperatorAction {
        precondition(kind == .clock || kind == .evaluate, "only clock and evaluate are marks")
        return OperatorAction(id: (kind == .clock ? "clock-" : "evaluate-") + "\(at.millis)", at: at, kind: kind)
    }

    /// The `held` mark the live consumer journals when the journal writes again at `until`
    /// after holding the input from `from`.
    public static func held(from: EventTime, until: EventTime) -> OperatorAction {
        OperatorAction(id: "held-\(until.millis)", at: until, kind: .held(since: from))
    }

    /// What an acknowledgement's note, a silence's reason or either's `by` says when a restart
    /// withholds it (`parse(_:withholdingIdentifiableText:)`).
    public static let withheldText = "(withheld at a restart: it looked patient-identifiable)"
    /// An operator line's free-text fields: withheld rather than refusing the action, by a
    /// restart (`parse(_:withholdingIdentifiableText:)`) and by `redact` (`JournalRedaction`).
    static let freeTextFields: Set<String> = ["note", "reason", "by"]

    /// nil when the line is not an operator line (`feed` is not `"operator"`); otherwise the
    /// action or why it is invalid.
    ///
    /// `withholdingIdentifiableText`: a restart reading back its own journal, whose lines were
    /// accepted when written, under an earlier release's checks (`FlowEngine.recover`). A note,
    /// reason or `by` the checks now refuse is replaced by `withheldText` rather than refusing the
    /// action: refused, an acknowledgement given before the upgrade was gone from the dashboard
    /// after it (the notifications, restored from their own log, still held it). The text is
    /// shown with the alert on the dashboard, so it is not kept; any other field refused still
    /// refuses.
    public static func parse(_ p: UnsafeBufferPointer<UInt8>, withholdingIdentifiableText: Bool = false) -> Result<OperatorAction, Rejection>? {
        var scanner = JSONLineScanner()
        guard scanner.scan(p) == nil else { return nil }
        var values: [String: JSONLineScanner.Field] = [:]
        for f in scanner.fields { values[JSONLineScanner.keyString(p, f)] = f }
        guard let feed = values["feed"], JSONLineScanner.valueEquals(p, feed, "operator") else { return nil }
        // Operator lines are where free text lives (`note`, `reason`, `by`): every string value,
        // whatever its name, is refused when it holds an NHS-number-shaped run anywhere. The feed
        // decoder has refused such a run already in any field outside the feed contract; this
        // covers the names the contract shares with operator lines (`reason`, `site`, `id`, ...).
        // A date of birth, a full postcode or a telephone number in them likewise (`PatientText`),
        // and a titled name too (`PatientText.containsTitledName`), except in `by`: the member of
        // staff who acted, named on purpose.
        var withheld: Set<String> = []
        for f in scanner.fields where f.kind == .string {
            let key = JSONLineScanner.keyString(p, f)
            if let s = JSONLineScanner.stringValue(p, f), let why = JSONLineScanner.freeTextWhy(s, names: key != "by") {
                if withholdingIdentifiableText, freeTextFields.contains(key) { withheld.insert(key); continue }
                return .failure(FeedDecoder.scanRejection(.identifiable(field: key, why: why)))
            }
        }
        func string(_ key: String, required: Bool, max: Int = 256) -> Result<String?, Rejection> {
            if withheld.contains(key) { return .success(withheldText) }
            guard let f = values[key], f.kind != .null else {
                return required ? .failure(Rejection(.missingField, field: key, "operator actions need \(key)")) : .success(nil)
            }
            guard f.kind == .string, let s = JSONLineScanner.stringValue(p, f) else {
                return .failure(Rejection(.badType, field: key, "must be a string"))
            }
            guard !s.isEmpty, s.count <= max else {
                return .failure(Rejection(.outOfRange, field: key, "must be 1-\(max) characters"))
            }
            return .success(s)
        }
        do {
            guard let id = try string("id", required: true, max: 128).get() else { throw Rejection(.missingField, field: "id", "") }
            guard let atText = try string("at", required: true, max: 64).get() else { throw Rejection(.missingField, field: "at", "") }
            guard let at = RFC3339.parse(atText) else {
                throw Rejection(.badType, field: "at", "must be RFC 3339 with an offset")
            }
            guard let kind = try string("kind", required: true, max: 32).get() else { throw Rejection(.missingField, field: "kind", "") }
            switch kind {
            case "clock":
                return .success(OperatorAction(id: id, at: at, kind: .clock))
            case "evaluate":
                return .success(OperatorAction(id: id, at: at, kind: .evaluate))
            case "held":
                let sinceText = try string("since", required: true, max: 64).get()!
                guard let since = RFC3339.parse(sinceText) else {
                    throw Rejection(.badType, field: "since", "must be RFC 3339 with an offset")
                }
                guard since <= at else { throw Rejection(.outOfRange, field: "since", "is after at") }
                return .success(OperatorAction(id: id, at: at, kind: .held(since: since)))
            case "ack":
                let site = try string("site", required: true, max: 16).get()!
                let rule = try string("rule", required: true, max: 128).get()!
                let by = try string("by", required: true, max: 128).get()!
                let note = try string("note", required: false, max: 1000).get()
                return .success(OperatorAction(id: id, at: at, kind: .acknowledge(rule: rule, site: site, by: by, note: note)))
            case "silence":
                let site = try string("site", required: true, max: 16).get()!
                let rule = try string("rule", required: false, max: 128).get()
                let by = try string("by", required: true, max: 128).get()!
                let reason = try string("reason", required: true, max: 1000).get()!
                let untilText = try string("until", required: true, max: 64).get()!
                guard let until = RFC3339.parse(untilText) else {
                    throw Rejection(.badType, field: "until", "must be RFC 3339 with an offset")
                }
                return .success(OperatorAction(id: id, at: at, kind: .silence(site: site, rule: rule, until: until, by: by, reason: reason)))
            default:
                throw Rejection(.outOfRange, field: "kind", "'\(Sanitise.short(kind))' is not an operator action (ack, silence, clock, evaluate, held)")
            }
        } catch let r as Rejection {
            return .failure(r)
        } catch {
            return .failure(Rejection(.malformed, "\(error)"))
        }
    }

    /// The clock and evaluate marks exactly as `jsonLine` writes them (a live journal holds up
    /// to one per line), read without the general parser: nil for anything else, which then
    /// goes through `parse` as before. The same result as `parse` for every line it accepts.
    public static func parseMark(_ p: UnsafeBufferPointer<UInt8>) -> OperatorAction? {
        // Feed lines (nearly all) differ from `markHead` at its byte 9, the `o` of `operator`:
        // refused there, before the comparisons below, which were 1% of a replay without rules.
        guard p.count > 9, p[9] == UInt8(ascii: "o") else { return nil }
        let head = markHead, n = p.count
        func matches(_ bytes: [UInt8], at i: Int) -> Bool {
            guard i + bytes.count <= n else { return false }
            for k in bytes.indices where p[i + k] != bytes[k] { return false }
            return true
        }
        guard n > head.count + 40, matches(head, at: 0) else { return nil }
        // The id: 1-128 plain characters (no quote, backslash or control byte).
        var i = head.count
        let idStart = i
        while i < n, p[i] != 0x22 {
            guard p[i] >= 0x20, p[i] < 0x7F, p[i] != 0x5C else { return nil }
            i += 1
        }
        let idEnd = i
        guard idEnd > idStart, idEnd - idStart <= 128 else { return nil }
        func expect(_ bytes: [UInt8]) -> Bool {
            guard matches(bytes, at: i) else { return false }
            i += bytes.count
            return true
        }
        guard expect(markAt) else { return nil }
        let atStart = i
        while i < n, p[i] != 0x22 { i += 1 }
        guard i - atStart <= 64, let at = RFC3339.parse(p, atStart, i) else { return nil }
        let atEnd = i
        let kind: Kind
        if expect(markClock), i == n { kind = .clock } else if expect(markEvaluate), i == n { kind = .evaluate } else { return nil }
        // As `parse`, which refuses any string of an operator line holding an NHS-number-shaped
        // run: such a line is left to it. (The marks urgentflow writes hold none.)
        if let b = p.baseAddress, NHSNumber.containsNHSNumber(b, idStart, idEnd) || NHSNumber.containsNHSNumber(b, atStart, atEnd) {
            return nil
        }
        let id = String(decoding: UnsafeBufferPointer(rebasing: p[idStart..<idEnd]), as: UTF8.self)
        return OperatorAction(id: id, at: at, kind: kind)
    }

    private static let markHead = Array(#"{"feed":"operator","id":""#.utf8)
    private static let markAt = Array(#"","at":""#.utf8)
    private static let markClock = Array(#"","kind":"clock"}"#.utf8)
    private static let markEvaluate = Array(#"","kind":"evaluate"}"#.utf8)

    public static func parse(_ line: String) -> Result<OperatorAction, Rejection>? {
        var s = line
        return s.withUTF8 { parse($0) }
    }

    /// The journal line (keys in a fixed order).
    public var jsonLine: String {
        var s = "{\"feed\":\"operator\",\"id\":\(JSONText.quote(id)),\"at\":\"\(RFC3339.format(at))\""
        switch kind {
        case .clock:
            s += ",\"kind\":\"clock\"}"
        case .evaluate:
            s += ",\"kind\":\"evaluate\"}"
        case .held(let since):
            s += ",\"kind\":\"held\",\"since\":\"\(RFC3339.format(since))\"}"
        case let .acknowledge(rule, site, by, note):
            s += ",\"site\":\(JSONText.quote(site)),\"kind\":\"ack\",\"rule\":\(JSONText.quote(rule)),\"by\":\(JSONText.quote(by))"
            if let note { s += ",\"note\":\(JSONText.quote(note))" }
            s += "}"
        case let .silence(site, rule, until, by, reason):
            s += ",\"site\":\(JSONText.quote(site)),\"kind\":\"silence\""
            if let rule { s += ",\"rule\":\(JSONText.quote(rule))" }
            s += ",\"until\":\"\(RFC3339.format(until))\",\"by\":\(JSONText.quote(by)),\"reason\":\(JSONText.quote(reason))}"
        }
        return s
    }
}

extension OperatorAction {
    /// Why the engine would refuse this action's journal line before applying it, or nil when
    /// it would read it: the line goes through the checks `FlowEngine.ingest` makes of every line
    /// (the feed decoder's scan, which refuses patient-identifiable data anywhere in a line, such
    /// as an NHS number in a note; then `parse`). What it does not know is the engine's state
    /// (whether the alert is still active): that answer comes from the engine.
    ///
    /// The dashboard asks this before it submits an acknowledgement or a silence, so that a
    /// refused one is said at once, in the prompt, instead of being sent and refused out of sight.
    public var refusal: Rejection? {
        var line = jsonLine
        return line.withUTF8 { p -> Rejection? in
            // The feed is checked before the site: no unit is needed to read an operator line.
            var decoder = FeedDecoder(units: [])
            let r: Rejection
            do throws(Rejection) {
                _ = try decoder.decodeMessage(p)
                return Rejection(.unknownFeed, field: "feed", "an operator action read as feed data")
            } catch {
                r = error
            }
            switch FlowEngine.operatorAction(p, undecoded: r) {
            case .success: return nil
            case .failure(let e): return e
            }
        }
    }

    /// A refusal of an operator action said for the person who typed it: which of their fields
    /// and why (`the note looks patient-identifiable (value is shaped like an NHS number)`).
    public static func explain(_ r: Rejection) -> String {
        let field: String
        switch r.field {
        case "by": field = "the name"
        case "note": field = "the note"
        case "reason": field = "the reason"
        case let f?: field = "field \(f)"
        case nil: field = "the line"
        }
        // The decoder's advice is for feed senders (`; feeds must carry aggregates ...`).
        let why = r.detail.prefix { $0 != ";" }
        if r.reason == .identifiable {
            return "\(field) looks patient-identifiable (\(why))"
        }
        return "\(field): \(r.reason.rawValue): \(why)"
    }
}

extension FlowEngine {
    /// Applies an operator action (see `OperatorAction`). `applied` is false for an
    /// acknowledgement of an alert that is not active (nothing changes).
    func applyOperator(_ action: OperatorAction) -> Outcome {
        operatorActions += 1
        switch action.kind {
        case .clock, .evaluate:
            // Replay of a journal as a scenario: the messages drive the clock; marks are ignored.
            // Live, the clock is the wall clock: only recovery applies the marks of the journal
            // (a live run writes its own marks; a source cannot move the clock).
            guard mode == .live else { return .operatorAction(action, applied: true) }
            guard recovering else { operatorActions -= 1; return .operatorAction(action, applied: false) }
            if action.kind == .clock { advance(to: action.at) } else { evaluate(at: action.at) }
            clockMarked = true
            return .operatorAction(action, applied: true)
        case .held(let since):
            // Written by urgentflow (live) and applied from its journal (recovery, or a replay of
            // it); a source cannot declare its own silence held.
            guard mode == .replay || recovering else { operatorActions -= 1; return .operatorAction(action, applied: false) }
            inputHeld(from: since, until: action.at)
            return .operatorAction(action, applied: true)
        case let .acknowledge(rule, site, by, note):
            let ok = acknowledge(rule: rule, site: site, by: by, note: note, at: action.at)
            return .operatorAction(action, applied: ok)
        case let .silence(site, rule, until, by, reason):
            if silenceRefusal(site: site, rule: rule) != nil {
                operatorActions -= 1
                return .operatorAction(action, applied: false)
            }
            silence(Silence(id: action.id, site: site, rule: rule, from: action.at, until: until, by: by, reason: reason))
            return .operatorAction(action, applied: true)
        }
    }
}
