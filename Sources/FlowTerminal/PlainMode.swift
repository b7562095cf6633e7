import FlowCore

/// Line mode (`--plain`, `TERM=dumb`, screen readers, logs): one line per site and per alert,
/// words instead of colours or box drawing, and only the lines that changed since the last frame.
public final class PlainRenderer {
    private var last: [String: String] = [:]
    private var order: [String] = []
    /// What each alert line is, in words, for its `CLEARED` line (`handover_queue at Lister`).
    private var names: [String: String] = [:]
    /// The clock line last written: one per minute at most (two frames in a minute each wrote it).
    private var lastClock: String?

    public init() {}

    /// Every line of a frame, keyed for change detection.
    public static func lines(_ snap: DashboardSnapshot, paused: Bool) -> [(key: String, text: String)] {
        var out: [(String, String)] = []
        var head = "\(snap.systemName) | System \(Format.opel(snap.systemLevel))"
        if let r = snap.replay {
            head += " | REPLAY \(Format.speed(r.speed, unicode: false)) \(Int((r.progress * 100).rounded()))%"
            if r.finished { head += " END" }
        }
        if paused || snap.replay?.paused == true { head += " | PAUSED" }
        out.append(("header", head))
        var feeds = "Feeds:"
        for f in snap.feeds {
            feeds += " \(f.feed.label) " + (f.age == nil ? "none yet" : Format.age(f.age)) + (f.stale ? " STALE" : "")
            if f.rejected > 0 { feeds += " (\(f.rejected) rejected)" }
            feeds += ";"
        }
        feeds += " rejected total \(snap.rejectedTotal)"
        out.append(("feeds", feeds))
        for s in snap.sites { out.append(("site:" + s.code, siteLine(s))) }
        for a in snap.alerts {
            let name = snap.sites.first { $0.code == a.site }?.name ?? a.site
            out.append((alertKey(a), alertLine(a, siteName: name, now: snap.now, systemName: snap.systemName, timeZone: snap.timeZone)))
        }
        return out.map { ($0.0, TerminalText.sanitize($0.1)) }
    }

    static func alertKey(_ a: AlertSnapshot) -> String { "alert:\(a.rule)@\(a.site)" + (a.notifier.map { "/" + $0 } ?? "") }

    static func word(_ s: Status) -> String { GlyphSet.word(s) }

    /// `10:45` on the day of `now`, else `2026-11-23 10:45` (local time): a fixed instant, where
    /// an age (`for 2h05m`) changed every minute and wrote every alert line again each minute.
    static func instant(_ t: EventTime, now: EventTime, timeZone: String) -> String {
        guard let cal = LocalCalendar(identifier: timeZone) else { return RFC3339.format(t) }
        let day = cal.localDate(of: t)
        return (day == cal.localDate(of: now) ? "" : "\(day) ") + cal.clockText(t)
    }

    public static func siteLine(_ s: SiteSnapshot) -> String {
        var t = "\(s.name) [\(word(s.status))]"
        // Escalation levels belong to the scored (acute) units; elsewhere there is nothing to say.
        if s.kind == .acute || s.opelLevel != nil || s.declaredOpel != nil {
            t += " OPEL " + (s.opelLevel.map(String.init) ?? "missing")
        }
        if let d = s.declaredOpel {
            t += " declared \(d)"
            if d != s.opelLevel { t += " (differs)" }
        }
        for m in s.metrics where m.key != .opelLevel {
            let status: Status = m.value == nil ? .unknown : m.status
            let v = m.value == nil ? "missing" : Format.value(m)
            var part = " | \(m.key.label) \(v)"
            if m.value != nil, status != .ok { part += " \(word(status))" }
            if m.value != nil, let tr = m.trend, tr != 0 { part += tr > 0 ? " rising" : " falling" }
            t += part
        }
        if !s.staleFeeds.isEmpty { t += " | stale: " + s.staleFeeds.map(\.label).joined(separator: ", ") }
        return t
    }

    public static func alertLine(_ a: AlertSnapshot, siteName: String, now: EventTime, systemName: String? = nil,
                                 timeZone: String = "Europe/London") -> String {
        let sev = a.severity == .critical ? "CRIT" : "WARN"
        var summary = a.summary
        for p in [siteName, systemName].compactMap({ $0 }) where summary.hasPrefix(p + " ") {
            summary = String(summary.dropFirst(p.count + 1)); break
        }
        var t = "ALERT \(sev) \(a.state.rawValue) \(siteName) \(a.rule): \(summary) | since \(instant(a.since, now: now, timeZone: timeZone))"
        if let until = a.heldForDigestUntil, let lead = a.leadName ?? a.leadID {
            // Not yet told: the message waits in the lead's digest (their budget is spent).
            t += " | warned " + (a.toldName ?? "nobody yet") + "; held for \(lead)'s digest at "
                + instant(EventTime(millis: (until.millis + 59_999) / 60_000 * 60_000), now: now, timeZone: timeZone)
        } else if let why = a.notWarned {
            // With notifications, nobody was sent a message of it: said why.
            t += " | warned " + (why == .notYet ? "nobody yet" : "nobody (not sent: \(why.rawValue))")
        } else {
            t += " | warned " + (a.leadName ?? a.leadID ?? "nobody")
        }
        if let by = a.acknowledgedBy {
            t += " | acknowledged by \(by)"
            if let n = a.ackNote, !n.isEmpty { t += " (\(n))" }
        } else if let n = a.notifier {
            t += " | clears when a delivery to \(n) succeeds"
        } else if let by = a.expiredAckBy {
            t += " | not acknowledged (the acknowledgement by \(by) expired"
            if let at = a.ackExpiredAt { t += " at \(instant(at, now: now, timeZone: timeZone))" }
            t += ")"
        } else {
            t += " | not acknowledged"
        }
        if let until = a.silencedUntil {
            t += " | silenced until \(instant(until, now: now, timeZone: timeZone))"
            if let by = a.silencedBy { t += " by \(by)" }
            if let why = a.silenceReason, !why.isEmpty { t += " (\(why))" }
        }
        return t
    }

    /// The lines that changed since the previous call, plus a `CLEARED` line for alerts that
    /// are no longer active. The first call returns every line.
    public func changedLines(_ snap: DashboardSnapshot, paused: Bool) -> [String] {
        let now = PlainRenderer.lines(snap, paused: paused)
        var out: [String] = []
        var seen = Set<String>()
        for (k, t) in now {
            seen.insert(k)
            if last[k] != t { out.append(t) }
            last[k] = t
        }
        for a in snap.alerts {
            let name = snap.sites.first { $0.code == a.site }?.name ?? a.site
            names[Self.alertKey(a)] = TerminalText.sanitize("\(a.rule) at \(name)")
        }
        for k in order where !seen.contains(k) {
            if k.hasPrefix("alert:") { out.append("CLEARED " + (names[k] ?? k)) }
            last[k] = nil
            names[k] = nil
        }
        order = now.map(\.key)
        let clock = "-- \(TerminalText.sanitize(snap.localClock)) --"
        if !out.isEmpty && clock != lastClock {
            out.insert(clock, at: 0)
            lastClock = clock
        }
        return out
    }
}
