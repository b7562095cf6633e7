/// A validated feed message (contract v1, docs/feed-contract.md), ready for the flow model.
public struct FeedMessage: Sendable, Equatable {
    public var feed: FeedKind
    /// Fingerprint of (feed, id) for de-duplication.
    public var idHash: UInt64
    public var at: EventTime
    /// Index of the unit in `SystemConfig.units`.
    public var site: Int
    public var payload: Payload

    public enum Payload: Sendable, Equatable {
        case bed(BedState)
        case dtoc(DToCEvent)
        case nhs111(NHS111Interval)
        case ambulance(AmbulanceEvent)
    }
}

/// Bed state of a site, with the ED state usually reported with it. Optional fields are nil
/// when the source did not send them: absent is not zero. (Optional counts take four bytes each,
/// `CompactCount`.)
public struct BedState: Sendable, Equatable {
    public var coreOpen: Int
    public var coreOccupied: Int
    @CompactCount public var escalationOpen: Int? = nil
    @CompactCount public var escalationOccupied: Int? = nil
    @CompactCount public var closed: Int? = nil
    @CompactCount public var edInDepartment: Int? = nil
    @CompactCount public var edDecisionsToAdmitWaiting: Int? = nil
    public var ed4hPct: Double?
    @CompactCount public var edBreachesSinceMidnight: Int? = nil
    @CompactCount public var edOver12h: Int? = nil
    @CompactCount public var declaredOpel: Int? = nil

    public init(coreOpen: Int, coreOccupied: Int, escalationOpen: Int? = nil, escalationOccupied: Int? = nil,
                closed: Int? = nil, edInDepartment: Int? = nil, edDecisionsToAdmitWaiting: Int? = nil,
                ed4hPct: Double? = nil, edBreachesSinceMidnight: Int? = nil, edOver12h: Int? = nil,
                declaredOpel: Int? = nil) {
        self.coreOpen = coreOpen
        self.coreOccupied = coreOccupied
        self.escalationOpen = escalationOpen
        self.escalationOccupied = escalationOccupied
        self.closed = closed
        self.edInDepartment = edInDepartment
        self.edDecisionsToAdmitWaiting = edDecisionsToAdmitWaiting
        self.ed4hPct = ed4hPct
        self.edBreachesSinceMidnight = edBreachesSinceMidnight
        self.edOver12h = edOver12h
        self.declaredOpel = declaredOpel
    }
}

/// Legacy DToC reason codes (to Feb 2020), still used by local feeds.
public enum DToCReason: String, CaseIterable, Sendable, Equatable {
    case a = "A", b = "B", c = "C", di = "DI", dii = "DII", e = "E", f = "F", g = "G", h = "H", i = "I", o = "O"
    public var label: String {
        switch self {
        case .a: return "completion of assessment"
        case .b: return "public funding"
        case .c: return "further non-acute NHS care"
        case .di: return "residential home"
        case .dii: return "nursing home"
        case .e: return "care package in own home"
        case .f: return "community equipment/adaptations"
        case .g: return "patient or family choice"
        case .h: return "disputes"
        case .i: return "housing"
        case .o: return "other"
        }
    }
}

public enum ResponsibleOrganisation: String, CaseIterable, Sendable, Equatable {
    case nhs, social, both
}

public enum DischargePathway: String, CaseIterable, Sendable, Equatable {
    case p0 = "P0", p1 = "P1", p2 = "P2", p3 = "P3"
}

public enum DToCEvent: Sendable, Equatable {
    case start(patient: UInt64, reason: DToCReason, org: ResponsibleOrganisation, pathway: DischargePathway, readySince: EventTime)
    case end(patient: UInt64)
    case snapshot(DToCCounts)
}

public struct DToCCounts: Sendable, Equatable {
    public var patients: Int
    public var byOrg: [Int?]      // indexed by ResponsibleOrganisation.allCases order
    public var byPathway: [Int?]  // indexed by DischargePathway.allCases order
    public init(patients: Int, byOrg: [Int?] = [nil, nil, nil], byPathway: [Int?] = [nil, nil, nil, nil]) {
        self.patients = patients
        self.byOrg = byOrg
        self.byPathway = byPathway
    }
}

/// One NHS 111 interval return. `at` of the message is the end of the interval.
public struct NHS111Interval: Sendable, Equatable {
    public var minutes: Int
    public var offered: Int
    public var answered: Int
    public var answeredWithin60s: Int
    public var abandoned: Int
    @CompactCount public var dispAmbulance: Int? = nil
    @CompactCount public var dispED: Int? = nil
    @CompactCount public var dispPrimaryCare: Int? = nil
    @CompactCount public var dispSelfCare: Int? = nil
    @CompactCount public var dispOther: Int? = nil

