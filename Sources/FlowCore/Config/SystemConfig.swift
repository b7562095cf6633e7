/// A health system: its units, its named leads and its rules (docs/configuration.md).
public struct SystemConfig: Sendable {
    public var name: String
    public var timeZone: String
    /// Rules are evaluated on this event-time tick.
    public var tick: Duration
    public var units: [UnitConfig]
    public var leads: [LeadConfig]
    public var rules: [RuleConfig]
    public var ingest: IngestLimits
    /// How long an acknowledgement lasts (`notifications.acknowledgement_expiry`; nil: until the
    /// alert resolves or gets worse). Read here, in the core, because the alert state the
    /// dashboard and `recover --alerts` show follows it; the notification policy reckons from
    /// the same value (`ackExpires`), so an acknowledgement ends on screen when the leads are
    /// told it expired.
    public var ackExpiry: Duration?

    public init(name: String, timeZone: String, tick: Duration = .minutes(1), units: [UnitConfig],
                leads: [LeadConfig] = [], rules: [RuleConfig] = [], ingest: IngestLimits = IngestLimits(),
                ackExpiry: Duration? = nil) {
        self.name = name
        self.timeZone = timeZone
        self.tick = tick
        self.units = units
        self.leads = leads
        self.rules = rules
        self.ingest = ingest
        self.ackExpiry = ackExpiry
    }

    /// When an acknowledgement given at `at` ends: its own `expires` when it has one, else `at` +
    /// `ackExpiry`; nil: never (until the alert resolves or gets worse). The one reckoning of the
    /// alert state (`RuleEngine.acknowledge`) and the notification policy
    /// (`NotificationPolicy.acknowledge`), so the dashboard and the leads see it end at one instant.
    public func ackExpires(givenAt at: EventTime, expires: EventTime?) -> EventTime? {
        expires ?? ackExpiry.map { at + $0 }
    }

    public func unitIndex(_ code: String) -> Int? { units.firstIndex { $0.code == code } }

    /// The units a selector names: unit kinds (`acute`) or unit codes (`RWH`).
    public func units(matching selector: [String]) -> [Int] {
        units.indices.filter { i in
            selector.contains(units[i].code) || selector.contains(units[i].kind.rawValue)
        }
    }

    /// The units no lead in `leads:` covers, with the severities left uncovered: their alert
    /// transitions name no lead, and where no rota covers them their notifications go only to
    /// the escalation's final leads. `check` passed a system with such a unit without a word
    /// (the ops user test); `check` and the start of `run` say it.
    public var unitsWithoutLead: [(code: String, severities: [Severity])] {
        units.compactMap { u in
            let missing = Severity.allCases.filter { sev in !leads.contains { $0.covers(unit: u, code: u.code, severity: sev) } }
            return missing.isEmpty ? nil : (u.code, missing)
        }
    }
}

public struct UnitConfig: Sendable, Equatable {
    public var code: String
    public var name: String
    public var kind: UnitKind
    /// Bed base (for display and roll-up); nil for units without beds.
    public var beds: Int?
    /// Weight in the system escalation roll-up (weights of scored units sum to 1).
    public var weight: Double?
    public init(code: String, name: String, kind: UnitKind, beds: Int? = nil, weight: Double? = nil) {
        self.code = code
        self.name = name
        self.kind = kind
        self.beds = beds
        self.weight = weight
    }
}

public struct LeadConfig: Sendable, Equatable {
    public var id: String
    public var role: String
    public var name: String
    public var contact: String?
    /// Unit codes or kinds covered; `SYSTEM` for the system-level alerts.
    public var units: [String]
    public var severities: [Severity]
    public init(id: String, role: String, name: String, contact: String?, units: [String], severities: [Severity]) {
        self.id = id
        self.role = role
        self.name = name
        self.contact = contact
        self.units = units
        self.severities = severities
    }

    public func covers(unit: UnitConfig?, code: String, severity: Severity) -> Bool {
        guard severities.contains(severity) else { return false }
        if units.contains(code) { return true }
        if let u = unit, units.contains(u.kind.rawValue) { return true }
        return false
    }
}

