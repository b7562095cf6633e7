/// Every metric the flow model can report, by the name used in the configuration.
///
/// Three aggregation semantics (urgent-care-flow.md): snapshots (beds, queues now), flows over a
/// rolling window (last hour), and cumulative counts since local midnight.
public enum MetricKey: String, CaseIterable, Sendable, Hashable, Codable {
    // Beds (snapshot, bed feed)
    case gaOccupancyPct = "ga_occupancy_pct"
    case gaOccupancyInclEscPct = "ga_occupancy_incl_esc_pct"
    case escalationBedsOpen = "escalation_beds_open"
    case escalationSharePct = "escalation_share_pct"
    case bedsClosed = "beds_closed"
    // ED (snapshot, carried with bed state)
    case edInDepartment = "ed_in_department"
    case edDtaWaiting = "ed_dta_waiting"
    case ed4hPct = "ed_4h_pct"
    case edOver12h = "ed_over_12h"
    case edOver12hSharePct = "ed_over_12h_share_pct"
    // DToC / NCTR
    case dtocPatients = "dtoc_patients"
    case dtocSharePct = "dtoc_share_pct"
    case dtocBedDays = "dtoc_bed_days"
    case dtocLongestDays = "dtoc_longest_days"
    // Ambulance at a hospital
    case ambulanceQueue = "ambulance_queue"
    case ambulanceLongestWaitMin = "ambulance_longest_wait_min"
    case ambulanceArrivals = "ambulance_arrivals"
    case handovers30to60 = "handovers_30_60"
    case handoversOver60 = "handovers_over_60"
    case handoverHoursLost = "handover_hours_lost"
    case handoverToClearMin = "handover_to_clear_min"
    // Ambulance service
    case stackWaiting = "stack_waiting"
    case cat2MeanMin = "cat2_mean_min"
    // NHS 111 (last hour unless stated)
    case nhs111Offered = "nhs111_offered"
    case nhs111AnsweredWithin60sPct = "nhs111_answered_60s_pct"
    case nhs111AbandonedPct = "nhs111_abandoned_pct"
    case nhs111UrgentDispositionPct = "nhs111_urgent_disposition_pct"
    case nhs111AmbulanceDispositionPct = "nhs111_ambulance_disposition_pct"
    case nhs111EDDispositionPct = "nhs111_ed_disposition_pct"
    case nhs111OfferedToday = "nhs111_offered_today"
    // Escalation
    case opelScore = "opel_score"
    case opelLevel = "opel_level"

    /// The feed a metric is derived from (nil: derived from other metrics).
    public var feed: FeedKind? {
        switch self {
        case .gaOccupancyPct, .gaOccupancyInclEscPct, .escalationBedsOpen, .escalationSharePct,
             .bedsClosed, .edInDepartment, .edDtaWaiting, .ed4hPct, .edOver12h, .edOver12hSharePct:
            return .bed
        case .dtocPatients, .dtocBedDays, .dtocLongestDays:
            return .dtoc
        case .dtocSharePct:
            return .dtoc
        case .ambulanceQueue, .ambulanceLongestWaitMin, .ambulanceArrivals, .handovers30to60,
             .handoversOver60, .handoverHoursLost, .handoverToClearMin, .stackWaiting, .cat2MeanMin:
            return .ambulance
        case .nhs111Offered, .nhs111AnsweredWithin60sPct, .nhs111AbandonedPct,
             .nhs111UrgentDispositionPct, .nhs111AmbulanceDispositionPct, .nhs111EDDispositionPct,
             .nhs111OfferedToday:
            return .nhs111
        case .opelScore, .opelLevel:
            return nil
        }
    }

    /// A second feed the metric is computed from: the bed feed for the DToC share of beds (its
    /// denominator is the bed base). A message on it can change the value, and its staleness
    /// makes the value unknown.
    public var alsoReads: FeedKind? { self == .dtocSharePct ? .bed : nil }

    /// Every feed the metric is computed from (`feed`, then `alsoReads`): what makes a rule
    /// reading it due (RuleSchedule) and what its value's freshness depends on.
    public var feedsRead: [FeedKind] { [feed, alsoReads].compactMap { $0 } }

    /// Short label for screens.
    public var label: String {
        switch self {
        case .gaOccupancyPct: return "G&A occ"
        case .gaOccupancyInclEscPct: return "G&A occ incl esc"
        case .escalationBedsOpen: return "Esc beds"
        case .escalationSharePct: return "Esc share"
        case .bedsClosed: return "Closed"
        case .edInDepartment: return "In ED"
        case .edDtaWaiting: return "DTA wait"
        case .ed4hPct: return "4h perf"
        case .edOver12h: return ">12h in ED"
        case .edOver12hSharePct: return ">12h share"
        case .dtocPatients: return "DToC"
        case .dtocSharePct: return "DToC share"
        case .dtocBedDays: return "Delayed bed-days"
        case .dtocLongestDays: return "Longest delay"
        case .ambulanceQueue: return "Amb queue"
        case .ambulanceLongestWaitMin: return "Longest wait"
        case .ambulanceArrivals: return "Arrivals"
        case .handovers30to60: return "HO 30-60"
        case .handoversOver60: return "HO >60"
        case .handoverHoursLost: return "Hours lost"
        case .handoverToClearMin: return "HO to clear"
        case .stackWaiting: return "999 stack"
        case .cat2MeanMin: return "Cat2 mean"
        case .nhs111Offered: return "111 offered/h"
        case .nhs111AnsweredWithin60sPct: return "Ans <60s"
        case .nhs111AbandonedPct: return "Abandoned"
        case .nhs111UrgentDispositionPct: return "Amb+ED disp"
        case .nhs111AmbulanceDispositionPct: return "Amb disp"
        case .nhs111EDDispositionPct: return "ED disp"
        case .nhs111OfferedToday: return "111 today"
        case .opelScore: return "OPEL score"
        case .opelLevel: return "OPEL"
        }
    }

    /// Unit suffix for display: `%`, `min`, `h`, `d` or empty for counts.
    public var unit: String {
        switch self {
        case .gaOccupancyPct, .gaOccupancyInclEscPct, .escalationSharePct, .ed4hPct,
             .edOver12hSharePct, .dtocSharePct, .nhs111AnsweredWithin60sPct, .nhs111AbandonedPct,
             .nhs111UrgentDispositionPct, .nhs111AmbulanceDispositionPct, .nhs111EDDispositionPct:
            return "%"
        case .ambulanceLongestWaitMin, .handoverToClearMin, .cat2MeanMin: return "min"
        case .handoverHoursLost: return "h"
        case .dtocBedDays, .dtocLongestDays: return "d"
        default: return ""
        }
    }

    /// Whether the metric can have a value for a unit of this kind.
    public func applies(to kind: UnitKind) -> Bool {
        switch self {
        case .opelScore, .opelLevel: return kind == .acute
        default: break
        }
        switch feed {
        case .bed?: return kind == .acute || kind == .community || kind == .mentalHealth || kind == .urgentTreatment
        case .dtoc?: return kind == .acute || kind == .community || kind == .mentalHealth
        case .nhs111?: return kind == .nhs111
        case .ambulance?:
            if self == .stackWaiting || self == .cat2MeanMin { return kind == .ambulance }
            return kind == .acute || kind == .urgentTreatment
        case nil: return true
        }
    }
}