    public init(minutes: Int = 15, offered: Int, answered: Int, answeredWithin60s: Int, abandoned: Int,
                dispAmbulance: Int? = nil, dispED: Int? = nil, dispPrimaryCare: Int? = nil,
                dispSelfCare: Int? = nil, dispOther: Int? = nil) {
        self.minutes = minutes
        self.offered = offered
        self.answered = answered
        self.answeredWithin60s = answeredWithin60s
        self.abandoned = abandoned
        self.dispAmbulance = dispAmbulance
        self.dispED = dispED
        self.dispPrimaryCare = dispPrimaryCare
        self.dispSelfCare = dispSelfCare
        self.dispOther = dispOther
    }

    /// Sum of the dispositions, nil unless every one was reported: a share of a total with
    /// parts missing is no share. Summed over those reported, a return of only `disp_ambulance`
    /// and `disp_ed` made them 100% of the dispositions, a critical alert (the dashboard user
    /// test, 2026-11-25); absent, an optional field is missing, never zero.
    /// (Summed in place, in field order: the last-hour 111 figures read it for every interval
    /// at every evaluation, and an array per call was most of their cost.)
    public var dispositionsTotal: Int? {
        guard let a = dispAmbulance, let e = dispED, let p = dispPrimaryCare, let s = dispSelfCare, let o = dispOther else { return nil }
        return a + e + p + s + o
    }
}

public enum AmbulanceEvent: Sendable, Equatable {
    case arrived(incident: UInt64, category: Int?)
    case handover(incident: UInt64, arrivedAt: EventTime?)
    case clear(incident: UInt64)
    case status(AmbulanceServiceStatus)
}

public struct AmbulanceServiceStatus: Sendable, Equatable {
    @CompactCount public var stackWaiting: Int? = nil
    @CompactCount public var cat1MeanSeconds: Int? = nil
    @CompactCount public var cat1P90Seconds: Int? = nil
    @CompactCount public var cat2MeanSeconds: Int? = nil
    @CompactCount public var cat2P90Seconds: Int? = nil
    @CompactCount public var cat3P90Seconds: Int? = nil
    @CompactCount public var cat4P90Seconds: Int? = nil
    public init(stackWaiting: Int? = nil, cat1MeanSeconds: Int? = nil, cat1P90Seconds: Int? = nil,
                cat2MeanSeconds: Int? = nil, cat2P90Seconds: Int? = nil, cat3P90Seconds: Int? = nil,
                cat4P90Seconds: Int? = nil) {
        self.stackWaiting = stackWaiting
        self.cat1MeanSeconds = cat1MeanSeconds
        self.cat1P90Seconds = cat1P90Seconds
        self.cat2MeanSeconds = cat2MeanSeconds
        self.cat2P90Seconds = cat2P90Seconds
        self.cat3P90Seconds = cat3P90Seconds
        self.cat4P90Seconds = cat4P90Seconds
    }
}

/// Why a line was refused. Every rejected line gets exactly one.
public enum RejectionReason: String, CaseIterable, Sendable, Equatable, Codable {
    case malformed
    case unknownFeed = "unknown_feed"
    case unsupportedVersion = "unsupported_version"
    case unknownSite = "unknown_site"
    case missingField = "missing_field"
    case badType = "bad_type"
    case outOfRange = "out_of_range"
    case duplicateID = "duplicate_id"
    case futureTime = "future_time"
    case tooLate = "too_late"
    case identifiable
    case unknownIncident = "unknown_incident"
    case unknownPatient = "unknown_patient"
    case capacity
}

/// A refused line: the reason, the field it concerns, and a sentence for a person.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: RejectionReason
    public var field: String?
    public var detail: String
    /// Known when the envelope could be read that far.
    public var feed: FeedKind?
    public var site: String?

    public init(_ reason: RejectionReason, field: String? = nil, _ detail: String, feed: FeedKind? = nil, site: String? = nil) {
        self.reason = reason
        self.field = field
        self.detail = detail
        self.feed = feed
        self.site = site
    }

    /// `out_of_range: field ga_core_occupied: 700 is above ga_core_open 640`
    public var description: String {
        var s = reason.rawValue
        if let f = field { s += ": field \(f)" }
        return s + ": " + detail
    }
}

/// An optional count in four bytes: an `Int?` takes sixteen with its padding. Feed messages are
/// mostly optional counts, and were copied whole (185 bytes, by memcpy) at each step from decoder
/// to model, and the bed state (154 bytes) out of the model at every metric read of it. Now the
/// message is 97 bytes, copied inline: a 1M replay with rules 2% faster.
///
/// Counts are validated to at most 10,000,000 (FeedDecoder); a value beyond 32 bits is a
/// programming error and traps rather than being cut.
@propertyWrapper
public struct CompactCount: Sendable, Equatable {
    /// `Int32.min` for nil.
    private var raw: Int32

    public init(wrappedValue: Int?) { raw = Self.encode(wrappedValue) }

    public var wrappedValue: Int? {
        @inline(__always) get { raw == .min ? nil : Int(raw) }
        set { raw = Self.encode(newValue) }
    }

    @inline(__always) private static func encode(_ v: Int?) -> Int32 {
        guard let v else { return .min }
        precondition(v > Int(Int32.min) && v <= Int(Int32.max), "a count beyond 32 bits")
        return Int32(truncatingIfNeeded: v)
    }
}