/// Limits of what ingest accepts (feed contract: Rejections; Late and out-of-order messages).
public struct IngestLimits: Sendable, Equatable {
    /// Live: how far ahead of the wall clock a message may be.
    public var maxFutureSkewLive: Duration = .minutes(15)
    /// Replay: how far ahead of the latest accepted event a message may jump.
    public var maxFutureSkewReplay: Duration = .hours(6)
    /// How far behind the latest accepted event a message may be.
    public var maxLateness: Duration = .hours(48)
    /// How long (event time) a message id is remembered for de-duplication.
    public var dedupWindow: Duration = .hours(48)
    /// At most this many ids remembered per feed.
    public var dedupCapacity: Int = 500_000
    public init() {}
}

public enum Direction: String, Sendable, Equatable {
    case above, below
    /// True when `value` is beyond `level` in this direction (at the level counts as beyond).
    @inline(__always)
    public func beyond(_ value: Double, _ level: Double) -> Bool {
        self == .above ? value >= level : value <= level
    }
    /// How a sentence says a level in this direction: "at or above", since a value at the level
    /// has reached it (`(warning at or above 5)` of a value of 5; "above 5" read as not yet).
    public var reachedWords: String { self == .above ? "at or above" : "at or below" }
}

public enum RuleConfig: Sendable {
    case threshold(ThresholdRule)
    case stale(StaleRule)
    case trend(TrendRule)
    case score(ScoreRule)

    public var id: String {
        switch self {
        case .threshold(let r): return r.id
        case .stale(let r): return r.id
        case .trend(let r): return r.id
        case .score(let r): return r.id
        }
    }

    /// The metrics the rule reads (a stale-feed rule reads none: only when its feed last spoke).
    public var metricsRead: [MetricKey] {
        switch self {
        case .threshold(let r): return [r.metric]
        case .trend(let r): return [r.metric]
        case .score(let r): return r.parameters.map(\.metric)
        case .stale: return []
        }
    }
}

/// Warning and critical levels with a separate clear level (hysteresis) and delays.
public struct ThresholdLevels: Sendable, Equatable {
    public var warning: Double?
    public var critical: Double?
    /// An active warning clears only once the value is back past this level.
    public var clear: Double?
    /// An active critical steps down to warning only once back past this level.
    public var criticalClear: Double?
    public init(warning: Double?, critical: Double?, clear: Double?, criticalClear: Double?) {
        self.warning = warning
        self.critical = critical
        self.clear = clear
        self.criticalClear = criticalClear
    }

    /// These levels with those `o` gives in their place (a unit's override of its rule's).
    public func overridden(by o: ThresholdLevels) -> ThresholdLevels {
        ThresholdLevels(warning: o.warning ?? warning, critical: o.critical ?? critical, clear: o.clear ?? clear,
                        criticalClear: o.criticalClear ?? criticalClear)
    }
}

public struct ThresholdRule: Sendable {
    public var id: String
    public var metric: MetricKey
    public var units: [String]
    public var direction: Direction
    public var levels: ThresholdLevels
    /// Per-site overrides of the levels (unit code -> levels; nil fields keep the default).
    public var overrides: [String: ThresholdLevels]
    /// The condition must hold this long before the alert fires (or escalates).
    public var raiseDelay: Duration
    /// The clear condition must hold this long before the alert resolves (or steps down).
    public var clearDelay: Duration
    public var source: String?

    public init(id: String, metric: MetricKey, units: [String], direction: Direction, levels: ThresholdLevels,
                overrides: [String: ThresholdLevels] = [:], raiseDelay: Duration = .zero, clearDelay: Duration = .zero,
                source: String? = nil) {
        self.id = id
        self.metric = metric
        self.units = units
        self.direction = direction
        self.levels = levels
        self.overrides = overrides
        self.raiseDelay = raiseDelay
        self.clearDelay = clearDelay
        self.source = source
    }

    /// Levels at a site, overrides applied, with defaults for the clear levels: `clear` defaults
    /// to `warning` (no hysteresis) and `criticalClear` to `critical` shifted by the same band.
    public func levels(for site: String) -> ThresholdLevels {
        var l = overrides[site].map(levels.overridden(by:)) ?? levels
        if l.clear == nil { l.clear = l.warning ?? l.critical }
        if l.criticalClear == nil, let c = l.critical {
            if let w = l.warning, let cl = l.clear { l.criticalClear = c - (w - cl) } else { l.criticalClear = c }
        }
        return l
    }
}

