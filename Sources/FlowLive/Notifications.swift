import FlowCore
import FlowNotify

/// Notifications for urgentflow: the system file's `notifications:` section, in replay with
/// recording sinks standing in for every notifier (unless delivery is explicitly asked for), live
/// with the configured notifiers.
public enum Notifications {
    /// A notification service when the system file has a `notifications:` section, else nil.
    public static func start(system: SystemConfig, text: String, path: String, directory: String, mode: NotificationService.Mode) throws -> NotificationService? {
        let config: NotificationConfig
        do { config = try NotifyConfigLoader.load(yaml: text, file: path, system: system) } catch {
            throw LiveError("notifications configuration has problems:\n\(error)")
        }
        // The loader gives an empty configuration when the file has no notifications section.
        guard !config.notifiers.isEmpty else { return nil }
        do {
            let service = try NotificationService(system: system, config: config, stateDirectory: directory, mode: mode)
            service.onStateProblem = { Log.warn($0) }
            if let m = service.migration { Log.info(m) }
            for w in service.identifiableText.prefix(10) { Log.warn(w) }
            if service.identifiableText.count > 10 { Log.warn("notification log: \(service.identifiableText.count - 10) more lines hold patient-identifiable data") }
            service.onNotifierStatusChange = { s in s.failing ? Log.warn(s.change) : Log.info(s.change) }
            // Failing still, from the last run's deliveries: said now, as no change will say it.
            for s in service.notifierStatus() where s.failing { Log.warn(s.change) }
            return service
        } catch {
            throw LiveError("cannot open the notification state in \(directory): \(error)")
        }
    }

    /// Shows who was actually warned (by rota and escalation) on the dashboard's alerts, and adds
    /// the notifiers' own alerts when one keeps failing. A message still held for its lead's
    /// digest is said as held (`heldForDigestUntil`): that lead has not been told yet.
    public static func overlay(_ snap: inout DashboardSnapshot, _ notifier: NotificationService) {
        let status = notifier.activeAlerts()
        let leads = notifier.config.leads + notifier.system.leads
        func name(_ id: String) -> String { leads.first { $0.id == id }?.name ?? id }
        for i in snap.alerts.indices {
            guard let n = status.first(where: { $0.rule == snap.alerts[i].rule && $0.site == snap.alerts[i].site }),
                  let id = n.leadID else { continue }
            snap.alerts[i].leadID = id
            snap.alerts[i].leadName = name(id)
            snap.alerts[i].heldForDigestUntil = n.heldUntil
            snap.alerts[i].toldName = n.toldLeadID.map(name)
        }
        // First, in the notifiers' name order; each carries its notifier's name, as all have the
        // same rule and site (the dashboard's selection moved through them as one row).
        let own = notifier.failingNotifiers(now: snap.now).map { n, a in
            AlertSnapshot(rule: a.rule, site: a.site, severity: a.severity, state: .firing, value: a.value,
                          summary: a.summary, since: a.since, leadID: nil, leadName: nil,
                          acknowledgedBy: nil, acknowledgedAt: nil, ackNote: nil, notifier: n)
        }
        snap.alerts.insert(contentsOf: own, at: 0)
    }
}


/// Keeps a notification service in step with a replay on the event clock: the transitions as
/// they come, and a tick once per minute of event time for repeats, escalations and silence ends.
/// Each message says its alert as `engine` describes it then (`FlowEngine.activeAlert`).
public struct NotifierFollower {
    public let service: NotificationService
    public let engine: FlowEngine
    private var nextTick: EventTime?

    public init(_ service: NotificationService, engine: FlowEngine) {
        self.service = service
        self.engine = engine
    }

    public mutating func follow(_ transitions: [AlertTransition], now: EventTime?) {
        if !transitions.isEmpty { service.handle(transitions, current: engine.activeAlert) }
        guard let now, nextTick == nil || now >= nextTick! else { return }
        service.tick(now: now, current: engine.activeAlert)
        nextTick = now.floored(to: .minutes(1)) + .minutes(1)
    }
}
