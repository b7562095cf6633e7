/// Everything a screen needs for one frame, as plain values.
///
/// The flow model and the alert engine produce a `DashboardSnapshot`; the terminal UI (or any
/// other view) only reads it. Status roles are decided here, outside the views, so that every
/// view agrees on what is amber and what is red.
public struct DashboardSnapshot: Sendable, Equatable {
    public var systemName: String
    public var timeZone: String
    /// The event clock (the epoch until a line has set it; `localClock` then says so).
    public var now: EventTime
    /// Local rendering of `now` (`2026-01-05 08:15 GMT`-style, decided by the calendar), or
    /// `FlowEngine.noClock` ("no data yet") before any line has set the event clock.
    public var localClock: String
    /// The automated system escalation level (1-4), nil when not enough data.
    public var systemLevel: Int?
    public var systemScore: Double?
    public var feeds: [FeedHealth]
    public var sites: [SiteSnapshot]
    /// Active alerts (pending, firing, unknown), most severe first, then oldest first.
    public var alerts: [AlertSnapshot]
    /// Lines rejected so far, all feeds.
    public var rejectedTotal: Int
    /// The latest rejected line, where and why (live: its source and line number), when known.
    public var lastRejection: String? = nil
    /// Live: the service's latest warning (a journal commit refused by a full disk, a state file
    /// not written, ...) while it is recent; warnings cannot go to the terminal the screen owns.
    public var serviceWarning: String? = nil
    /// Live: the journal holds the input (a full disk: no line is taken, and the rule ticks wait)
    /// since this local time (`21:12`); nil while it writes. Shown for as long as it lasts, where
    /// a warning is shown only for a while after it was said.
    public var journalHeldSince: String? = nil
    /// Set when the snapshot comes from a replay.
    public var replay: ReplayStatus?

    public init(systemName: String, timeZone: String, now: EventTime, localClock: String,
                systemLevel: Int?, systemScore: Double?, feeds: [FeedHealth], sites: [SiteSnapshot],
                alerts: [AlertSnapshot], rejectedTotal: Int, replay: ReplayStatus?) {
        self.systemName = systemName
        self.timeZone = timeZone
        self.now = now
        self.localClock = localClock
        self.systemLevel = systemLevel
        self.systemScore = systemScore
        self.feeds = feeds
        self.sites = sites
        self.alerts = alerts
        self.rejectedTotal = rejectedTotal
        self.replay = replay
    }
}

public struct ReplayStatus: Sendable, Equatable {
    public var scenarioName: String
    /// Event seconds per wall second; `0` means as fast as possible.
    public var speed: Double
    public var paused: Bool
    public var finished: Bool
    /// Fraction of the scenario played, 0...1.
    public var progress: Double
    public init(scenarioName: String, speed: Double, paused: Bool, finished: Bool, progress: Double) {
        self.scenarioName = scenarioName
        self.speed = speed
        self.paused = paused
        self.finished = finished
        self.progress = progress
    }
}

public struct FeedHealth: Sendable, Equatable {
    public var feed: FeedKind
    /// Event time of the last accepted message on this feed, any site (nil: none yet).
    public var lastMessage: EventTime?
    /// Age of the last message on the event clock.
    public var age: Duration?
    public var accepted: Int
    public var rejected: Int
    /// The codes of the sites whose stale-feed rule for this feed is active, in unit order: the
    /// age above is of the freshest site's last message, so `Beds 1m stale` needs to say whose.
    public var staleSites: [String]
    /// True when any stale-feed rule for this feed is active.
    public var stale: Bool { !staleSites.isEmpty }
    public init(feed: FeedKind, lastMessage: EventTime?, age: Duration?, accepted: Int, rejected: Int,
                staleSites: [String] = []) {
        self.feed = feed
        self.lastMessage = lastMessage
        self.age = age
        self.accepted = accepted
        self.rejected = rejected
        self.staleSites = staleSites
    }
}

/// One metric of one site, with its status and recent history.
public struct MetricReading: Sendable, Equatable {
    public var key: MetricKey
    /// nil: missing or stale. Never shown as zero.
    public var value: Double?
    public var status: Status
    /// Recent history at the model's resolution, oldest first; nil where no data.
    public var history: [Double?]
    /// Resolution of `history`.
    public var historyStep: Duration
    /// Warning and critical levels of the rule on this metric at this site, if any.
    public var warningLevel: Double?
    public var criticalLevel: Double?
    /// +1 rising, -1 falling, 0 flat, nil unknown (over the last hour).
    public var trend: Int?
    /// When the last sample of `history` was taken (nil: not known). `value` is the value at
    /// the snapshot's `now`, which is later than it between samples.
    public var historyEnd: EventTime?
    public init(key: MetricKey, value: Double?, status: Status, history: [Double?], historyStep: Duration,
                warningLevel: Double?, criticalLevel: Double?, trend: Int?, historyEnd: EventTime? = nil) {
        self.historyEnd = historyEnd
        self.key = key
        self.value = value
        self.status = status
        self.history = history
        self.historyStep = historyStep
        self.warningLevel = warningLevel
        self.criticalLevel = criticalLevel
        self.trend = trend
    }
}