public struct StaleRule: Sendable {
    public var id: String
    public var feed: FeedKind
    public var units: [String]
    /// Silence longer than this is a warning.
    public var expected: Duration
    /// Silence longer than this is critical (nil: warning only).
    public var criticalAfter: Duration?
    public init(id: String, feed: FeedKind, units: [String], expected: Duration, criticalAfter: Duration? = nil) {
        self.id = id
        self.feed = feed
        self.units = units
        self.expected = expected
        self.criticalAfter = criticalAfter
    }
}

public struct TrendRule: Sendable {
    public var id: String
    public var metric: MetricKey
    public var units: [String]
    public var direction: Direction
    /// The level the projection is checked against.
    public var threshold: Double
    /// How much history the slope is fitted over.
    public var window: Duration
    /// Warn when the projected crossing is within this.
    public var horizon: Duration
    public var severity: Severity
    /// The projection must stay within the horizon this long before the alert fires.
    public var raiseDelay: Duration
    public var clearDelay: Duration
    public var source: String?
    public init(id: String, metric: MetricKey, units: [String], direction: Direction, threshold: Double,
                window: Duration, horizon: Duration, severity: Severity = .warning,
                raiseDelay: Duration = .minutes(10), clearDelay: Duration = .minutes(30), source: String? = nil) {
        self.raiseDelay = raiseDelay
        self.clearDelay = clearDelay
        self.id = id
        self.metric = metric
        self.units = units
        self.direction = direction
        self.threshold = threshold
        self.window = window
        self.horizon = horizon
        self.severity = severity
        self.source = source
    }
}

/// An OPEL-style escalation score: parameters -> points -> level 1-4 per site, and a system level
/// rolled up by unit weight.
public struct ScoreRule: Sendable {
    public struct Parameter: Sendable {
        public var metric: MetricKey
        public var direction: Direction
        /// (bound, points): the points of the furthest bound the value reaches in `direction`.
        public var bands: [(bound: Double, points: Double)]
        public init(metric: MetricKey, direction: Direction, bands: [(bound: Double, points: Double)]) {
            self.metric = metric
            self.direction = direction
            self.bands = bands
        }

        public func points(for value: Double) -> Double { Self.points(for: value, direction: direction, bands: bands) }

        /// The points of a value for bands in a direction (the rule engine reads them from its
        /// own flat copy of the bands: `RulePlan.scoreBands`).
        static func points(for value: Double, direction: Direction, bands: some Sequence<(bound: Double, points: Double)>) -> Double {
            var p = 0.0
            for b in bands where direction.beyond(value, b.bound) { p = max(p, b.points) }
            return p
        }
    }
    public var id: String
    public var units: [String]
    public var parameters: [Parameter]
    /// Score at or above `levels[k]` is level k+1 (4 entries, ascending).
    public var levels: [Double]
    public var warningLevel: Int
    public var criticalLevel: Int
    public var raiseDelay: Duration
    public var clearDelay: Duration
    /// Fewer known parameters than this share makes the score unknown.
    public var minKnownShare: Double
    public var source: String?

    public init(id: String, units: [String], parameters: [Parameter], levels: [Double], warningLevel: Int = 3,
                criticalLevel: Int = 4, raiseDelay: Duration = .zero, clearDelay: Duration = .zero,
                minKnownShare: Double = 0.5, source: String? = nil) {
        self.id = id
        self.units = units
        self.parameters = parameters
        self.levels = levels
        self.warningLevel = warningLevel
        self.criticalLevel = criticalLevel
        self.raiseDelay = raiseDelay
        self.clearDelay = clearDelay
        self.minKnownShare = minKnownShare
        self.source = source
    }

    public func level(for score: Double) -> Int { Self.level(for: score, levels: levels) }

    /// The level of a score with these `levels` (the rule engine keeps them apart from the rule).
    static func level(for score: Double, levels: [Double]) -> Int {
        var l = 1
        for (k, bound) in levels.enumerated() where score >= bound { l = k + 1 }
        return l
    }
}
