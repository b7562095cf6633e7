/// Decodes and validates one line of a feed into a `FeedMessage`, or says why not.
///
/// Checks everything that can be checked from the line alone plus the list of units: grammar,
/// identifiable data, envelope, types, ranges, and whether the site may send that feed. Checks
/// that need state (duplicates, time against the clock, unknown incidents) are the engine's.
public struct FeedDecoder {
    private var scanner = JSONLineScanner()
    private let siteCodes: [[UInt8]]
    private let siteKinds: [UnitKind]
    /// Field slots of the current line, indexed by `FieldID.rawValue`; -1 when absent.
    private var slots: [Int32] = Array(repeating: -1, count: FieldID.allCases.count)

    public init(units: [UnitConfig]) {
        siteCodes = units.map { Array($0.code.utf8) }
        siteKinds = units.map(\.kind)
    }

    public mutating func decode(_ line: String) -> Result<FeedMessage, Rejection> {
        var s = line
        return s.withUTF8 { decode($0) }
    }

    public mutating func decode(_ p: UnsafeBufferPointer<UInt8>) -> Result<FeedMessage, Rejection> {
        if let failure = scanner.scan(p) {
            switch failure {
            case .malformed(let offset, let what):
                return .failure(Rejection(.malformed, "\(what) at column \(offset + 1)"))
            case .identifiable(let field, let why):
                return .failure(Rejection(.identifiable, field: field, why + "; feeds must carry aggregates or pseudonymous keys"))
            }
        }
        for k in slots.indices { slots[k] = -1 }
        let fields = scanner.fields
        for (index, f) in fields.enumerated() {
            if let id = FieldID.lookup(p, f) { slots[id.rawValue] = Int32(index) }
        }
        return slots.withUnsafeBufferPointer { slotPtr in
            fields.withUnsafeBufferPointer { fieldPtr in
                var r = Reader(p: p, fields: fieldPtr, slots: slotPtr)
                return decodeEnvelope(&r)
            }
        }
    }

