import FlowCore

/// Which notifiers a notification goes to: every route that matches (an empty field matches
/// anything). A digest matches a route when one of its items does. Pure.
public struct NotifierRouter: Sendable {
    public let system: SystemConfig
    public let routes: [Route]
    public init(system: SystemConfig, routes: [Route]) {
        self.system = system
        self.routes = routes
    }

    public func notifiers(for n: AlertNotification) -> [String] {
        var out: [String] = []
        for r in routes where !out.contains(r.notifier) && matches(r, n) { out.append(r.notifier) }
        return out
    }

    func matches(_ r: Route, _ n: AlertNotification) -> Bool {
        if !r.kinds.isEmpty && !r.kinds.contains(n.kind) { return false }
        if n.kind == .digest, let items = n.items {
            return items.contains { item in
                var i = item
                i.kind = .digest
                return matches(r, i)
            }
        }
        if !r.severities.isEmpty && !r.severities.contains(n.severity) { return false }
        if !r.rules.isEmpty && !r.rules.contains(n.rule) { return false }
        if !r.units.isEmpty {
            if r.units.contains(n.site) { return true }
            guard let u = system.units.first(where: { $0.code == n.site }), r.units.contains(u.kind.rawValue) else { return false }
        }
        return true
    }
}
