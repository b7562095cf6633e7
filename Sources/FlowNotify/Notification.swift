import Foundation
import FlowCore

/// What a notification says.
public enum NotificationKind: String, Sendable, Codable, CaseIterable, Equatable {
    /// An alert started firing.
    case firing
    /// A firing alert changed severity.
    case severityChanged = "severity_changed"
    /// An alert resolved; `pairs_with` names the notification it closes.
    case resolved
    /// Still firing and not acknowledged, after the repeat interval.
    case `repeat`
    /// Not acknowledged in time: sent to the next lead of the chain.
    case escalated
    /// An acknowledgement expired and the alert is still firing.
    case ackExpired = "ack_expired"
    /// A silence ended and the alert is still firing.
    case silenceEnded = "silence_ended"
    /// The alert changes state too often; sent once instead of on every transition.
    case unstable
    /// Several held notifications for one lead, sent as one (per-lead budget).
    case digest
}

/// The lead a notification was sent to, as resolved (by rota) when it was sent.
public struct LeadRef: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: String
    public var contact: String?
    public init(id: String, name: String, role: String, contact: String?) {
        self.id = id
        self.name = name
        self.role = role
        self.contact = contact
    }
    public init(_ l: LeadConfig) { self.init(id: l.id, name: l.name, role: l.role, contact: l.contact) }
}

/// The labels of the previous message of the same episode when they differ from this one
/// (severity or lead changed): receivers keyed on labels (Alertmanager) close the old one.
public struct PreviousLabels: Sendable, Codable, Equatable {
    public var severity: Severity
    public var lead: String?
}

/// One notification decided by the policy. Encoded as the webhook body, the command's stdin
/// and the outbox record (docs/notifications.md, "Notification JSON").
public struct AlertNotification: Sendable, Codable, Equatable {
    /// Stable idempotency key: the same notification has the same id after a restart.
    public var id: String
    public var kind: NotificationKind
    /// When the policy decided it (event time).
    public var at: EventTime
    public var rule: String
    public var site: String
    public var severity: Severity
    /// `firing` or `resolved`: the alert's state after this notification.
    public var state: String
    public var value: Double?
    public var summary: String
    /// When the alert's episode began.
    public var since: EventTime
    /// When it resolved (resolved notifications only).
    public var endedAt: EventTime?
    public var lead: LeadRef?
    /// 0 for the first lead of the chain, 1 for the next...
    public var escalationLevel: Int
    /// Sequence number of this notification within its alert episode.
    public var sequence: Int
    /// For `resolved`: the id of the first notification of the episode it closes.
    public var pairsWith: String?
    public var previous: PreviousLabels?
    /// The rota and shift that named the lead (nil when the core lead list was used).
    public var rota: String?
    public var shift: String?
    /// For `digest`: the held notifications.
    public var items: [AlertNotification]?

    enum CodingKeys: String, CodingKey {
        case id, kind, at, rule, site, severity, state, value, summary, since, lead, sequence, previous, rota, shift, items
        case endedAt = "ended_at", escalationLevel = "escalation_level", pairsWith = "pairs_with"
    }

    public var isResolved: Bool { state == "resolved" }

    public init(id: String, kind: NotificationKind, at: EventTime, rule: String, site: String, severity: Severity, state: String,
                value: Double?, summary: String, since: EventTime, endedAt: EventTime? = nil, lead: LeadRef?, escalationLevel: Int = 0,
                sequence: Int = 0, pairsWith: String? = nil, previous: PreviousLabels? = nil, rota: String? = nil, shift: String? = nil,
                items: [AlertNotification]? = nil) {
        self.id = id; self.kind = kind; self.at = at; self.rule = rule; self.site = site; self.severity = severity
        self.state = state; self.value = value; self.summary = summary; self.since = since; self.endedAt = endedAt
        self.lead = lead; self.escalationLevel = escalationLevel; self.sequence = sequence; self.pairsWith = pairsWith
        self.previous = previous; self.rota = rota; self.shift = shift; self.items = items
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func time(_ k: CodingKeys) throws -> EventTime {
            let s = try c.decode(String.self, forKey: k)
            guard let t = RFC3339.parse(s) else {
                throw DecodingError.dataCorruptedError(forKey: k, in: c, debugDescription: "'\(s)' is not an RFC 3339 time")
            }
            return t
        }
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(NotificationKind.self, forKey: .kind)
        at = try time(.at)
        rule = try c.decode(String.self, forKey: .rule)
        site = try c.decode(String.self, forKey: .site)
        severity = try c.decode(Severity.self, forKey: .severity)
        state = try c.decode(String.self, forKey: .state)
        value = try c.decodeIfPresent(Double.self, forKey: .value)
        summary = try c.decode(String.self, forKey: .summary)
        since = try time(.since)
        endedAt = c.contains(.endedAt) && (try? c.decodeNil(forKey: .endedAt)) == false ? try time(.endedAt) : nil
        lead = try c.decodeIfPresent(LeadRef.self, forKey: .lead)
        escalationLevel = try c.decode(Int.self, forKey: .escalationLevel)
        sequence = try c.decode(Int.self, forKey: .sequence)
        pairsWith = try c.decodeIfPresent(String.self, forKey: .pairsWith)
        previous = try c.decodeIfPresent(PreviousLabels.self, forKey: .previous)
        rota = try c.decodeIfPresent(String.self, forKey: .rota)
        shift = try c.decodeIfPresent(String.self, forKey: .shift)
        items = try c.decodeIfPresent([AlertNotification].self, forKey: .items)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(RFC3339.format(at), forKey: .at)
        try c.encode(rule, forKey: .rule)
        try c.encode(site, forKey: .site)
        try c.encode(severity, forKey: .severity)
        try c.encode(state, forKey: .state)
        try c.encode(value, forKey: .value)
        try c.encode(summary, forKey: .summary)
        try c.encode(RFC3339.format(since), forKey: .since)
        try c.encode(endedAt.map(RFC3339.format), forKey: .endedAt)
        try c.encode(lead, forKey: .lead)
        try c.encode(escalationLevel, forKey: .escalationLevel)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(pairsWith, forKey: .pairsWith)
        try c.encodeIfPresent(previous, forKey: .previous)
        try c.encode(rota, forKey: .rota)
        try c.encode(shift, forKey: .shift)
        try c.encodeIfPresent(items, forKey: .items)
    }
}

