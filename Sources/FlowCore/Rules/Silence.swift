/// A silence (shelving): no notifications for one alert (`rule` set) or a whole site, from
/// `from` until `until`, with who and why. When it ends and an alert it covered is still
/// firing, that alert is notified again.
public struct Silence: Sendable, Equatable, Codable {
    public var id: String
    public var site: String
    public var rule: String?
    public var from: EventTime
    public var until: EventTime
    public var by: String
    public var reason: String
    public init(id: String, site: String, rule: String? = nil, from: EventTime, until: EventTime, by: String, reason: String) {
        self.id = id
        self.site = site
        self.rule = rule
        self.from = from
        self.until = until
        self.by = by
        self.reason = reason
    }
    public func covers(rule r: String, site s: String) -> Bool { s == site && (rule == nil || rule == r) }
    public func isActive(at t: EventTime) -> Bool { t >= from && t < until }

    enum CodingKeys: String, CodingKey { case id, site, rule, from, until, by, reason }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        site = try c.decode(String.self, forKey: .site)
        rule = try c.decodeIfPresent(String.self, forKey: .rule)
        from = try RFC3339.parse(c.decode(String.self, forKey: .from)) ?? EventTime(millis: 0)
        until = try RFC3339.parse(c.decode(String.self, forKey: .until)) ?? EventTime(millis: 0)
        by = try c.decode(String.self, forKey: .by)
        reason = try c.decode(String.self, forKey: .reason)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(site, forKey: .site)
        try c.encode(rule, forKey: .rule)
        try c.encode(RFC3339.format(from), forKey: .from)
        try c.encode(RFC3339.format(until), forKey: .until)
        try c.encode(by, forKey: .by)
        try c.encode(reason, forKey: .reason)
    }
}