    private func decodeEnvelope(_ r: inout Reader) -> Result<FeedMessage, Rejection> {
        // feed
        guard let feedField = r.field(.feed), feedField.kind != .null else {
            return .failure(Rejection(.missingField, field: "feed", "every message names its feed (bed, dtoc, 111, ambulance)"))
        }
        guard feedField.kind == .string else {
            return .failure(Rejection(.badType, field: "feed", "must be a string"))
        }
        let feed: FeedKind
        if JSONLineScanner.valueEquals(r.p, feedField, "bed") { feed = .bed }
        else if JSONLineScanner.valueEquals(r.p, feedField, "dtoc") { feed = .dtoc }
        else if JSONLineScanner.valueEquals(r.p, feedField, "111") { feed = .nhs111 }
        else if JSONLineScanner.valueEquals(r.p, feedField, "ambulance") { feed = .ambulance }
        else {
            let name = JSONLineScanner.stringValue(r.p, feedField) ?? ""
            return .failure(Rejection(.unknownFeed, field: "feed", "'\(Sanitise.short(name))' is not a feed of contract v1 (bed, dtoc, 111, ambulance)"))
        }
        r.feed = feed
        if let v = r.field(.v), v.kind != .null {
            guard let ver = JSONLineScanner.intValue(r.p, v) else {
                return .failure(Rejection(.badType, field: "v", "must be an integer", feed: feed))
            }
            guard ver == 1 else {
                return .failure(Rejection(.unsupportedVersion, field: "v", "version \(ver) is not supported (this build reads version 1)", feed: feed))
            }
        }
        // site
        guard let siteField = r.field(.site), siteField.kind != .null else {
            return .failure(Rejection(.missingField, field: "site", "every message names its site", feed: feed))
        }
        guard siteField.kind == .string, !siteField.hasEscapes else {
            return .failure(Rejection(.badType, field: "site", "must be a unit code string", feed: feed))
        }
        guard let site = lookupSite(r.p, siteField) else {
            let code = JSONLineScanner.stringValue(r.p, siteField) ?? ""
            return .failure(Rejection(.unknownSite, field: "site", "'\(Sanitise.short(code))' is not a unit of this system", feed: feed))
        }
        r.siteCode = String(decoding: siteCodes[site], as: UTF8.self)
        // id
        guard let idField = r.field(.id), idField.kind != .null else {
            return r.reject(.missingField, "id", "every message carries its source message id")
        }
        guard idField.kind == .string else { return r.reject(.badType, "id", "must be a string") }
        let idLen = Int(idField.valueEnd - idField.valueStart)
        guard idLen >= 1, idLen <= 128 else { return r.reject(.outOfRange, "id", "must be 1 to 128 characters") }
        let idHash = Fingerprint.of(feed: feed, r.p, Int(idField.valueStart), Int(idField.valueEnd))
        // at
        let at: EventTime
        switch r.time(.at, required: true) {
        case .success(let t): at = t!
        case .failure(let f): return .failure(f)
        }
        var msg = FeedMessage(feed: feed, idHash: idHash, at: at, site: site, payload: .bed(BedState(coreOpen: 0, coreOccupied: 0)))
        let kind = siteKinds[site]
        switch feed {
        case .bed:
            guard kind != .nhs111, kind != .ambulance else {
                return r.reject(.unknownSite, "site", "\(r.siteCode) is a \(kind.rawValue) unit and sends no bed state")
            }
            switch decodeBed(&r) {
            case .success(let b): msg.payload = .bed(b)
            case .failure(let f): return .failure(f)
            }
        case .dtoc:
            guard kind == .acute || kind == .community || kind == .mentalHealth else {
                return r.reject(.unknownSite, "site", "\(r.siteCode) is a \(kind.rawValue) unit and has no bed-based DToC")
            }
            switch decodeDToC(&r, at: at) {
            case .success(let d): msg.payload = .dtoc(d)
            case .failure(let f): return .failure(f)
            }
        case .nhs111:
            guard kind == .nhs111 else {
                return r.reject(.unknownSite, "site", "\(r.siteCode) is not an NHS 111 service")
            }
            switch decode111(&r) {
            case .success(let d): msg.payload = .nhs111(d)
            case .failure(let f): return .failure(f)
            }
        case .ambulance:
            switch decodeAmbulance(&r, siteKind: kind) {
            case .success(let d): msg.payload = .ambulance(d)
            case .failure(let f): return .failure(f)
            }
        }
        return .success(msg)
    }

    private func lookupSite(_ p: UnsafeBufferPointer<UInt8>, _ f: JSONLineScanner.Field) -> Int? {
        let s = Int(f.valueStart), len = Int(f.valueEnd - f.valueStart)
        for (index, code) in siteCodes.enumerated() where code.count == len {
            var same = true
            for k in 0..<len where p[s + k] != code[k] { same = false; break }
            if same { return index }
        }
        return nil
    }

    private func decodeBed(_ r: inout Reader) -> Result<BedState, Rejection> {
        do {
            let open = try r.count(.gaCoreOpen, required: true)!
            let occupied = try r.count(.gaCoreOccupied, required: true)!
            if occupied > open {
                throw r.rejection(.outOfRange, "ga_core_occupied", "\(occupied) is above ga_core_open \(open)")
            }
            var b = BedState(coreOpen: open, coreOccupied: occupied)
            b.escalationOpen = try r.count(.escOpen)
            b.escalationOccupied = try r.count(.escOccupied)
            if let eo = b.escalationOccupied {
                guard let e = b.escalationOpen else {
                    throw r.rejection(.missingField, "esc_open", "esc_occupied is given without esc_open")
                }
                if eo > e { throw r.rejection(.outOfRange, "esc_occupied", "\(eo) is above esc_open \(e)") }
            }
            b.closed = try r.count(.closed)
            b.edInDepartment = try r.count(.edInDepartment)
            b.edDecisionsToAdmitWaiting = try r.count(.edDtaWaiting)
            b.ed4hPct = try r.number(.ed4hPct, range: 0...100)
            b.edBreachesSinceMidnight = try r.count(.edBreachesSinceMidnight)
            b.edOver12h = try r.count(.edOver12h)
            if let d = try r.count(.declaredOpel) {
                guard (1...4).contains(d) else { throw r.rejection(.outOfRange, "declared_opel", "\(d) is not an OPEL level 1-4") }
                b.declaredOpel = d
            }
            return .success(b)
        } catch let e as Rejection {
            return .failure(e)
        } catch {
            return .failure(r.rejection(.malformed, nil, "\(error)"))
        }
    }