/// FNV-1a, 64 bit: a stable hash for idempotency keys (the same on every run and platform).
public enum StableHash {
    public static func fnv1a64(_ s: String) -> String {
        let hex = String(fnv1a64Value(s.utf8), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The hash itself (eight bytes, where its hex text is a string of sixteen on the heap).
    public static func fnv1a64Value(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}

/// The one JSON form of a notification: keys sorted, no escaped slashes, one line.
///
/// Written by hand, byte for byte what `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`)
/// writes for `AlertNotification`'s `Codable` form (`jsonMatchesJSONEncoder` checks the two on
/// every kind of field and every character that needs escaping). A replay with `--notify-dir`
/// encodes each notification five times (outbox, log, recording per notifier): by
/// `JSONEncoder` that was 40% of the replay's time (README, "Measured").
public enum NotificationJSON {
    public static func encode(_ n: AlertNotification) throws -> [UInt8] { Array(try text(n).utf8) }
    public static func decode(_ bytes: [UInt8]) throws -> AlertNotification {
        try JSONDecoder().decode(AlertNotification.self, from: Data(bytes))
    }
    public static func line(_ n: AlertNotification) -> String { (try? text(n)) ?? "{}" }

    /// The JSON; throws when a value is not finite (which `JSONEncoder` refuses).
    public static func text(_ n: AlertNotification) throws -> String {
        var out = ""
        out.reserveCapacity(640)
        guard write(n, into: &out) else {
            throw EncodingError.invalidValue(n.value as Any, .init(codingPath: [], debugDescription: "a value that is not finite"))
        }
        return out
    }

    private static func write(_ n: AlertNotification, into o: inout String) -> Bool {
        o += "{\"at\":\""; o += RFC3339.format(n.at)
        o += "\",\"ended_at\":"; if let e = n.endedAt { o += "\""; o += RFC3339.format(e); o += "\"" } else { o += "null" }
        o += ",\"escalation_level\":"; o += String(n.escalationLevel)
        o += ",\"id\":"; string(n.id, &o)
        if let items = n.items {
            o += ",\"items\":["
            for (i, item) in items.enumerated() {
                if i > 0 { o += "," }
                guard write(item, into: &o) else { return false }
            }
            o += "]"
        }
        o += ",\"kind\":"; string(n.kind.rawValue, &o)
        o += ",\"lead\":"
        if let l = n.lead {
            o += "{"
            if let c = l.contact { o += "\"contact\":"; string(c, &o); o += "," }
            o += "\"id\":"; string(l.id, &o)
            o += ",\"name\":"; string(l.name, &o)
            o += ",\"role\":"; string(l.role, &o)
            o += "}"
        } else { o += "null" }
        o += ",\"pairs_with\":"; optional(n.pairsWith, &o)
        if let p = n.previous {
            o += ",\"previous\":{"
            if let l = p.lead { o += "\"lead\":"; string(l, &o); o += "," }
            o += "\"severity\":"; string(p.severity.rawValue, &o)
            o += "}"
        }
        o += ",\"rota\":"; optional(n.rota, &o)
        o += ",\"rule\":"; string(n.rule, &o)
        o += ",\"sequence\":"; o += String(n.sequence)
        o += ",\"severity\":"; string(n.severity.rawValue, &o)
        o += ",\"shift\":"; optional(n.shift, &o)
        o += ",\"since\":\""; o += RFC3339.format(n.since)
        o += "\",\"site\":"; string(n.site, &o)
        o += ",\"state\":"; string(n.state, &o)
        o += ",\"summary\":"; string(n.summary, &o)
        o += ",\"value\":"
        if let v = n.value {
            guard v.isFinite else { return false }
            // JSONEncoder's form: the shortest description, without a trailing ".0".
            var d = v.description
            if d.hasSuffix(".0") { d.removeLast(2) }
            o += d
        } else { o += "null" }
        o += "}"
        return true
    }

    private static func optional(_ s: String?, _ o: inout String) {
        if let s { string(s, &o) } else { o += "null" }
    }

    /// A string as JSONEncoder quotes it without escaping slashes: `"` and `\\` escaped, the
    /// control characters below U+0020 as \b \f \n \r \t or \u00XX (lower-case hex).
    private static func string(_ s: String, _ o: inout String) {
        o += "\""
        var plain = true
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { plain = false; break }
        if plain { o += s; o += "\""; return }
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: o += "\\\""
            case 0x5C: o += "\\\\"
            case 0x08: o += "\\b"
            case 0x0C: o += "\\f"
            case 0x0A: o += "\\n"
            case 0x0D: o += "\\r"
            case 0x09: o += "\\t"
            case 0..<0x20:
                let hex = String(u.value, radix: 16)
                o += "\\u"; o += String(repeating: "0", count: 4 - hex.count); o += hex
            default: o.unicodeScalars.append(u)
            }
        }
        o += "\""
    }
}
