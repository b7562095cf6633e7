import DequeModule

/// Counts for one site and one local day (00:00-23:59 Europe/London), attributed the way the
/// national sitrep counts: a handover belongs to the day of the ambulance's arrival.
public struct DayLedger: Sendable, Equatable {
    public var date: LocalDate
    public var ambulanceArrivals = 0
    /// Conveyance messages (arrived, handover) attributed to this day: 0 means no data.
    public var conveyanceMessages = 0
    public var handovers = 0
    public var handoversWithin15 = 0
    public var handovers15to30 = 0
    public var handovers30to60 = 0
    public var handoversOver60 = 0
    /// Time beyond 15 minutes per handover, summed.
    public var handoverLostMillis: Int64 = 0
    public var nhs111Offered = 0
    public var nhs111Answered = 0
    public var nhs111AnsweredWithin60s = 0
    public var nhs111Abandoned = 0
    public var nhs111Intervals = 0
    /// Delayed time of DToC episodes that ended, within this day.
    public var dtocClosedDelayMillis: Int64 = 0
    /// Stock figures at 08:00 local (nil: no fresh bed state at 08:00).
    public var gaOccupancyAt0800: Double?
    public var escalationOpenAt0800: Int?
    public var dtocPatientsAt0800: Int?
    public var stockCaptured = false

    public init(date: LocalDate) { self.date = date }

    public var handoverHoursLost: Double { Double(handoverLostMillis) / 3_600_000 }
    public var nhs111AnsweredWithin60sPct: Double? {
        nhs111Answered > 0 ? Double(nhs111AnsweredWithin60s) / Double(nhs111Answered) * 100 : nil
    }
}

struct DToCEpisode: Sendable {
    var readySince: EventTime
    var reason: DToCReason
    var org: ResponsibleOrganisation
    var pathway: DischargePathway
}

struct HandedOver: Sendable {
    var handoverAt: EventTime
}

/// Ambulances arrived at a hospital and not yet handed over (incident -> arrival), with the
/// earliest arrival kept up to date as they come and go. The longest wait is read at every
/// evaluation of the handover rules and the escalation score, and many times over by the rule
/// schedule's bisection: a scan of the table per read was a large share of a replay with rules.
struct ArrivalQueue: Sendable {
    private(set) var arrivals: [KeyFingerprint: EventTime] = [:]
    /// The earliest arrival queued; nil when none is.
    private(set) var oldest: EventTime?

    var count: Int { arrivals.count }

    subscript(incident: UInt64) -> EventTime? { arrivals[KeyFingerprint(incident)] }

    /// Queues an arrival (a repeated incident takes its new time).
    mutating func insert(_ incident: UInt64, at t: EventTime) {
        if let replaced = arrivals.updateValue(t, forKey: KeyFingerprint(incident)), replaced == oldest {
            oldest = arrivals.values.min()
        } else if oldest == nil || t < oldest! {
            oldest = t
        }
    }

    /// Removes an incident; its arrival, or nil if it was not queued.
    mutating func remove(_ incident: UInt64) -> EventTime? {
        guard let arrival = arrivals.removeValue(forKey: KeyFingerprint(incident)) else { return nil }
        if arrival == oldest { oldest = arrivals.values.min() }
        return arrival
    }

    /// Drops the arrivals before `cutoff`; returns the latest of them (nil if none).
    @discardableResult
    mutating func removeArrivals(before cutoff: EventTime) -> EventTime? {
        var latest: EventTime?
        for a in arrivals.values where a < cutoff && (latest.map { a > $0 } ?? true) { latest = a }
        arrivals = arrivals.filter { $0.value >= cutoff }
        oldest = arrivals.values.min()
        return latest
    }
}

/// A timestamped value in a rolling window.
struct Stamped<T: Sendable>: Sendable {
    var at: EventTime
    var value: T
}

