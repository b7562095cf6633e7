/// Headless replay: lines in, alert transitions and rejections out, on the event clock.
///
/// The caller reads the scenario (file I/O is not the core's); this type decides everything
/// else, so the output depends only on the lines and the configuration.
public struct HeadlessReplay {
    public let engine: FlowEngine
    public private(set) var lineNumber = 0
    /// Rejected lines with their line numbers, in order (kept up to `maxKeptRejections`).
    public private(set) var rejections: [(line: Int, rejection: Rejection)] = []
    public var maxKeptRejections = 10_000
    /// Empty lines (nothing, or only spaces, tabs and `\r`: `FeedLine.isEmpty`): not messages,
    /// so neither accepted nor rejected, as live ingest counts them (`empty`; a TCP sender is
    /// answered `empty_line`). Their numbers are kept up to `maxKeptRejections`, for `check`.
    public private(set) var emptyLines = 0
    public private(set) var emptyLineNumbers: [Int] = []
    /// urgentflow's own journal marks met (clock, evaluate, held), by line: a replay of a journal
    /// reads them as it should, and the live service refuses them from any producer, so `check`
    /// of a feed says so.
    public private(set) var urgentflowMarks: [(line: Int, kind: OperatorAction.Kind)] = []
    /// Sitrep rows of completed days, in order (when `sitrep` is on).
    public private(set) var sitrepRows: [String] = []
    let sitrep: Bool
    /// The earliest accepted event time (when `sitrep` is on): where the replay's data starts,
    /// for each day's coverage (`Sitrep.DayCoverage`). Lines may come a little out of order, so
    /// not simply the first line's.
    public private(set) var firstEvent: EventTime?

    /// `evaluateEveryTick`: the slow reference of the rule schedule (FlowEngine).
    public init(config: SystemConfig, sitrep: Bool = false, evaluateEveryTick: Bool = false) {
        engine = FlowEngine(config: config, mode: .replay, keepSitrep: sitrep, historyForRulesOnly: !evaluateEveryTick,
                            evaluateEveryTick: evaluateEveryTick)
        self.sitrep = sitrep
    }

    /// Feeds one line; returns the transitions it caused (usually none).
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) -> [AlertTransition] {
        lineNumber += 1
        if FeedLine.isEmpty(bytes) {
            if emptyLineNumbers.count < maxKeptRejections { emptyLineNumbers.append(lineNumber) }
            emptyLines += 1
            return []
        }
        let outcome = engine.ingest(bytes)
        if heldLine != 0 { takeHeldVerdict() }
        switch outcome {
        case .rejected(let r): keep(lineNumber, r)
        case .held: heldLine = lineNumber
        case .operatorAction(let a, _):
            switch a.kind {
            case .clock, .evaluate, .held:
                if urgentflowMarks.count < maxKeptRejections { urgentflowMarks.append((lineNumber, a.kind)) }
            case .acknowledge, .silence: break
            }
        default: break
        }
        if sitrep {
            if let t = engine.lastAcceptedAt, firstEvent == nil || t < firstEvent! { firstEvent = t }
            collectDays()
        }
        return engine.hasPendingTransitions ? engine.drainTransitions() : []
    }

    /// The line the engine holds (FlowEngine `held`), 0 for none: its verdict comes with a later
    /// line, and a rejection is reported against this number, before the later line's own.
    private var heldLine = 0

    private mutating func takeHeldVerdict() {
        guard let v = engine.takeHeldVerdict() else { return }
        if case .rejected(let r) = v { keep(heldLine, r) }
        heldLine = 0
    }

    private mutating func keep(_ line: Int, _ r: Rejection) {
        if rejections.count < maxKeptRejections { rejections.append((line, r)) }
    }

    /// A line too long to read (its reader did not buffer it): counted and reported like any
    /// rejected line.
    public mutating func feedTooLong(length: Int, limit: Int) {
        lineNumber += 1
        let r = Rejection(.malformed, "the line is \(length) bytes, over the \(limit)-byte limit")
        engine.rejectUnread(r)
        keep(lineNumber, r)
    }

    public mutating func feed(_ line: String) -> [AlertTransition] {
        var s = line
        return s.withUTF8 { feed($0) }
    }

    /// Ends the replay: the final tick, and the remaining days for the sitrep.
    public mutating func finish() -> [AlertTransition] {
        engine.finish()
        if heldLine != 0 { takeHeldVerdict() }
        if sitrep { collectDays() }
        return engine.drainTransitions()
    }

    /// The days the model has closed, as sitrep rows. A day is closed two days after it (no
    /// later line can change it) or at the end: the data's latest event is then as far as the
    /// replay's data reaches into it.
    private mutating func collectDays() {
        let days = engine.drainCompletedDays()
        guard !days.isEmpty else { return }
        let data = firstEvent.flatMap { first in engine.highWater.map { (first: first, last: $0) } }
        sitrepRows += Sitrep.rows(config: engine.config, calendar: engine.model.calendar, days: days, data: data)
    }

    /// `line 12: out_of_range: field ga_core_occupied: 700 is above ga_core_open 640`
    public static func describe(line: Int, _ r: Rejection) -> String {
        var s = "line \(line): "
        if let f = r.feed { s += "feed \(f.rawValue): " }
        if let site = r.site { s += "site \(Sanitise.short(site)): " }
        return s + r.description
    }
}
