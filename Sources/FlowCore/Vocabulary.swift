/// The four feeds of the contract (docs/feed-contract.md).
public enum FeedKind: String, CaseIterable, Sendable, Hashable, Codable {
    case bed
    case dtoc
    case nhs111 = "111"
    case ambulance

    /// Human label for screens.
    public var label: String {
        switch self {
        case .bed: return "Beds"
        case .dtoc: return "DToC"
        case .nhs111: return "111"
        case .ambulance: return "Ambulance"
        }
    }
}

/// What kind of unit a site of the system is.
public enum UnitKind: String, CaseIterable, Sendable, Hashable, Codable {
    case acute
    case community
    case mentalHealth = "mental_health"
    case urgentTreatment = "urgent_treatment"
    case nhs111
    case ambulance
}

/// Alert severity. Ordered: `warning < critical`.
public enum Severity: String, Sendable, Hashable, Comparable, Codable, CaseIterable {
    case warning
    case critical
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    var rank: Int { self == .warning ? 1 : 2 }
}

/// The status role of a displayed value. The views never choose colours: a theme maps a role to
/// a colour *and* a glyph/word, so status is never shown by colour alone.
public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
    case ok
    case warning
    case critical
    /// Missing, or stale: shown as missing, never as zero or as "ok".
    case unknown

    public init(_ severity: Severity?) {
        switch severity {
        case nil: self = .ok
        case .warning?: self = .warning
        case .critical?: self = .critical
        }
    }
}

/// Reserved site code for the whole-system roll-up.
public let systemSiteCode = "SYSTEM"
