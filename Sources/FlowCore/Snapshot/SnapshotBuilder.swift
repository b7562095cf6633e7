/// Builds the `DashboardSnapshot` a screen draws from the engine's current state. Status roles
/// are decided here (from the rules), never in the views.
extension FlowEngine {
    /// The metrics shown for each kind of unit, in display order.
    public static func displayedMetrics(for kind: UnitKind) -> [MetricKey] {
        switch kind {
        case .acute:
            return [.gaOccupancyPct, .gaOccupancyInclEscPct, .escalationBedsOpen, .escalationSharePct, .bedsClosed,
                    .dtocPatients, .dtocSharePct, .dtocLongestDays, .dtocBedDays,
                    .ambulanceQueue, .ambulanceLongestWaitMin, .ambulanceArrivals, .handovers30to60, .handoversOver60,
                    .handoverHoursLost, .handoverToClearMin,
                    .edInDepartment, .edDtaWaiting, .ed4hPct, .edOver12h, .edOver12hSharePct]
        case .community, .mentalHealth, .urgentTreatment:
            return [.gaOccupancyPct, .bedsClosed, .dtocPatients, .dtocSharePct]
        case .nhs111:
            return [.nhs111Offered, .nhs111AnsweredWithin60sPct, .nhs111AbandonedPct, .nhs111UrgentDispositionPct,
                    .nhs111AmbulanceDispositionPct, .nhs111EDDispositionPct, .nhs111OfferedToday]
        case .ambulance:
            return [.stackWaiting, .cat2MeanMin]
        }
    }

    /// A snapshot of everything, with `historyPoints` samples of history per metric.
    public func snapshot(historyPoints: Int = 36, replay: ReplayStatus? = nil) -> DashboardSnapshot {
        // No line has set the event clock yet (an empty scenario, or only refused lines): the
        // values are all missing, and the header says so rather than the epoch's date.
        let now = model.now ?? EventTime(millis: 0)
        let cal = model.calendar
        var sites: [SiteSnapshot] = []
        for (i, unit) in config.units.enumerated() {
            var metrics: [MetricReading] = []
            var anyKnown = false
            for key in Self.displayedMetrics(for: unit.kind) {
                let v = model.value(key, site: i, at: now)
                let (sev, levels) = rules.ruleSeverity(metric: key, site: i, value: v)
                let status: Status = v == nil ? .unknown : Status(sev)
                if v != nil { anyKnown = true }
                let hist = model.series(key, site: i, count: historyPoints)
                metrics.append(MetricReading(key: key, value: v, status: status, history: hist, historyStep: model.history.step,
                                             warningLevel: levels?.warning, criticalLevel: levels?.critical,
                                             trend: Self.trend(hist, current: v), historyEnd: model.lastHistorySample))
            }
            let stale = rules.staleFeeds(site: i)
            let worst = rules.firingSeverity(site: i)
            // The worst of its firing alerts and of its metrics' own status.
            var status: Status = worst != nil ? Status(worst) : (anyKnown && stale.isEmpty ? .ok : .unknown)
            for m in metrics where m.status == .critical || (m.status == .warning && status != .critical) { status = m.status }
            var seen: [FeedKind: EventTime] = [:]
            for f in FeedKind.allCases { if let t = model.lastSeen(f, site: i) { seen[f] = t } }
            sites.append(SiteSnapshot(code: unit.code, name: unit.name, kind: unit.kind, status: status,
                                      opelLevel: rules.levels[i], opelScore: rules.scores[i],
                                      declaredOpel: model.declaredOpel(site: i), metrics: metrics,
                                      staleFeeds: stale, lastSeen: seen))
        }
        var feeds: [FeedHealth] = []
        for f in FeedKind.allCases {
            let last = config.units.indices.compactMap { model.lastSeen(f, site: $0) }.max()
            let staleSites = config.units.indices.filter { rules.staleFeeds(site: $0).contains(f) }.map { config.units[$0].code }
            feeds.append(FeedHealth(feed: f, lastMessage: last, age: last.map { now - $0 }, accepted: acceptedCount(feed: f),
                                    rejected: rejectedCount(feed: f), staleSites: staleSites))
        }
        var alerts = rules.activeAlerts(model: model)
        let silences = activeSilences(at: now)
        if !silences.isEmpty {
            for i in alerts.indices {
                if let s = silences.last(where: { $0.covers(rule: alerts[i].rule, site: alerts[i].site) }) {
                    alerts[i].silencedUntil = s.until
                    alerts[i].silencedBy = s.by
                    alerts[i].silenceReason = s.reason
                }
            }
        }
        let sys = config.units.count
        return DashboardSnapshot(systemName: config.name, timeZone: config.timeZone, now: now,
                                 localClock: model.now.map { Self.localClock($0, cal) } ?? Self.noClock, systemLevel: rules.levels[sys],
                                 systemScore: rules.scores[sys], feeds: feeds, sites: sites,
                                 alerts: alerts, rejectedTotal: rejectedTotal, replay: replay)
    }

    /// +1 rising, -1 falling, 0 flat over the last hour of history; nil without data.
    static func trend(_ history: [Double?], current: Double?) -> Int? {
        guard let v = current else { return nil }
        let back = history.count >= 12 ? history[history.count - 12] : history.first ?? nil
        guard let old = back else { return nil }
        let tolerance = max(0.5, abs(old) * 0.01)
        if v - old > tolerance { return 1 }
        if old - v > tolerance { return -1 }
        return 0
    }

    /// The snapshot's `localClock` before any line has set the event clock.
    public static let noClock = "no data yet"

    /// `Mon 05 Jan 2026 08:15 GMT`
    public static func localClock(_ t: EventTime, _ cal: LocalCalendar) -> String {
        let offset = cal.offsetSeconds(at: t)
        let local = t.millis / 1000 + Int64(offset)
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let (y, m, d) = RFC3339.civilFromDays(day)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let wd = weekdays[Int(((day % 7) + 7) % 7)]
        let zone: String
        if cal.identifier == "Europe/London" {
            zone = offset == 0 ? "GMT" : (offset == 3600 ? "BST" : "UTC\(offset >= 0 ? "+" : "-")\(abs(offset) / 3600)")
        } else {
            zone = offset == 0 ? "UTC" : "UTC\(offset >= 0 ? "+" : "-")\(RFC3339.pad(Int64(abs(offset) / 3600), 2)):\(RFC3339.pad(Int64(abs(offset) / 60 % 60), 2))"
        }
        return "\(wd) \(RFC3339.pad(d, 2)) \(months[Int(m) - 1]) \(y) \(cal.clockText(t)) \(zone)"
    }
}
