import FlowCore
@testable import FlowTerminal

/// Realistic snapshots of the Hertfordshire system on a bad winter morning.
enum Fixtures {
    static let t0 = EventTime(seconds: 1_767_600_900) // 2026-01-05 08:15 UTC

    static func reading(_ k: MetricKey, _ v: Double?, _ s: Status, trend: Int? = 1,
                        warn: Double? = nil, crit: Double? = nil, history: [Double?]? = nil) -> MetricReading {
        let h = history ?? (0..<24).map { i in v.map { $0 - Double(24 - i) * 0.2 } }
        return MetricReading(key: k, value: v, status: v == nil ? .unknown : s, history: h,
                             historyStep: .minutes(15), warningLevel: warn, criticalLevel: crit, trend: trend)
    }

    static func acute(_ code: String, _ name: String, occ: Double?, occStatus: Status, dtoc: Double?, ambQ: Double?,
                      status: Status, opel: Int?, declared: Int?) -> SiteSnapshot {
        SiteSnapshot(
            code: code, name: name, kind: .acute, status: status, opelLevel: opel, opelScore: opel.map { Double($0 * 10) },
            declaredOpel: declared,
            metrics: [
                reading(.gaOccupancyPct, occ, occStatus, warn: 92, crit: 95),
                reading(.escalationBedsOpen, 24, .warning),
                reading(.dtocPatients, dtoc, .ok, trend: 0),
                reading(.ambulanceQueue, ambQ, ambQ.map { $0 >= 8 ? .critical : .ok } ?? .unknown, warn: 4, crit: 8),
                reading(.ambulanceLongestWaitMin, 95, .critical),
                reading(.handoversOver60, 6, .warning),
                reading(.ed4hPct, 71.2, .warning, trend: -1, warn: 78, crit: 70),
                reading(.edInDepartment, 112, .ok),
                reading(.edDtaWaiting, 31, .warning),
                reading(.handoverHoursLost, 17.5, .critical),
                reading(.opelLevel, opel.map(Double.init), opel == 4 ? .critical : .warning),
            ],
            staleFeeds: [], lastSeen: [.bed: t0 - .minutes(10)])
    }

    static func snapshot(replay: ReplayStatus? = ReplayStatus(scenarioName: "winter", speed: 60, paused: false, finished: false, progress: 0.34),
                         extraAlerts: Int = 0) -> DashboardSnapshot {
        let sites: [SiteSnapshot] = [
            acute("RWH", "Lister Hospital", occ: 97.3, occStatus: .critical, dtoc: 61, ambQ: 9, status: .critical, opel: 4, declared: 3),
            acute("RWG", "Watford General Hospital", occ: nil, occStatus: .unknown, dtoc: 74, ambQ: 3, status: .unknown, opel: nil, declared: 3),
            acute("RQW", "Princess Alexandra Hospital", occ: 91.0, occStatus: .ok, dtoc: 40, ambQ: 0, status: .warning, opel: 2, declared: 2),
            SiteSnapshot(code: "HCT", name: "Hertfordshire Community NHS Trust", kind: .community, status: .ok, opelLevel: 2,
                         opelScore: nil, declaredOpel: nil,
                         metrics: [reading(.gaOccupancyPct, 88.5, .ok), reading(.dtocPatients, 12, .ok)],
                         staleFeeds: [], lastSeen: [:]),
            SiteSnapshot(code: "HUC", name: "Herts Urgent Care 111", kind: .nhs111, status: .warning, opelLevel: nil,
                         opelScore: nil, declaredOpel: nil,
                         metrics: [reading(.nhs111Offered, 412, .ok),
                                   reading(.nhs111AnsweredWithin60sPct, 61.5, .warning, trend: -1, warn: 80, crit: 60),
                                   reading(.nhs111AbandonedPct, 4.2, .ok),
                                   reading(.nhs111UrgentDispositionPct, nil, .unknown)],
                         staleFeeds: [.nhs111], lastSeen: [:]),
            SiteSnapshot(code: "EEAST", name: "East of England Ambulance Service", kind: .ambulance, status: .critical, opelLevel: nil,
                         opelScore: nil, declaredOpel: nil,
                         metrics: [reading(.stackWaiting, 412, .critical), reading(.cat2MeanMin, 58, .critical)],
                         staleFeeds: [], lastSeen: [:]),
        ]
        var alerts: [AlertSnapshot] = [
            AlertSnapshot(rule: "ga_occupancy_high", site: "RWH", severity: .critical, state: .firing, value: 97.3,
                          summary: "Lister G&A occupancy 97.3% (critical at or above 95%)", since: t0 - .minutes(125),
                          leadID: "enh-oncall", leadName: "ENHT on-call manager", acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil),
            AlertSnapshot(rule: "handover_queue", site: "RWH", severity: .critical, state: .firing, value: 9,
                          summary: "Lister 9 ambulances waiting", since: t0 - .minutes(40),
                          leadID: "eeast-tl", leadName: "EEAST tactical lead", acknowledgedBy: "Sam Patel",
                          acknowledgedAt: t0 - .minutes(30), ackNote: "HALO deployed"),
            AlertSnapshot(rule: "answered_60s_low", site: "HUC", severity: .warning, state: .firing, value: 61.5,
                          summary: "111 calls answered within 60s 61.5%", since: t0 - .minutes(20),
                          leadID: nil, leadName: nil, acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil),
            AlertSnapshot(rule: "feed_stale_bed", site: "RWG", severity: .warning, state: .unknown, value: nil,
                          summary: "Watford bed feed silent", since: t0 - .minutes(75),
                          leadID: "whht", leadName: "WHHT site manager", acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil),
        ]
        for i in 0..<extraAlerts {
            alerts.append(AlertSnapshot(rule: "extra_\(i)", site: "RQW", severity: .warning, state: .pending, value: Double(i),
                                        summary: "extra \(i)", since: t0 - .minutes(Int64(i)), leadID: nil, leadName: nil,
                                        acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil))
        }
        return DashboardSnapshot(
            systemName: "Hertfordshire and West Essex", timeZone: "Europe/London", now: t0,
            localClock: "2026-01-05 08:15 GMT", systemLevel: 3, systemScore: 27.5,
            feeds: [FeedHealth(feed: .bed, lastMessage: t0 - .minutes(2), age: .minutes(2), accepted: 300, rejected: 0),
                    FeedHealth(feed: .dtoc, lastMessage: t0 - .minutes(14), age: .minutes(14), accepted: 40, rejected: 2),
                    FeedHealth(feed: .nhs111, lastMessage: t0 - .minutes(75), age: .minutes(75), accepted: 96, rejected: 0,
                               staleSites: ["HUC"]),
                    FeedHealth(feed: .ambulance, lastMessage: nil, age: nil, accepted: 0, rejected: 1)],
            sites: sites, alerts: alerts, rejectedTotal: 3, replay: replay)
    }
}