public struct SiteSnapshot: Sendable, Equatable {
    public var code: String
    public var name: String
    public var kind: UnitKind
    /// Worst status over the site's metrics and alerts.
    public var status: Status
    /// Automated escalation level (1-4) from the score rule; nil when not scored or unknown.
    public var opelLevel: Int?
    public var opelScore: Double?
    /// Level declared by the trust in its bed feed.
    public var declaredOpel: Int?
    /// The metrics shown for this kind of unit, in display order.
    public var metrics: [MetricReading]
    /// Feeds this site is expected to send that are currently stale.
    public var staleFeeds: [FeedKind]
    /// Event time of the last accepted message per feed for this site.
    public var lastSeen: [FeedKind: EventTime]
    public init(code: String, name: String, kind: UnitKind, status: Status, opelLevel: Int?, opelScore: Double?,
                declaredOpel: Int?, metrics: [MetricReading], staleFeeds: [FeedKind], lastSeen: [FeedKind: EventTime]) {
        self.code = code
        self.name = name
        self.kind = kind
        self.status = status
        self.opelLevel = opelLevel
        self.opelScore = opelScore
        self.declaredOpel = declaredOpel
        self.metrics = metrics
        self.staleFeeds = staleFeeds
        self.lastSeen = lastSeen
    }

    public func metric(_ key: MetricKey) -> MetricReading? { metrics.first { $0.key == key } }
}

public enum AlertState: String, Sendable, Equatable, Codable {
    /// Condition met, waiting out the raise delay.
    case pending
    case firing
    /// Firing, but the data it depends on is missing or stale: not resolved.
    case unknown
    case resolved
}

/// What an alert's rule watches: a metric against its levels, a metric's trend toward its
/// threshold, a feed's silence, or the escalation score.
public enum AlertCause: Sendable, Equatable {
    case metric(MetricKey)
    case trend(MetricKey)
    case stale(FeedKind)
    case score
}

/// Why no message of an alert's episode went to anyone (with notifications).
public enum NotWarned: String, Sendable, Equatable {
    /// A silence covered it when it fired (or changed): nothing is sent while it lasts.
    case silenced
    /// Held back as flapping ("unstable"): nothing more is sent until it has been quiet a while.
    case unstable
    /// Nothing sent yet, for no reason above (the policy has not decided on it yet).
    case notYet
}

public struct AlertSnapshot: Sendable, Equatable {
    public var rule: String
    public var site: String
    public var severity: Severity
    public var state: AlertState
    public var value: Double?
    /// Human sentence: "Lister G&A occupancy 95.4% (critical at or above 95%)".
    public var summary: String
    /// When it entered its current active episode (first pending or firing).
    public var since: EventTime
    /// When the current episode fired (the alert log's `firing` line's `at`); nil while
    /// pending, and for urgentflow's own alerts (`since` is when they fired).
    public var firedAt: EventTime?
    /// Who it was sent to (lead id and name), resolved when it fired.
    public var leadID: String?
    public var leadName: String?
    /// With notifications (FlowNotify): the latest message to `leadName` waits in their digest
    /// (their budget of messages is spent), which goes out at the first tick from this instant.
    /// nil when it went out, and without notifications.
    public var heldForDigestUntil: EventTime?
    /// With notifications: who was last actually told of it (nil: nobody yet). Differs from
    /// `leadName` while a message to a new lead (an escalation) is held for their digest.
    public var toldName: String?
    /// With notifications (FlowNotify): nobody has been sent a message of this episode, and
    /// why (`leadID`/`leadName` are then nil). nil when a message went out, while pending, and
    /// without notifications, where `leadName` is the core's lead, resolved when it fired.
    public var notWarned: NotWarned?
    public var acknowledgedBy: String?
    public var acknowledgedAt: EventTime?
    public var ackNote: String?
    /// When the acknowledgement shown expires (nil: none, or it lasts until the alert resolves).
    public var ackExpires: EventTime?
    /// An acknowledgement that expired (`acknowledgement_expiry`, or its own expiry): who gave
    /// it and when it expired. The alert is not acknowledged (`acknowledgedBy` is nil) and the
    /// leads are told again; the dashboard says "ack expired". An acknowledgement cleared
    /// because the alert got worse leaves nothing here.
    public var expiredAckBy: String?
    public var ackExpiredAt: EventTime?
    /// Set while a silence covers the alert: notifications stop until then.
    public var silencedUntil: EventTime?
    public var silencedBy: String?
    public var silenceReason: String?
    /// urgentflow's own alert that this notifier keeps failing (rule `notifier_failing`, site
    /// SYSTEM): the notifier's name, which tells these alerts apart (one per failing notifier,
    /// all with the same rule and site). Nobody acknowledges them: they clear when a delivery
    /// to the notifier succeeds. nil for the rules' alerts.
    public var notifier: String?
    /// What the alert's rule watches (the core's: the dashboard's Why column names a site's
    /// cause from it); nil for urgentflow's own alerts. The column read a stale feed's alert
    /// from its sentence and named a trend rule's by its rule id.
    public var cause: AlertCause?
    public init(rule: String, site: String, severity: Severity, state: AlertState, value: Double?, summary: String,
                since: EventTime, leadID: String?, leadName: String?, acknowledgedBy: String?,
                acknowledgedAt: EventTime?, ackNote: String?, silencedUntil: EventTime? = nil, silencedBy: String? = nil,
                silenceReason: String? = nil, notifier: String? = nil) {
        self.notifier = notifier
        self.silencedUntil = silencedUntil
        self.silencedBy = silencedBy
        self.silenceReason = silenceReason
        self.rule = rule
        self.site = site
        self.severity = severity
        self.state = state
        self.value = value
        self.summary = summary
        self.since = since
        self.leadID = leadID
        self.leadName = leadName
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.ackNote = ackNote
    }
}
