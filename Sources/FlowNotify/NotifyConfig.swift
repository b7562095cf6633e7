import FlowCore

/// The `notifications:` section of a system file (docs/notifications.md).
public struct NotificationConfig: Sendable {
    /// People on call only through a rota, in addition to the core `leads:` (same fields).
    public var leads: [LeadConfig] = []
    /// Who is on call for which units and severities at which local times; first match wins.
    public var rotas: [Rota]
    /// Escalation: an alert not acknowledged within this time goes to the next lead of its chain.
    public var escalation: EscalationPolicy
    /// An unacknowledged alert is sent again at this interval (nil: never).
    public var repeatInterval: Duration?
    public var flapping: FlappingSettings
    public var budget: LeadBudget
    public var notifiers: [NotifierConfig]
    public var routes: [Route]

    public init(rotas: [Rota] = [], escalation: EscalationPolicy = EscalationPolicy(), repeatInterval: Duration? = .hours(1),
                flapping: FlappingSettings = FlappingSettings(), budget: LeadBudget = LeadBudget(),
                notifiers: [NotifierConfig] = [], routes: [Route] = []) {
        self.rotas = rotas
        self.escalation = escalation
        self.repeatInterval = repeatInterval
        self.flapping = flapping
        self.budget = budget
        self.notifiers = notifiers
        self.routes = routes
    }
}

public enum Weekday: Int, Sendable, CaseIterable, Comparable {
    case mon = 0, tue, wed, thu, fri, sat, sun
    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
    public var name: String { ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue] }
    public init?(name: String) {
        guard let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].firstIndex(of: name.lowercased().prefix(3).description) else { return nil }
        self.init(rawValue: i)
    }
    /// The weekday of a local day (1970-01-01 was a Thursday).
    public init(_ day: LocalDate) {
        var r = (day.dayNumber + 3) % 7
        if r < 0 { r += 7 }
        self.init(rawValue: Int(r))!
    }
    public var previous: Weekday { Weekday(rawValue: (rawValue + 6) % 7)! }
}

/// One shift of a rota: on these local weekdays, from `from` to `to` local wall-clock time
/// (minutes after local midnight). When `to <= from` the shift runs past midnight and belongs
/// to the day it starts on (a Friday night shift 20:00-08:00 covers Saturday 03:00).
public struct Shift: Sendable, Equatable {
    public var name: String
    public var days: Set<Weekday>
    public var from: Int
    public var to: Int
    /// The escalation chain: the first lead, then the next when unacknowledged.
    public var leads: [String]
    public init(name: String, days: Set<Weekday>, from: Int, to: Int, leads: [String]) {
        self.name = name
        self.days = days
        self.from = from
        self.to = to
        self.leads = leads
    }

    /// Whether the shift covers a local wall-clock minute on a local weekday.
    public func covers(day: Weekday, minute: Int) -> Bool {
        if from < to { return days.contains(day) && minute >= from && minute < to }
        // Wraps midnight (or a full 24 h when from == to).
        return (days.contains(day) && minute >= from) || (days.contains(day.previous) && minute < to)
    }
}

/// A rota: the units (codes, kinds or `SYSTEM`) and severities it covers, and its shifts.
public struct Rota: Sendable, Equatable {
    public var id: String
    public var units: [String]
    public var severities: [Severity]
    public var shifts: [Shift]
    public init(id: String, units: [String], severities: [Severity] = Severity.allCases, shifts: [Shift]) {
        self.id = id
        self.units = units
        self.severities = severities
        self.shifts = shifts
    }
}

public struct EscalationPolicy: Sendable, Equatable {
    /// Time an alert may stay unacknowledged with one lead before it goes to the next.
    public var after: Duration
    /// A shorter time for critical alerts (nil: `after`).
    public var criticalAfter: Duration?
    /// Leads appended to every chain (for example the system director), in order.
    public var finally: [String]
    public init(after: Duration = .minutes(30), criticalAfter: Duration? = nil, finally: [String] = []) {
        self.after = after
        self.criticalAfter = criticalAfter
        self.finally = finally
    }
    public func after(_ s: Severity) -> Duration { s == .critical ? (criticalAfter ?? after) : after }
}

/// Flapping (after Nagios): this many state changes of one alert within `window` make it
/// unstable; it is sent once as `unstable` and is stable again after `quiet` without a change.
public struct FlappingSettings: Sendable, Equatable {
    public var enabled: Bool
    public var window: Duration
    public var changes: Int
    public var quiet: Duration
    public init(enabled: Bool = true, window: Duration = .hours(1), changes: Int = 4, quiet: Duration = .hours(1)) {
        self.enabled = enabled
        self.window = window
        self.changes = changes
        self.quiet = quiet
    }
}

/// At most `max` messages to one lead within `window`; beyond that, messages are held and sent
/// as one digest `digestAfter` after the first one held.
public struct LeadBudget: Sendable, Equatable {
    public var max: Int
    public var window: Duration
    public var digestAfter: Duration
    public init(max: Int = 6, window: Duration = .minutes(30), digestAfter: Duration = .minutes(15)) {
        self.max = max
        self.window = window
        self.digestAfter = digestAfter
    }
}

public struct NotifierConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Append-only JSON Lines alert log (every transition and notification, whatever the routes).
        case log(path: String)
        /// Runs `argv` per notification with the notification JSON on stdin.
        case command(argv: [String], timeout: Duration)
        /// POSTs the notification JSON to `url`.
        case webhook(url: String, timeout: Duration, headers: [String: String])
        /// Prometheus Alertmanager v2 API at `url` (base, e.g. http://127.0.0.1:9093).
        case alertmanager(url: String, timeout: Duration, validFor: Duration)
    }
    public var name: String
    public var kind: Kind
    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// Which notifications go to which notifier. Every matching route applies; an empty field
/// matches everything.
public struct Route: Sendable, Equatable {
    public var notifier: String
    public var units: [String]
    public var severities: [Severity]
    public var kinds: [NotificationKind]
    public var rules: [String]
    public init(notifier: String, units: [String] = [], severities: [Severity] = [], kinds: [NotificationKind] = [], rules: [String] = []) {
        self.notifier = notifier
        self.units = units
        self.severities = severities
        self.kinds = kinds
        self.rules = rules
    }
}

extension NotificationConfig {
    /// What to say of the units no core lead covers (`SystemConfig.unitsWithoutLead`), one line
    /// each: `check` and the start of `run` say them (a warning: rotas may cover the hours).
    public func unitsWithoutLeadWarnings(system: SystemConfig) -> [String] {
        system.unitsWithoutLead.map { u in
            let which = u.severities.map(\.rawValue).joined(separator: " and ")
            var s = "no lead in leads: covers \(u.code) for \(which) alerts: its alert transitions name no lead"
            if !notifiers.isEmpty {
                let finals = escalation.finally
                s += finals.isEmpty ? "; where no rota covers it, nobody is notified"
                    : "; where no rota covers it, only \(finals.joined(separator: ", ")) (escalation.finally) \(finals.count == 1 ? "is" : "are") notified"
            }
            return s
        }
    }
}
