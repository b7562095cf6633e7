/// How long a metric's value stays as it is when nothing new arrives: what lets the rule engine
/// skip ticks at which no rule can change (Rules/RuleSchedule.swift) and still give exactly the
/// transitions of an evaluation at every tick.
///
/// Between two changes of the model's state (a message, a housekeeping purge: both bump
/// `changeStamps`), a metric's value is a function of time alone, and of one of two shapes:
/// - constant until a discrete instant: a feed going stale, local midnight for since-midnight
///   counts, a window entry or exit for last-hour figures;
/// - or, for the three "time since" metrics (longest ambulance wait, delayed bed-days, longest
///   delay), non-decreasing until such an instant.
extension FlowModel {
    static let never = EventTime(millis: .max)

    /// Metrics that grow with time between messages (non-decreasing until `stableUntil`).
    @inline(__always) public static func growsWithTime(_ metric: MetricKey) -> Bool {
        switch metric {
        case .ambulanceLongestWaitMin, .dtocBedDays, .dtocLongestDays: return true
        default: return false
        }
    }

    /// The earliest instant after `t` at which `value(metric, site:, at:)` may differ from its
    /// value at `t` other than by growing (see `growsWithTime`), if the state does not change.
    /// `FlowModel.never` when only a state change can change it.
    public func stableUntil(_ metric: MetricKey, site: Int, from t: EventTime) -> EventTime {
        if site == config.units.count {
            var h = Self.never
            for i in systemSources(metric) { h = min(h, stableUntil(metric, site: i, from: t)) }
            return h
        }
        unowned(unsafe) let s = sites[site]   // owned by `sites` for the whole call: no retain
        var h = Self.never
        @inline(__always) func freshness(_ feed: FeedKind) {
            let slot = Self.feedSlot(site, feed)
            if let seen = feedLastSeen[slot], t - seen <= feedMaxAge[slot] {
                h = min(h, seen + feedMaxAge[slot] + Duration(millis: 1))
            }
        }
        guard let feed = metric.feed else { return Self.never }
        freshness(feed)
        if let also = metric.alsoReads { freshness(also) }
        switch metric {
        case .ambulanceArrivals, .handovers30to60, .handoversOver60, .handoverHoursLost, .dtocBedDays:
            h = min(h, nextMidnight(after: t))
        case .nhs111OfferedToday:
            // The day of `t - 1 ms` (an interval ending at 00:00 belongs to the day before).
            h = min(h, nextMidnight(after: t - Duration(millis: 1)) + Duration(millis: 1))
        case .nhs111Offered, .nhs111AnsweredWithin60sPct, .nhs111AbandonedPct, .nhs111UrgentDispositionPct,
             .nhs111AmbulanceDispositionPct, .nhs111EDDispositionPct:
            for iv in s.intervals { h = min(h, Self.windowEdge(iv.at, t)) }
        case .handoverToClearMin:
            for c in s.recentClears { h = min(h, Self.windowEdge(c.at, t)) }
        default:
            break
        }
        return h
    }

    /// When a sample stamped `at` next enters or leaves a last-hour window read at `t`
    /// (in it while `at <= t` and `t - at < 1 h`).
    @inline(__always) static func windowEdge(_ at: EventTime, _ t: EventTime) -> EventTime {
        if at > t { return at }
        let exit = at + .hours(1)
        return exit > t ? exit : never
    }

    /// The first local midnight after `t`.
    func nextMidnight(after t: EventTime) -> EventTime {
        if t >= dayCache.start && t < dayCache.end { return dayCache.end }
        return calendar.startOfDay(calendar.localDate(of: t).next)
    }
}
