import Foundation
import FlowCore

/// Sends alerts to Prometheus Alertmanager through its v2 API (`POST /api/v2/alerts`), so a
/// system that already routes alerts with it keeps its receivers, silences and on-call tools.
///
/// Labels: `alertname` (the rule), `site`, `severity`, `lead` (when known), `source=urgentflow`.
/// Annotations: `summary`, `kind`, `notification_id`, `since`, `lead_name`, `lead_contact`.
/// `startsAt` is the episode start; a firing alert gets `endsAt` = now + `validFor` (refreshed by
/// repeats), a resolved one `endsAt` = the resolve time. Times are clamped to the wall clock so
/// a replay of another day (sent live on request) is accepted: Alertmanager rejects an `endsAt`
/// before `startsAt` and treats an `endsAt` in the past as resolved.
///
/// Alertmanager identifies an alert by its labels, so when the severity or the lead changes
/// the previous label set is sent too, with `endsAt` now (it is closed, not left to expire).
/// A digest is sent as its items.
public final class AlertmanagerNotifier: Notifier, @unchecked Sendable {
    public let name: String
    public let target: HTTPTarget
    public let timeout: Double
    public let validFor: Double
    private let wallClock: @Sendable () -> Date

    public init(name: String, target: HTTPTarget, timeout: Double, validFor: Double = 7200,
                wallClock: @escaping @Sendable () -> Date = { Date() }) {
        self.name = name
        self.target = target.with(path: "/api/v2/alerts")
        self.timeout = timeout
        self.validFor = validFor
        self.wallClock = wallClock
    }

    struct AMAlert: Encodable {
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: String
        var endsAt: String
        var generatorURL: String?
    }

    static func iso(_ d: Date) -> String {
        RFC3339.format(EventTime(d))
    }

    func alerts(for n: AlertNotification, now: Date) -> [AMAlert] {
        if n.kind == .digest { return (n.items ?? []).flatMap { alerts(for: $0, now: now) } }
        let nowMs = EventTime(now).millis
        let starts = min(n.since.millis, nowMs)
        func date(_ ms: Int64) -> String { RFC3339.format(EventTime(millis: ms)) }
        func labels(severity: Severity, lead: String?) -> [String: String] {
            var l = ["alertname": n.rule, "site": n.site, "severity": severity.rawValue, "source": "urgentflow"]
            if let lead { l["lead"] = lead }
            return l
        }
        var ann = ["summary": n.summary, "kind": n.kind.rawValue, "notification_id": n.id, "since": RFC3339.format(n.since)]
        if let l = n.lead {
            ann["lead_name"] = l.name
            ann["lead_role"] = l.role
            if let c = l.contact { ann["lead_contact"] = c }
        }
        var out: [AMAlert] = []
        let ended = max(starts, min(n.endedAt?.millis ?? nowMs, nowMs))
        if let p = n.previous {
            out.append(AMAlert(labels: labels(severity: p.severity, lead: p.lead), annotations: ann, startsAt: date(starts),
                               endsAt: date(n.isResolved ? ended : max(starts, nowMs))))
        }
        let ends = n.isResolved ? ended : nowMs + Int64(validFor * 1000)
        out.append(AMAlert(labels: labels(severity: n.severity, lead: n.lead?.id), annotations: ann, startsAt: date(starts), endsAt: date(ends)))
        return out
    }

    public func body(for n: AlertNotification) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(alerts(for: n, now: wallClock())))
    }

    public func deliver(_ n: AlertNotification) throws {
        let r = try HTTPClient.request(.POST, target, body: body(for: n), timeout: timeout)
        guard (200..<300).contains(r.status) else {
            throw NotifyIOError("\(name): Alertmanager HTTP \(r.status): \(r.text.prefix(300))")
        }
    }
}