/// A driver that records commands and serves a scripted snapshot.
final class FakeDriver: DashboardDriver {
    var current: DashboardSnapshot
    var pendingChange = false
    var commands: [DriverCommand] = []
    var advanceCount = 0
    var reply: String?
    /// Answers that come after `perform` (`lateMessage`), oldest first.
    var late: [String] = []

    init(_ s: DashboardSnapshot = Fixtures.snapshot()) { current = s }

    func lateMessage() -> String? { late.isEmpty ? nil : late.removeFirst() }

    func advance() -> Bool {
        advanceCount += 1
        defer { pendingChange = false }
        return pendingChange
    }

    func snapshot() -> DashboardSnapshot { current }

    func perform(_ command: DriverCommand) -> String? {
        commands.append(command)
        switch command {
        case .setPaused(let p): current.replay?.paused = p
        case .faster: current.replay?.speed *= 2
        case .slower: current.replay?.speed /= 2
        case .stepEvent, .nextAlertTransition: current.now = current.now + .minutes(1)
        case .jump(let d): current.now = current.now + d
        case .rewindToStart: current.now = EventTime(millis: 0)
        case .acknowledge(let rule, let site, let by, let note):
            if let i = current.alerts.firstIndex(where: { $0.rule == rule && $0.site == site }) {
                current.alerts[i].acknowledgedBy = by
                current.alerts[i].ackNote = note
                current.alerts[i].acknowledgedAt = current.now
            }
        case .silence(let rule, let site, let by, let duration, let reason):
            for i in current.alerts.indices where current.alerts[i].site == site && (rule == nil || current.alerts[i].rule == rule) {
                current.alerts[i].silencedUntil = current.now + duration
                current.alerts[i].silencedBy = by
                current.alerts[i].silenceReason = reason
            }
        }
        return reply
    }

    /// Changes the data as a new event would.
    func push(_ change: (inout DashboardSnapshot) -> Void) {
        change(&current)
        pendingChange = true
    }
}

func render(_ c: DashboardController, _ w: Int, _ h: Int, theme: Theme = Theme(name: .standard, depth: .full256)) -> CellGrid {
    var g = CellGrid(width: w, height: h)
    c.render(into: &g, theme: theme)
    return g
}

let allSizes: [(Int, Int)] = [(60, 20), (80, 24), (120, 40), (200, 50)]