    private func decodeDToC(_ r: inout Reader, at: EventTime) -> Result<DToCEvent, Rejection> {
        do {
            guard let kindField = r.field(.kind), kindField.kind != .null else {
                throw r.rejection(.missingField, "kind", "dtoc messages are start, end or snapshot")
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "start") {
                let patient = try r.key(.patient, max: 64)
                let reasonText = try r.string(.reason, required: true)!
                guard let reason = DToCReason(rawValue: reasonText) else {
                    throw r.rejection(.outOfRange, "reason", "'\(Sanitise.short(reasonText))' is not a DToC reason code (A, B, C, DI, DII, E, F, G, H, I, O)")
                }
                let orgText = try r.string(.org, required: true)!
                guard let org = ResponsibleOrganisation(rawValue: orgText) else {
                    throw r.rejection(.outOfRange, "org", "'\(Sanitise.short(orgText))' is not nhs, social or both")
                }
                let pathText = try r.string(.pathway, required: true)!
                guard let pathway = DischargePathway(rawValue: pathText) else {
                    throw r.rejection(.outOfRange, "pathway", "'\(Sanitise.short(pathText))' is not P0, P1, P2 or P3")
                }
                var ready = at
                switch r.time(.readySince, required: false) {
                case .success(let t): if let t { ready = t }
                case .failure(let f): throw f
                }
                if ready > at { throw r.rejection(.outOfRange, "ready_since", "is after the message time") }
                return .success(.start(patient: patient, reason: reason, org: org, pathway: pathway, readySince: ready))
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "end") {
                return .success(.end(patient: try r.key(.patient, max: 64)))
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "snapshot") {
                let patients = try r.count(.patients, required: true)!
                let byOrg = [try r.count(.nhs), try r.count(.social), try r.count(.both)]
                let byPathway = [try r.count(.p0), try r.count(.p1), try r.count(.p2), try r.count(.p3)]
                return .success(.snapshot(DToCCounts(patients: patients, byOrg: byOrg, byPathway: byPathway)))
            }
            throw r.rejection(.outOfRange, "kind", "dtoc messages are start, end or snapshot")
        } catch let e as Rejection {
            return .failure(e)
        } catch {
            return .failure(r.rejection(.malformed, nil, "\(error)"))
        }
    }

    private func decode111(_ r: inout Reader) -> Result<NHS111Interval, Rejection> {
        do {
            let minutes = try r.count(.minutes) ?? 15
            guard (1...60).contains(minutes) else { throw r.rejection(.outOfRange, "minutes", "\(minutes) is not an interval of 1-60 minutes") }
            let offered = try r.count(.offered, required: true)!
            let answered = try r.count(.answered, required: true)!
            let within = try r.count(.answered60s, required: true)!
            let abandoned = try r.count(.abandoned, required: true)!
            if answered > offered { throw r.rejection(.outOfRange, "answered", "\(answered) is above offered \(offered)") }
            if within > answered { throw r.rejection(.outOfRange, "answered_60s", "\(within) is above answered \(answered)") }
            if abandoned > offered { throw r.rejection(.outOfRange, "abandoned", "\(abandoned) is above offered \(offered)") }
            var v = NHS111Interval(minutes: minutes, offered: offered, answered: answered, answeredWithin60s: within, abandoned: abandoned)
            v.dispAmbulance = try r.count(.dispAmbulance)
            v.dispED = try r.count(.dispED)
            v.dispPrimaryCare = try r.count(.dispPrimaryCare)
            v.dispSelfCare = try r.count(.dispSelfCare)
            v.dispOther = try r.count(.dispOther)
            return .success(v)
        } catch let e as Rejection {
            return .failure(e)
        } catch {
            return .failure(r.rejection(.malformed, nil, "\(error)"))
        }
    }

