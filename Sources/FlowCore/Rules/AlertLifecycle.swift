/// What a rule says about one site at one tick.
public enum RuleOutcome: Sendable, Equatable {
    /// The data the rule needs is missing or stale: the alert can neither fire nor resolve.
    case unknown(summary: String)
    /// The severity the condition calls for now (nil: none), the value behind it, and a sentence.
    case known(target: Severity?, value: Double, summary: String)
}

extension RuleOutcome {
    /// The severity called for (nil when none or unknown).
    public var target: Severity? {
        if case .known(let t, _, _) = self { return t }
        return nil
    }
}

/// The kind of change an alert went through. The headless replay prints these as `state`.
public enum TransitionKind: String, Sendable, Equatable, Codable {
    /// The condition is met; waiting out the raise delay.
    case pending
    /// A pending alert whose condition went away before the raise delay.
    case cancelled
    case firing
    /// A firing alert moved to another severity (after the raise or clear delay).
    case severityChanged = "severity_changed"
    /// A firing alert's data went missing or stale: it is not resolved.
    case unknown
    case resolved
}

/// One alert transition, as written to the alert log and the headless replay output.
public struct AlertTransition: Sendable, Equatable {
    public var at: EventTime
    public var rule: String
    public var site: String
    public var severity: Severity
    public var state: TransitionKind
    /// nil when unknown.
    public var value: Double?
    public var summary: String
    public var leadID: String?
    /// When the alert's current episode began (first pending or firing).
    public var since: EventTime

    public init(at: EventTime, rule: String, site: String, severity: Severity, state: TransitionKind, value: Double?,
                summary: String, leadID: String?, since: EventTime) {
        self.at = at
        self.rule = rule
        self.site = site
        self.severity = severity
        self.state = state
        self.value = value
        self.summary = summary
        self.leadID = leadID
        self.since = since
    }

    /// One JSON object, keys in a fixed order; numbers rounded to 2 decimals. Deterministic.
    public var jsonLine: String {
        var s = "{\"at\":\"\(RFC3339.format(at))\",\"rule\":\(JSONText.quote(rule)),\"site\":\(JSONText.quote(site))"
        s += ",\"severity\":\"\(severity.rawValue)\",\"state\":\"\(state.rawValue)\",\"value\":"
        s += value.map(JSONText.number) ?? "null"
        s += ",\"lead\":" + (leadID.map(JSONText.quote) ?? "null")
        s += ",\"since\":\"\(RFC3339.format(since))\",\"summary\":\(JSONText.quote(summary))}"
        return s
    }
}

/// The lifecycle of one alert (one rule at one site), in the manner of Prometheus'
/// `rules/alerting.go`: inactive -> pending -> firing -> resolved, with a raise delay before
/// firing or escalating and a clear delay before stepping down or resolving. Evaluated only on
/// the event clock.
public struct AlertLifecycle: Sendable, Equatable {
    public enum Phase: Sendable, Equatable { case inactive, pending, firing }
    public private(set) var phase: Phase = .inactive
    /// Severity while firing (or the target while pending).
    public private(set) var severity: Severity?
    /// The severity a threshold's hysteresis holds: a firing alert's. A pending alert holds none,
    /// so its value must stay at its level for the whole raise delay ("for: 15m"); it was held
    /// down to the clear level, and a queue back at 4 fired as "warning until below 3".
    public var heldSeverity: Severity? { phase == .firing ? severity : nil }
    /// True while firing but the data is missing or stale.
    public private(set) var isUnknown = false
    public private(set) var since: EventTime?
    /// When the current episode fired (nil while pending): `since` is when it went pending.
    public private(set) var firingSince: EventTime?
    public private(set) var lastValue: Double?
    public private(set) var lastSummary = ""
    /// When the current raise (pending, or an escalation) began.
    private var raiseSince: EventTime?
    /// When the current step-down or clearing began.
    private var clearSince: EventTime?

    public init() {}

    public var isActive: Bool { phase != .inactive }