/// Everything the model holds for one unit. Memory is bounded: queues and episode tables are
/// capped, windows are pruned by time, ledgers keep three days, history is a fixed ring.
///
/// A class, mutated in place: copying a struct of collections out of an array and back on every
/// message made each mutation copy the collections (measured: most of the replay time).
/// `FlowModel` owns its sites and never shares them.
final class SiteFlow: @unchecked Sendable {
    static let maxOpenEpisodes = 10_000
    static let maxQueue = 2_000
    static let maxAwaitingClear = 2_000
    static let ledgerDays = 3

    // Beds
    var bed: BedState?
    var bedAt: EventTime?

    // DToC
    var episodes: [KeyFingerprint: DToCEpisode] = [:]
    var dtocSnapshot: DToCCounts?
    var dtocSnapshotAt: EventTime?
    /// True when the latest DToC message was a snapshot (counts come from it, not episodes).
    var dtocUsesSnapshot = false
    var dtocSeen = false

    // 111
    var intervals: Deque<Stamped<NHS111Interval>> = []

    // Ambulance conveyances
    var queue = ArrivalQueue()                      // incident -> arrival, not yet handed over
    var awaitingClear: [KeyFingerprint: (arrival: EventTime, handover: EventTime)] = [:]
    var recentClears: Deque<Stamped<Double>> = []   // handover-to-clear minutes, last hour
    var ambulanceConveyanceSeen = false
    /// The latest clear dropped from `recentClears`, and the latest arrival dropped from `queue`
    /// unhanded after 24 h, by housekeeping on the model's clock: a back-fill of an earlier
    /// sample leaves the figures they would have counted in missing (HistoryBackfill.swift).
    var latestPrunedClear: EventTime?
    var latestPurgedArrival: EventTime?

    // Ambulance service
    var status: AmbulanceServiceStatus?
    var statusAt: EventTime?

    // Per-day counts (oldest first).
    var ledgers: [DayLedger] = []
    /// The day whose ledger has its 08:00 stock taken: until the next day, housekeeping does not
    /// look that ledger up again (a lookup per site at every housekeeping after 08:00).
    var stockTakenOn = LocalDate(dayNumber: .min)

    /// The index of the ledger of `date`, created if it is within the kept days.
    func ledger(for date: LocalDate) -> Int? {
        if let i = ledgerIndex(date) { return i }
        if let last = ledgers.last, date < last.date {
            // Older than what we keep: only if within the kept days.
            if let first = ledgers.first, date < first.date, ledgers.count >= Self.ledgerDays { return nil }
        }
        ledgers.append(DayLedger(date: date))
        ledgers.sort { $0.date < $1.date }
        return ledgers.firstIndex { $0.date == date }
    }

    func ledgerIfPresent(_ date: LocalDate) -> DayLedger? { ledgerIndex(date).map { ledgers[$0] } }

    /// The index of the ledger of `date`, if kept. Metric reads take their one field through it:
    /// a copy of the whole ledger (162 bytes, by memcpy) per read was 2% of a replay with rules.
    func ledgerIndex(_ date: LocalDate) -> Int? { ledgers.lastIndex { $0.date == date } }
}

/// A pseudonymous key's fingerprint (`FeedMessage`'s patient and incident keys, FNV-1a of the
/// key) as a dictionary key. Already a hash: placed by a multiply with the dictionary's seed,
/// where `UInt64`'s own hashing ran SipHash over it at every look-up (the ambulance queue and
/// the handovers awaiting a clear take two a message; 2 to 3% of a headless replay at issue 6's
/// pace, perf).
struct KeyFingerprint: Hashable, Sendable {
    let bits: UInt64
    @inline(__always) init(_ bits: UInt64) { self.bits = bits }
    func hash(into hasher: inout Hasher) { hasher.combine(bits) }
    @inline(__always) func _rawHashValue(seed: Int) -> Int {
        let x = (bits ^ UInt64(truncatingIfNeeded: seed)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: x ^ (x >> 32))
    }
}