    private func decodeAmbulance(_ r: inout Reader, siteKind: UnitKind) -> Result<AmbulanceEvent, Rejection> {
        do {
            guard let kindField = r.field(.kind), kindField.kind != .null else {
                throw r.rejection(.missingField, "kind", "ambulance messages are arrived, handover, clear or status")
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "status") {
                guard siteKind == .ambulance else {
                    throw r.rejection(.unknownSite, "site", "status messages come from the ambulance service unit, not \(r.siteCode)")
                }
                var s = AmbulanceServiceStatus()
                s.stackWaiting = try r.count(.stackWaiting)
                s.cat1MeanSeconds = try r.count(.cat1MeanS)
                s.cat1P90Seconds = try r.count(.cat1P90S)
                s.cat2MeanSeconds = try r.count(.cat2MeanS)
                s.cat2P90Seconds = try r.count(.cat2P90S)
                s.cat3P90Seconds = try r.count(.cat3P90S)
                s.cat4P90Seconds = try r.count(.cat4P90S)
                if s == AmbulanceServiceStatus() {
                    throw r.rejection(.missingField, "stack_waiting", "a status message needs at least one figure")
                }
                return .success(.status(s))
            }
            guard siteKind == .acute || siteKind == .urgentTreatment else {
                throw r.rejection(.unknownSite, "site", "conveyances name the receiving hospital; \(r.siteCode) is a \(siteKind.rawValue) unit")
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "arrived") {
                let incident = try r.key(.incident, max: 64)
                var category: Int? = nil
                if let c = try r.count(.category) {
                    guard (1...4).contains(c) else { throw r.rejection(.outOfRange, "category", "\(c) is not a category 1-4") }
                    category = c
                }
                return .success(.arrived(incident: incident, category: category))
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "handover") {
                let incident = try r.key(.incident, max: 64)
                var arrivedAt: EventTime? = nil
                switch r.time(.arrivedAt, required: false) {
                case .success(let t): arrivedAt = t
                case .failure(let f): throw f
                }
                return .success(.handover(incident: incident, arrivedAt: arrivedAt))
            }
            if JSONLineScanner.valueEquals(r.p, kindField, "clear") {
                return .success(.clear(incident: try r.key(.incident, max: 64)))
            }
            throw r.rejection(.outOfRange, "kind", "ambulance messages are arrived, handover, clear or status")
        } catch let e as Rejection {
            return .failure(e)
        } catch {
            return .failure(r.rejection(.malformed, nil, "\(error)"))
        }
    }
}

/// Reads typed values out of the scanned fields, producing rejections that name the field.
private struct Reader {
    let p: UnsafeBufferPointer<UInt8>
    let fields: UnsafeBufferPointer<JSONLineScanner.Field>
    let slots: UnsafeBufferPointer<Int32>
    var feed: FeedKind? = nil
    /// Empty until the site is known.
    var siteCode = ""

    init(p: UnsafeBufferPointer<UInt8>, fields: UnsafeBufferPointer<JSONLineScanner.Field>, slots: UnsafeBufferPointer<Int32>) {
        self.p = p
        self.fields = fields
        self.slots = slots
    }

    @inline(__always)
    func field(_ id: FieldID) -> JSONLineScanner.Field? {
        let s = slots[id.rawValue]
        return s < 0 ? nil : fields[Int(s)]
    }

    func rejection(_ reason: RejectionReason, _ field: String?, _ detail: String) -> Rejection {
        Rejection(reason, field: field, detail, feed: feed, site: siteCode.isEmpty ? nil : siteCode)
    }

    func reject<T>(_ reason: RejectionReason, _ field: String?, _ detail: String) -> Result<T, Rejection> {
        .failure(rejection(reason, field, detail))
    }