    /// Advances the lifecycle with a rule outcome at tick `now`; returns the transitions it made.
    public mutating func step(_ outcome: RuleOutcome, now: EventTime, raiseDelay: Duration, clearDelay: Duration) -> [TransitionKind] {
        switch outcome {
        case .unknown(let summary):
            lastSummary = summary
            switch phase {
            case .inactive:
                return []
            case .pending:
                // A condition that cannot be seen cannot mature.
                reset()
                return [.cancelled]
            case .firing:
                raiseSince = nil
                clearSince = nil
                lastValue = nil
                if isUnknown { return [] }
                isUnknown = true
                return [.unknown]
            }
        case .known(let target, let value, let summary):
            lastValue = value
            lastSummary = summary
            var out: [TransitionKind] = []
            if phase == .firing && isUnknown {
                isUnknown = false
                out.append(.firing)   // known again; still firing
            }
            switch phase {
            case .inactive:
                guard let target else { return out }
                since = now
                severity = target
                if raiseDelay.millis <= 0 {
                    phase = .firing
                    firingSince = now
                    return out + [.firing]
                }
                phase = .pending
                raiseSince = now
                return out + [.pending]
            case .pending:
                guard let target else {
                    reset()
                    return out + [.cancelled]
                }
                severity = target
                if now - (raiseSince ?? now) >= raiseDelay {
                    phase = .firing
                    firingSince = now
                    raiseSince = nil
                    return out + [.firing]
                }
                return out
            case .firing:
                let current = severity!
                if let t = target, t > current {
                    clearSince = nil
                    if raiseSince == nil { raiseSince = now }
                    if now - raiseSince! >= raiseDelay {
                        severity = t
                        raiseSince = nil
                        out.append(.severityChanged)
                    }
                } else if target == nil || target! < current {
                    raiseSince = nil
                    if clearSince == nil { clearSince = now }
                    if now - clearSince! >= clearDelay {
                        clearSince = nil
                        if let t = target {
                            severity = t
                            out.append(.severityChanged)
                        } else {
                            out.append(.resolved)
                            phase = .inactive
                            // keep severity/since for the resolved transition; cleared by caller
                        }
                    }
                } else {
                    raiseSince = nil
                    clearSince = nil
                }
                return out
            }
        }
    }

    /// When a raise or clear delay under way ends (the next instant a step with the same
    /// outcome would make a transition); nil when none is under way.
    public func nextDeadline(raiseDelay: Duration, clearDelay: Duration) -> EventTime? {
        switch phase {
        case .inactive: return nil
        case .pending: return raiseSince.map { $0 + raiseDelay }
        case .firing:
            let r = raiseSince.map { $0 + raiseDelay }, c = clearSince.map { $0 + clearDelay }
            switch (r, c) {
            case let (r?, c?): return min(r, c)
            case let (r?, nil): return r
            case let (nil, c?): return c
            default: return nil
            }
        }
    }

    /// Forget the episode (after a resolved transition has been reported).
    public mutating func reset() {
        phase = .inactive
        severity = nil
        isUnknown = false
        since = nil
        firingSince = nil
        raiseSince = nil
        clearSince = nil
    }
}

/// Helpers for writing JSON text by hand, deterministically, and for reading a field back from
/// such a line without a full parse.
public enum JSONText {
    /// Where the value of the first string field opened by `field` (the bytes `"name":"`) lies
    /// in `line`, up to its closing quote; nil if absent, unterminated, or holding an escape (the
    /// caller parses the line in full then). The first match is the field only where no value
    /// before it can hold those bytes unescaped: in lines this program writes, or a field looked
    /// for at its best.
    public static func rawStringField(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> Range<Int>? {
        guard let start = valueStart(line, field) else { return nil }
        var end = start
        while end < line.count, line[end] != 0x22 {
            if line[end] == 0x5C { return nil }
            end += 1
        }
        return end < line.count ? start..<end : nil
    }

    /// The text of the first string field opened by `field`, as `rawStringField` finds it
    /// (nil when absent, unterminated or escaped).
    public static func rawStringText(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> String? {
        rawStringField(line, field).map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) }
    }

    /// Whether `field` (its bytes, e.g. `"items":[`) occurs in `line`.
    public static func contains(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> Bool {
        valueStart(line, field) != nil
    }

    /// The whole number (digits only) of the first field opened by `field` (the bytes `"name":`).
    public static func rawIntField(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> Int? {
        guard let start = valueStart(line, field) else { return nil }
        var end = start, v = 0
        while end < line.count, line[end] >= 0x30, line[end] <= 0x39, end - start < 18 {
            v = v * 10 + Int(line[end] - 0x30)
            end += 1
        }
        return end > start ? v : nil
    }

    /// The index just after the first `field` in `line`.
    static func valueStart(_ line: UnsafeBufferPointer<UInt8>, _ field: [UInt8]) -> Int? {
        guard !field.isEmpty, line.count >= field.count else { return nil }
        var i = 0
        while i + field.count <= line.count {
            if line[i] == field[0] {
                var k = 1
                while k < field.count, line[i + k] == field[k] { k += 1 }
                if k == field.count { return i + k }
            }
            i += 1
        }
        return nil
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A number rounded to 2 decimals, without a trailing `.0`.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        return String(r)
    }
}
