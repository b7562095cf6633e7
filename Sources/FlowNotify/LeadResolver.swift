import FlowCore

/// Who is on call for an alert at an instant: the first rota (configuration order) covering the
/// site and severity with a shift covering the local wall-clock time, else the first core lead
/// covering the site and severity. Local time is the system time zone's, so a 20:00-08:00 night
/// shift is 12 hours long on most nights, 11 on the March change night and 13 in October.
public struct LeadResolver: Sendable {
    public struct Chain: Sendable, Equatable {
        /// First lead first; escalation moves along it.
        public var leads: [LeadConfig]
        public var rota: String?
        public var shift: String?
    }

    public let system: SystemConfig
    public let config: NotificationConfig
    let calendar: LocalCalendar
    let leadsByID: [String: LeadConfig]

    public init(system: SystemConfig, config: NotificationConfig) {
        self.system = system
        self.config = config
        calendar = LocalCalendar(identifier: system.timeZone) ?? LocalCalendar(identifier: "Europe/London")!
        var m: [String: LeadConfig] = [:]
        for l in system.leads + config.leads where m[l.id] == nil { m[l.id] = l }
        leadsByID = m
    }

    public func lead(_ id: String) -> LeadConfig? { leadsByID[id] }

    /// Local weekday and minute after local midnight of an instant.
    public func localClock(_ t: EventTime) -> (day: Weekday, minute: Int) {
        let local = t.seconds + Int64(calendar.offsetSeconds(at: t))
        var r = local % 86_400
        if r < 0 { r += 86_400 }
        return (Weekday(calendar.localDate(of: t)), Int(r / 60))
    }

    func siteMatches(_ selector: [String], site: String) -> Bool {
        if selector.contains(site) { return true }
        if let u = system.units.first(where: { $0.code == site }), selector.contains(u.kind.rawValue) { return true }
        return false
    }

    public func chain(site: String, severity: Severity, at t: EventTime) -> Chain {
        let (day, minute) = localClock(t)
        for rota in config.rotas where rota.severities.contains(severity) && siteMatches(rota.units, site: site) {
            for shift in rota.shifts where shift.covers(day: day, minute: minute) {
                return Chain(leads: withFinally(shift.leads), rota: rota.id, shift: shift.name)
            }
        }
        let unit = system.units.first { $0.code == site }
        if let l = system.leads.first(where: { $0.covers(unit: unit, code: site, severity: severity) }) {
            return Chain(leads: withFinally([l.id]), rota: nil, shift: nil)
        }
        return Chain(leads: withFinally([]), rota: nil, shift: nil)
    }

    /// The most leads `chain(site:severity:at:)` can give for this site and severity at any
    /// instant: an alert at or past that level cannot escalate, whatever the shift, so the
    /// policy need not work out the chain at every tick (a restart re-ticks the whole journal).
    public func longestChain(site: String, severity: Severity) -> Int {
        var longest = 0
        for rota in config.rotas where rota.severities.contains(severity) && siteMatches(rota.units, site: site) {
            for shift in rota.shifts { longest = max(longest, withFinally(shift.leads).count) }
        }
        let unit = system.units.first { $0.code == site }
        let fallback = system.leads.first { $0.covers(unit: unit, code: site, severity: severity) }.map { [$0.id] } ?? []
        return max(longest, withFinally(fallback).count)
    }

    private func withFinally(_ ids: [String]) -> [LeadConfig] {
        var seen = Set<String>()
        return (ids + config.escalation.finally).compactMap { id in
            guard seen.insert(id).inserted else { return nil }
            return leadsByID[id]
        }
    }
}