    /// A non-negative whole number.
    func count(_ id: FieldID, required: Bool = false) throws -> Int? {
        guard let f = field(id), f.kind != .null else {
            if required { throw rejection(.missingField, id.name, "is required") }
            return nil
        }
        guard f.kind == .number else { throw rejection(.badType, id.name, "must be a whole number") }
        guard let v = JSONLineScanner.intValue(p, f) else { throw rejection(.badType, id.name, "must be a whole number") }
        guard v >= 0 else { throw rejection(.outOfRange, id.name, "\(v) is negative") }
        guard v <= 10_000_000 else { throw rejection(.outOfRange, id.name, "\(v) is implausibly large") }
        return Int(v)
    }

    func number(_ id: FieldID, range: ClosedRange<Double>) throws -> Double? {
        guard let f = field(id), f.kind != .null else { return nil }
        guard f.kind == .number, let v = JSONLineScanner.doubleValue(p, f) else {
            throw rejection(.badType, id.name, "must be a number")
        }
        guard range.contains(v) else {
            throw rejection(.outOfRange, id.name, "\(v) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return v
    }

    func string(_ id: FieldID, required: Bool) throws -> String? {
        guard let f = field(id), f.kind != .null else {
            if required { throw rejection(.missingField, id.name, "is required") }
            return nil
        }
        guard f.kind == .string, let s = JSONLineScanner.stringValue(p, f) else {
            throw rejection(.badType, id.name, "must be a string")
        }
        return s
    }

    /// A pseudonymous key, fingerprinted (the model never keeps the key text).
    func key(_ id: FieldID, max: Int) throws -> UInt64 {
        guard let f = field(id), f.kind != .null else { throw rejection(.missingField, id.name, "is required") }
        guard f.kind == .string else { throw rejection(.badType, id.name, "must be a string") }
        let len = Int(f.valueEnd - f.valueStart)
        guard len >= 1, len <= max else { throw rejection(.outOfRange, id.name, "must be 1 to \(max) characters") }
        return Fingerprint.bytes(p, Int(f.valueStart), Int(f.valueEnd))
    }

    func time(_ id: FieldID, required: Bool) -> Result<EventTime?, Rejection> {
        guard let f = field(id), f.kind != .null else {
            if required { return .failure(rejection(.missingField, id.name, "is required (RFC 3339 with an offset)")) }
            return .success(nil)
        }
        guard f.kind == .string, !f.hasEscapes else { return .failure(rejection(.badType, id.name, "must be an RFC 3339 string")) }
        guard let t = RFC3339.parse(p, Int(f.valueStart), Int(f.valueEnd)) else {
            let s = JSONLineScanner.stringValue(p, f) ?? ""
            return .failure(rejection(.badType, id.name, "'\(Sanitise.short(s))' is not an RFC 3339 time with an offset"))
        }
        return .success(t)
    }
}

/// Field names of contract v1.
enum FieldID: Int, CaseIterable {
    case feed, v, id, at, site, kind
    case gaCoreOpen, gaCoreOccupied, escOpen, escOccupied, closed, edInDepartment, edDtaWaiting, ed4hPct,
         edBreachesSinceMidnight, edOver12h, declaredOpel
    case patient, reason, org, pathway, readySince, patients, nhs, social, both, p0, p1, p2, p3
    case minutes, offered, answered, answered60s, abandoned, dispAmbulance, dispED, dispPrimaryCare, dispSelfCare, dispOther
    case incident, category, arrivedAt, stackWaiting, cat1MeanS, cat1P90S, cat2MeanS, cat2P90S, cat3P90S, cat4P90S

    var name: String {
        switch self {
        case .feed: return "feed"
        case .v: return "v"
        case .id: return "id"
        case .at: return "at"
        case .site: return "site"
        case .kind: return "kind"
        case .gaCoreOpen: return "ga_core_open"
        case .gaCoreOccupied: return "ga_core_occupied"
        case .escOpen: return "esc_open"
        case .escOccupied: return "esc_occupied"
        case .closed: return "closed"
        case .edInDepartment: return "ed_in_department"
        case .edDtaWaiting: return "ed_dta_waiting"
        case .ed4hPct: return "ed_4h_pct"
        case .edBreachesSinceMidnight: return "ed_breaches_since_midnight"
        case .edOver12h: return "ed_over_12h"
        case .declaredOpel: return "declared_opel"
        case .patient: return "patient"
        case .reason: return "reason"
        case .org: return "org"
        case .pathway: return "pathway"
        case .readySince: return "ready_since"
        case .patients: return "patients"
        case .nhs: return "nhs"
        case .social: return "social"
        case .both: return "both"
        case .p0: return "p0"
        case .p1: return "p1"
        case .p2: return "p2"
        case .p3: return "p3"
        case .minutes: return "minutes"
        case .offered: return "offered"
        case .answered: return "answered"
        case .answered60s: return "answered_60s"
        case .abandoned: return "abandoned"
        case .dispAmbulance: return "disp_ambulance"
        case .dispED: return "disp_ed"
        case .dispPrimaryCare: return "disp_primary_care"
        case .dispSelfCare: return "disp_self_care"
        case .dispOther: return "disp_other"
        case .incident: return "incident"
        case .category: return "category"
        case .arrivedAt: return "arrived_at"
        case .stackWaiting: return "stack_waiting"
        case .cat1MeanS: return "cat1_mean_s"
        case .cat1P90S: return "cat1_p90_s"
        case .cat2MeanS: return "cat2_mean_s"
        case .cat2P90S: return "cat2_p90_s"
        case .cat3P90S: return "cat3_p90_s"
        case .cat4P90S: return "cat4_p90_s"
        }
    }

    /// Names grouped by length, so a lookup compares a handful of candidates.
    private static let byLength: [[(bytes: [UInt8], id: FieldID)]] = {
        var table = Array(repeating: [(bytes: [UInt8], id: FieldID)](), count: 32)
        for id in FieldID.allCases {
            let b = Array(id.name.utf8)
            table[b.count].append((b, id))
        }
        return table
    }()

    @inline(__always)
    static func lookup(_ p: UnsafeBufferPointer<UInt8>, _ f: JSONLineScanner.Field) -> FieldID? {
        let s = Int(f.keyStart), len = Int(f.keyEnd - f.keyStart)
        guard len < 32 else { return nil }
        let candidates = byLength[len]
        for c in candidates {
            var same = true
            var k = 0
            while k < len {
                if p[s + k] != c.bytes[k] { same = false; break }
                k += 1
            }
            if same { return c.id }
        }
        return nil
    }
}

/// 64-bit FNV-1a fingerprints: deterministic across runs and machines.
public enum Fingerprint {
    @inline(__always)
    public static func bytes(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = seed
        var i = s
        while i < e {
            h ^= UInt64(p[i])
            h &*= 0x0000_0100_0000_01B3
            i += 1
        }
        return h
    }

    @inline(__always)
    static func of(feed: FeedKind, _ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        let seed: UInt64
        switch feed {
        case .bed: seed = 0xcbf2_9ce4_8422_2325
        case .dtoc: seed = 0x9e37_79b9_7f4a_7c15
        case .nhs111: seed = 0xbf58_476d_1ce4_e5b9
        case .ambulance: seed = 0x94d0_49bb_1331_11eb
        }
        return bytes(p, s, e, seed: seed)
    }

    public static func of(_ text: String) -> UInt64 {
        var s = text
        return s.withUTF8 { bytes($0, 0, $0.count) }
    }
}

/// Neutralises text from feeds and configuration before it is shown or echoed: control
/// characters (C0, DEL, C1) become U+FFFD so no escape sequence reaches a terminal or a log.
public enum Sanitise {
    public static func text(_ s: String) -> String {
        var needs = false
        for u in s.unicodeScalars where isControl(u) { needs = true; break }
        if !needs { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { out.append(isControl(u) ? "\u{FFFD}" : u) }
        return String(out)
    }

    /// Sanitised and cut to 40 characters, for quoting a bad value in an error.
    public static func short(_ s: String) -> String {
        let t = text(s)
        return t.count > 40 ? String(t.prefix(40)) + "…" : t
    }

    @inline(__always)
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (v >= 0x7F && v < 0xA0)
    }
}
