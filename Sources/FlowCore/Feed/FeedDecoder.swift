/// Decodes and validates one line of a feed into a `FeedMessage`, or says why not.
///
/// Checks everything that can be checked from the line alone plus the list of units: grammar,
/// identifiable data, envelope, types, ranges, and whether the site may send that feed. Checks
/// that need state (duplicates, time against the clock, unknown incidents) are the engine's.
///
/// The hot path allocates nothing and makes no `String` on success: the scanner files the
/// contract's fields into per-line slots (a buffer the decoder owns) by a hashed lookup of the raw name;
/// the envelope, enumerations and site code are matched as bytes; ids and keys are
/// fingerprinted from bytes. Every rejection is built exactly as before, on the cold path.
public struct FeedDecoder {
    private let tables: DecoderTables
    /// The current line's fields, indexed by `FieldID` (valid where the line's `present` has
    /// the bit). Not shared: a copy of a decoder gets its own on its first line.
    private var scratch = SlotStorage()

    public init(units: [UnitConfig]) {
        tables = DecoderTables(units: units)
    }

    public mutating func decode(_ line: String) -> Result<FeedMessage, Rejection> {
        var s = line
        return s.withUTF8 { decode($0) }
    }

    public mutating func decode(_ p: UnsafeBufferPointer<UInt8>) -> Result<FeedMessage, Rejection> {
        do throws(Rejection) {
            return .success(try decodeMessage(p))
        } catch {
            return .failure(error)
        }
    }

    /// The same, throwing: the engine's per-line path. The message (185 bytes) is returned in
    /// place; wrapped in a `Result` it was copied once more into it and once more out of it.
    public mutating func decodeMessage(_ p: UnsafeBufferPointer<UInt8>) throws(Rejection) -> FeedMessage {
        try decodeMessage(p, lookahead: NoIDLookahead())
    }

    /// The same, telling `lookahead` the line's feed and id fingerprint as soon as they are read.
    @inline(__always)
    mutating func decodeMessage<L: IDLookahead>(_ p: UnsafeBufferPointer<UInt8>, lookahead: L) throws(Rejection) -> FeedMessage {
        try decodeMessage(p, lookahead: lookahead, filing: SlotSink.self)
    }

    /// A line of the service's own journal that `decodeMessage` refused as patient-identifiable,
    /// decoded with every check but those: a restart reading back what it accepted when it was
    /// written (`FlowEngine.recover`). A later release's stricter checks (titled names,
    /// postcodes and telephone numbers in free text came in one) refused such lines at the next
    /// restart, and their figures were missing from the rebuilt model: a DToC start, or an
    /// ambulance arrival whose handover was then never seen. The model keeps no text of a line,
    /// only its figures and fingerprints, so recovering it keeps nothing identifiable that the
    /// journal does not already hold; the restart names the line so it can be removed there.
    public mutating func decodeJournalled(_ p: UnsafeBufferPointer<UInt8>) throws(Rejection) -> FeedMessage {
        try decodeMessage(p, lookahead: NoIDLookahead(), filing: PatientChecksOff<SlotSink>.self)
    }

    @inline(__always)
    private mutating func decodeMessage<L: IDLookahead, F: SlotFiling>(_ p: UnsafeBufferPointer<UInt8>, lookahead: L,
                                                                        filing: F.Type) throws(Rejection) -> FeedMessage {
        guard let b = p.baseAddress, p.count > 0 else { throw Self.scanRejection(.malformed(offset: 0, what: "empty line")) }
        let n = p.count
        if !isKnownUniquelyReferenced(&scratch) { scratch = SlotStorage() }
        let view = tables.view
        let slots = scratch.pointer
        var sink = F(SlotSink(tables: view, slots: slots, next: scratch.next))
        if let failure = JSONLineScanner.scanRecord(b, n, &sink) {
            throw Self.scanRejection(failure)
        }
        if sink.filed.repeats { throw repeatedField(p) }
        var line = Line(b: b, n: n, slots: UnsafePointer(slots), present: sink.filed.present, tables: view, date: scratch.date,
                        checksKeys: F.checksPatientData)
        return try line.decodeMessage(lookahead)
    }

    /// A line that gives a contract field twice is refused, naming the first field given again:
    /// which value was meant is unknowable (the last one won before, so a line ending
    /// `"ga_core_occupied":620,"ga_core_occupied":10` showed occupancy 1.6%). Found again from
    /// the line (cold path): the scan said only that some field repeats.
    @inline(never)
    func repeatedField(_ p: UnsafeBufferPointer<UInt8>) -> Rejection {
        var scanner = JSONLineScanner()
        _ = scanner.scan(p)
        let view = tables.view
        var seen: UInt64 = 0
        for f in scanner.fields {
            let slot = view.fieldSlot(p.baseAddress!, p.count, Int(f.keyStart), Int(f.keyEnd))
            guard slot >= 0 else { continue }
            if seen & (1 << UInt64(slot)) != 0 { return Self.repeated(FieldID(rawValue: slot)!.name, column: Int(f.keyStart)) }
            seen |= 1 << UInt64(slot)
        }
        return Rejection(.malformed, "a field of the contract appears twice")   // not reached
    }

    /// `column`: of the opening quote of the field's second name.
    static func repeated(_ name: String, column: Int) -> Rejection {
        Rejection(.malformed, field: name, "appears twice (again at column \(column)); a field of the contract may be given once")
    }

    /// The rejection of a scanner failure (also `OperatorAction.parse`'s, for the same finding).
    @inline(never)
    static func scanRejection(_ failure: JSONLineScanner.Failure) -> Rejection {
        switch failure {
        case .malformed(let offset, let what):
            // A byte-order mark is at the start of the line by definition: no column.
            if offset == 0, what == JSONLineScanner.byteOrderMarkWhat { return Rejection(.malformed, what) }
            return Rejection(.malformed, "\(what) at column \(offset + 1)")
        case .identifiable(let field, let why):
            return Rejection(.identifiable, field: field, why + "; feeds must carry aggregates or pseudonymous keys")
        }
    }
}

/// Gives the fingerprint of a line's id (`Fingerprint.of`) as soon as the decoder has read the
/// id, before the rest of the line is decoded: the engine prefetches the id's slot in its
/// de-duplication table (`FlowEngine.DedupLookahead`), which then arrives while the time and
/// payload are decoded, and may already know the fingerprint from its own look at the line.
protocol IDLookahead {
    /// `Fingerprint.of(feed: feed, b, s, e)`, the id being `b[s..<e]`.
    func idFingerprint(feed: FeedKind, _ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt64
}

struct NoIDLookahead: IDLookahead {
    @inline(__always) func idFingerprint(feed: FeedKind, _ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        Fingerprint.of(feed: feed, b, s, e)
    }
}

/// Room for one `Slot` per `FieldID`: per-line scratch of a decoder, allocated once.
final class SlotStorage {
    let pointer: UnsafeMutablePointer<Slot> = .allocate(capacity: FieldID.count)
    /// The date of the latest time decoded (`RFC3339.DateMemo`).
    let date: UnsafeMutablePointer<RFC3339.DateMemo> = {
        let p = UnsafeMutablePointer<RFC3339.DateMemo>.allocate(capacity: 1)
        p.initialize(to: RFC3339.DateMemo())
        return p
    }()
    /// The name that followed each field's name in the lines before, by `FieldID` (and at
    /// `FieldID.count`, the line's first): a feed's lines repeat their names in one order, so
    /// the scanner compares the bytes with the name expected instead of scanning and looking
    /// them up (`SlotSink.expected`).
    let next: UnsafeMutablePointer<SlotSink.Expected> = {
        let p = UnsafeMutablePointer<SlotSink.Expected>.allocate(capacity: FieldID.count + 1)
        p.initialize(repeating: SlotSink.nothingExpected, count: FieldID.count + 1)
        return p
    }()
    deinit { pointer.deallocate(); date.deallocate(); next.deallocate() }
}

/// What the decoder keeps of a top-level field (the name is the slot's `FieldID`).
struct Slot {
    var start: Int32   // strings: first byte after the opening quote
    var end: Int32     // strings: the closing quote
    var kind: JSONLineScanner.ValueKind
    var hasEscapes: Bool

    /// The scanner's view of the field, for the shared value readers (cold paths).
    var field: JSONLineScanner.Field {
        JSONLineScanner.Field(keyStart: 0, keyEnd: 0, valueStart: start, valueEnd: end, kind: kind, hasEscapes: hasEscapes, boolValue: false)
    }
}

/// Files the contract's fields by name as the scanner meets them; other names are dropped
/// (after the scanner's identifiable-name check, and, their values being free text, its check
/// for an NHS-number-shaped run anywhere in a string). A repeated contract field is filed again
/// (the later value in the slot) but shows in `added`: the decoder then refuses the line
/// (`FeedDecoder.repeatedField`). Repeated other names are ignored, as the names are.
struct SlotSink: ScanSink {
    let tables: DecoderTables.View
    let slots: UnsafeMutablePointer<Slot>
    var present: UInt64 = 0
    /// The sum of the bits of the fields filed: `present` exactly when no field came twice (a
    /// bit added twice carries). One addition a field and one comparison a line. The sum cannot
    /// wrap round to `present`: a line has at most 256 fields and every slot is below 56
    /// (`DecoderTables.init`), so it stays below 2^64.
    var added: UInt64 = 0
    /// The names expected after each field's (`SlotStorage.next`), and the slot of the latest
    /// name (`FieldID.count` before the first; -1 after a name not in the contract, which
    /// predicts nothing).
    let next: UnsafeMutablePointer<Expected>
    var previous = FieldID.count

    struct Expected {
        var name: DecoderTables.Name
        var slot: Int
    }

    init(tables: DecoderTables.View, slots: UnsafeMutablePointer<Slot>, next: UnsafeMutablePointer<Expected>) {
        self.tables = tables
        self.slots = slots
        self.next = next
    }

    /// Looked up by hash; learnt as the name expected after the previous one, with its closing
    /// quote and the colon (`"name":`) where the colon follows at once (a line written with
    /// spaces there teaches nothing: its names are scanned).
    @inline(__always)
    mutating func slot(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int {
        let k = tables.fieldSlot(b, n, s, e)
        if k >= 0, previous >= 0 {
            // `e` is the closing quote; contract names are at most 30 bytes (`DecoderTables.init`).
            next[previous] = e &+ 1 < n && b[e &+ 1] == UInt8(ascii: ":")
                ? Expected(name: DecoderTables.name(b, n, s, e &+ 2), slot: k) : Self.nothingExpected
        }
        previous = k
        return k
    }

    static let nothingExpected = Expected(name: DecoderTables.Name(len: 0, w0: 0, w1: 0, w2: 0, w3: 0), slot: -1)

    /// The bytes at `s` are the expected name, its quote and the colon, compared a word at a
    /// time (one word for names of up to six bytes): the quote and the colon were two more
    /// checks and a pass over any spaces between them, at every field.
    @inline(__always)
    mutating func expected(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> (slot: Int, end: Int) {
        guard previous >= 0 else { return (-1, 0) }
        let x = next[previous]
        let e = s &+ x.name.len   // just after the colon
        guard x.slot >= 0, e < n, x.name.matches(b, n, s) else { return (-1, 0) }
        previous = x.slot
        return (x.slot, e &- 2)
    }

    /// A name not in the contract is not filed: its value is free text (`ScanSink.add`).
    @inline(__always)
    mutating func add(_ f: JSONLineScanner.Field, slot: Int) -> Bool {
        guard slot >= 0 else { return false }
        slots[slot] = Slot(start: f.valueStart, end: f.valueEnd, kind: f.kind, hasEscapes: f.hasEscapes)
        let bit: UInt64 = 1 << UInt64(slot)
        present |= bit
        added &+= bit
        return true
    }

    /// Some contract field appears more than once.
    @inline(__always)
    var repeats: Bool { added != present }
}

/// How the feed decoder files a line's fields: a `SlotSink`, with or without the scan's
/// patient-data checks (`ScanSink.checksPatientData`).
protocol SlotFiling: ScanSink {
    init(_ filed: SlotSink)
    var filed: SlotSink { get }
}

extension SlotSink: SlotFiling {
    @inline(__always) init(_ filed: SlotSink) { self = filed }
    @inline(__always) var filed: SlotSink { self }
}

/// A restart's second reading of a journalled line the checks refused
/// (`FeedDecoder.decodeJournalled`).
extension PatientChecksOff: SlotFiling where Base == SlotSink {
    init(_ filed: SlotSink) { self.init(base: filed) }
    var filed: SlotSink { base }
}

/// The decoder's lookup tables, built once per configuration and never changed (so copies of
/// a decoder share them): contract field names hashed by their raw bytes, and the unit codes.
final class DecoderTables {
    /// A name of at most 32 bytes as four little-endian words, zero-padded.
    struct Name: Equatable {
        var len: Int
        var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

        /// `b[s..<s + len]` is this name (`s + len <= n`): `DecoderTables.name(b, n, s, s + len)
        /// == self`, read a word at a time and only as far as the name goes. Building the whole
        /// `Name` for the expected name of every field (`SlotSink.expected`) was a sixth of the
        /// decoder's samples (perf), most names being a single word.
        @inline(__always)
        func matches(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> Bool {
            guard DecoderTables.word(b, n, s, len) == w0 else { return false }
            if len <= 8 { return true }
            guard DecoderTables.word(b, n, s &+ 8, len &- 8) == w1 else { return false }
            if len <= 16 { return true }
            guard DecoderTables.word(b, n, s &+ 16, len &- 16) == w2 else { return false }
            if len <= 24 { return true }
            return DecoderTables.word(b, n, s &+ 24, len &- 24) == w3
        }
    }

    static let indexSize = 256
    /// Open addressing: hash -> index into `names` (0xFF: empty).
    private let index: UnsafeMutablePointer<UInt8>
    private let names: UnsafeMutablePointer<Name>
    private let sites: UnsafeMutablePointer<Name>
    let siteCount: Int
    /// Unit codes longer than 32 bytes are compared byte by byte.
    private let siteBytes: [[UInt8]]
    let siteCodes: [String]
    let siteKinds: UnsafeMutablePointer<UnitKind>

    init(units: [UnitConfig]) {
        index = .allocate(capacity: Self.indexSize)
        index.initialize(repeating: 0xFF, count: Self.indexSize)
        names = .allocate(capacity: FieldID.count)
        for id in FieldID.allCases {
            let bytes = Array(id.name.utf8)
            // Below 56: `SlotSink.added` (256 fields of at most 2^55 each) does not wrap.
            // At most 30 bytes: an expected name is kept with its quote and colon (`SlotSink`).
            precondition(bytes.count <= 30 && id.rawValue < 56)
            // The scanner skips the identifiable-name check for contract names.
            precondition(bytes.withUnsafeBufferPointer { JSONLineScanner.identifiableKey($0, 0, $0.count) } == nil)
            let name = bytes.withUnsafeBufferPointer { Self.name($0.baseAddress!, $0.count, 0, $0.count) }
            (names + id.rawValue).initialize(to: name)
            var h = Self.hash(name)
            while index[h] != 0xFF { h = (h + 1) & (Self.indexSize - 1) }
            index[h] = UInt8(id.rawValue)
        }
        siteCount = units.count
        sites = .allocate(capacity: max(1, units.count))
        siteKinds = .allocate(capacity: max(1, units.count))
        siteBytes = units.map { Array($0.code.utf8) }
        siteCodes = siteBytes.map { String(decoding: $0, as: UTF8.self) }
        for (k, unit) in units.enumerated() {
            let code = siteBytes[k]
            let name = code.isEmpty ? Name(len: 0, w0: 0, w1: 0, w2: 0, w3: 0)
                : code.withUnsafeBufferPointer { Self.name($0.baseAddress!, $0.count, 0, min($0.count, 32)) }
            (sites + k).initialize(to: Name(len: code.count, w0: name.w0, w1: name.w1, w2: name.w2, w3: name.w3))
            (siteKinds + k).initialize(to: unit.kind)
        }
    }

    deinit {
        index.deallocate()
        names.deallocate()
        sites.deallocate()
        siteKinds.deallocate()
    }

    /// The first `min(len, 8)` bytes at `b[s...]`, little-endian, zero-padded. Reads whole
    /// words only inside `b[0..<n]`.
    /// The tables as raw pointers, for the per-line path (no reference counting). Valid while
    /// the tables are alive: the decoder holding them outlives every line it decodes.
    struct View {
        let index: UnsafeMutablePointer<UInt8>
        let names: UnsafeMutablePointer<Name>
        let sites: UnsafeMutablePointer<Name>
        let siteKinds: UnsafeMutablePointer<UnitKind>
        let siteCount: Int
        let owner: Unmanaged<DecoderTables>

        @inline(__always)
        func fieldSlot(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int {
            let len = e - s
            guard len >= 1, len <= 32 else { return -1 }
            let key = DecoderTables.name(b, n, s, e)
            var h = DecoderTables.hash(key)
            while true {
                let k = index[h]
                if k == 0xFF { return -1 }
                if names[Int(k)] == key { return Int(k) }
                h = (h + 1) & (DecoderTables.indexSize - 1)
            }
        }

        /// The index of the unit whose code is `b[s..<e]`, or nil (the first match, as listed).
        @inline(__always)
        func site(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int? {
            let len = e - s
            let key = len <= 32 ? DecoderTables.name(b, n, s, e) : DecoderTables.name(b, n, s, s + 32)
            for k in 0..<siteCount {
                let c = sites[k]
                guard c.len == len, c.w0 == key.w0, c.w1 == key.w1, c.w2 == key.w2, c.w3 == key.w3 else { continue }
                if len <= 32 || owner._withUnsafeGuaranteedRef({ $0.longCodeEqual(k, b, s, e) }) { return k }
            }
            return nil
        }

        /// The code of unit `k` ("" for none), for rejections (cold).
        func siteCode(_ k: Int) -> String {
            k < 0 ? "" : owner._withUnsafeGuaranteedRef { $0.siteCodes[k] }
        }
    }

    var view: View {
        View(index: index, names: names, sites: sites, siteKinds: siteKinds, siteCount: siteCount, owner: Unmanaged.passUnretained(self))
    }

    func longCodeEqual(_ k: Int, _ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let bytes = siteBytes[k]
        guard bytes.count == e - s else { return false }
        for j in 0..<bytes.count where b[s + j] != bytes[j] { return false }
        return true
    }

    @inline(__always)
    static func word(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ len: Int) -> UInt64 {
        if s &+ 8 <= n {
            let w = UInt64(littleEndian: UnsafeRawPointer(b + s).loadUnaligned(as: UInt64.self))
            return len >= 8 ? w : w & ((1 << UInt64(len << 3)) &- 1)
        }
        var w: UInt64 = 0
        var k = 0
        while k < len && k < 8 { w |= UInt64(b[s + k]) << UInt64(k << 3); k += 1 }
        return w
    }

    /// `b[s..<e]` (`e - s <= 32`) as a `Name`.
    @inline(__always)
    static func name(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Name {
        let len = e - s
        var name = Name(len: len, w0: word(b, n, s, len), w1: 0, w2: 0, w3: 0)
        if len > 8 { name.w1 = word(b, n, s + 8, len - 8) }
        if len > 16 { name.w2 = word(b, n, s + 16, len - 16) }
        if len > 24 { name.w3 = word(b, n, s + 24, len - 24) }
        return name
    }

    @inline(__always)
    static func hash(_ m: Name) -> Int {
        let h = (m.w0 &* 0x9E37_79B9_7F4A_7C15) &+ (m.w1 &* 0xC2B2_AE3D_27D4_EB4F)
            &+ (m.w2 &* 0x1656_67B1_9E37_79F9) &+ (m.w3 &* 0x27D4_EB2F_1656_67C5) &+ UInt64(m.len) &* 0xFF51_AFD7_ED55_8CCD
        return Int(truncatingIfNeeded: h >> 56)
    }
}

/// One scanned line being decoded: reads typed values out of the slots, producing
/// rejections that name the field.
private struct Line {
    let b: UnsafePointer<UInt8>
    let n: Int
    let slots: UnsafePointer<Slot>
    let present: UInt64
    let tables: DecoderTables.View
    var feed: FeedKind? = nil
    /// -1 until the site is known.
    var site = -1

    /// The decoder's memo of the latest date decoded (its scratch, as `slots`).
    let date: UnsafeMutablePointer<RFC3339.DateMemo>
    /// Whether a pseudonymous key is checked for patient data (`keyIdentifiable`): as the scan's
    /// checks are, all but a restart's second reading of its own journal.
    let checksKeys: Bool

    init(b: UnsafePointer<UInt8>, n: Int, slots: UnsafePointer<Slot>, present: UInt64, tables: DecoderTables.View,
         date: UnsafeMutablePointer<RFC3339.DateMemo>, checksKeys: Bool) {
        self.b = b
        self.n = n
        self.slots = slots
        self.present = present
        self.tables = tables
        self.date = date
        self.checksKeys = checksKeys
    }

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: b, count: n) }

    /// The field, if present and not `null` (null is the same as absent).
    @inline(__always)
    func value(_ id: FieldID) -> Slot? {
        guard present & (1 << UInt64(id.rawValue)) != 0 else { return nil }
        let f = slots[id.rawValue]
        return f.kind == .null ? nil : f
    }

    @inline(__always)
    func isPresent(_ id: FieldID) -> Bool { present & (1 << UInt64(id.rawValue)) != 0 }

    /// A string field without escapes equals `s`, byte for byte.
    @inline(__always)
    func equals(_ f: Slot, _ s: StaticString) -> Bool {
        guard f.kind == .string, !f.hasEscapes else { return false }
        let len = Int(f.end - f.start)
        guard len == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        let start = Int(f.start)
        var k = 0
        while k < len {
            if b[start + k] != p[k] { return false }
            k += 1
        }
        return true
    }

    var siteCode: String { tables.siteCode(site) }

    @inline(never)
    func rejection(_ reason: RejectionReason, _ field: String?, _ detail: String) -> Rejection {
        let code = siteCode
        return Rejection(reason, field: field, detail, feed: feed, site: code.isEmpty ? nil : code)
    }

    // MARK: envelope

    @inline(__always)
    mutating func decodeMessage<L: IDLookahead>(_ lookahead: L) throws(Rejection) -> FeedMessage {
        // feed
        guard let feedField = value(.feed) else {
            throw Rejection(.missingField, field: "feed", "every message names its feed (bed, dtoc, 111, ambulance)")
        }
        guard feedField.kind == .string else {
            throw Rejection(.badType, field: "feed", "must be a string")
        }
        let feed: FeedKind
        if equals(feedField, "ambulance") { feed = .ambulance }
        else if equals(feedField, "bed") { feed = .bed }
        else if equals(feedField, "dtoc") { feed = .dtoc }
        else if equals(feedField, "111") { feed = .nhs111 }
        else { throw unknownFeed(feedField) }
        self.feed = feed
        if let v = value(.v) {
            // The one accepted spelling is the single digit 1.
            if !(v.kind == .number && v.end - v.start == 1 && b[Int(v.start)] == UInt8(ascii: "1")) {
                try checkVersion(v, feed)
            }
        }
        // site
        guard let siteField = value(.site) else {
            throw Rejection(.missingField, field: "site", "every message names its site", feed: feed)
        }
        guard siteField.kind == .string, !siteField.hasEscapes else {
            throw Rejection(.badType, field: "site", "must be a unit code string", feed: feed)
        }
        guard let site = tables.site(b, n, Int(siteField.start), Int(siteField.end)) else {
            throw unknownSite(siteField, feed)
        }
        self.site = site
        // id
        guard let idField = value(.id) else {
            throw rejection(.missingField, "id", "every message carries its source message id")
        }
        guard idField.kind == .string else { throw rejection(.badType, "id", "must be a string") }
        let idLen = Int(idField.end - idField.start)
        guard idLen >= 1, idLen <= 128 else { throw rejection(.outOfRange, "id", "must be 1 to 128 characters") }
        // The message id is checked as the keys are (a titled name, a postcode, a telephone
        // number, capitalised words: `"id":"Mr Smith bed"` and `"id":"07700900123"` were kept in
        // the journal, the ops engineer's user test), where it has a space or a first `0` or `+`.
        if idLen >= PatientText.shortestFinding, checksKeys,
           idField.hasEscapes || PatientText.keyMayIdentify(b, Int(idField.start), Int(idField.end), dates: false),
           let why = keyIdentifiable(idField) {
            throw rejection(.identifiable, "id", why)
        }
        let idHash = lookahead.idFingerprint(feed: feed, b, Int(idField.start), Int(idField.end))
        // at
        let at = try time(.at, required: true)!
        let kind = tables.siteKinds[site]
        let payload: FeedMessage.Payload
        switch feed {
        case .bed:
            guard kind != .nhs111, kind != .ambulance else {
                throw rejection(.unknownSite, "site", "\(siteCode) is a \(kind.rawValue) unit and sends no bed state")
            }
            payload = .bed(try decodeBed())
        case .dtoc:
            guard kind == .acute || kind == .community || kind == .mentalHealth else {
                throw rejection(.unknownSite, "site", "\(siteCode) is a \(kind.rawValue) unit and has no bed-based DToC")
            }
            payload = .dtoc(try decodeDToC(at: at))
        case .nhs111:
            guard kind == .nhs111 else {
                throw rejection(.unknownSite, "site", "\(siteCode) is not an NHS 111 service")
            }
            payload = .nhs111(try decode111())
        case .ambulance:
            payload = .ambulance(try decodeAmbulance(siteKind: kind))
        }
        return FeedMessage(feed: feed, idHash: idHash, at: at, site: site, payload: payload)
    }

    @inline(never)
    func unknownFeed(_ f: Slot) -> Rejection {
        let name = JSONLineScanner.stringValue(buffer, f.field) ?? ""
        return Rejection(.unknownFeed, field: "feed", "'\(Sanitise.short(name))' is not a feed of contract v1 (bed, dtoc, 111, ambulance)")
    }

    @inline(never)
    func checkVersion(_ v: Slot, _ feed: FeedKind) throws(Rejection) {
        guard let ver = JSONLineScanner.intValue(buffer, v.field) else {
            throw Rejection(.badType, field: "v", "must be an integer", feed: feed)
        }
        guard ver == 1 else {
            throw Rejection(.unsupportedVersion, field: "v", "version \(ver) is not supported (this build reads version 1)", feed: feed)
        }
    }

    @inline(never)
    func unknownSite(_ f: Slot, _ feed: FeedKind) -> Rejection {
        let code = JSONLineScanner.stringValue(buffer, f.field) ?? ""
        return Rejection(.unknownSite, field: "site", "'\(Sanitise.short(code))' is not a unit of this system", feed: feed)
    }

    // MARK: feeds

    func decodeBed() throws(Rejection) -> BedState {
        let open = try count(.gaCoreOpen, required: true)!
        let occupied = try count(.gaCoreOccupied, required: true)!
        if occupied > open {
            throw rejection(.outOfRange, "ga_core_occupied", "\(occupied) is above ga_core_open \(open)")
        }
        var b = BedState(coreOpen: open, coreOccupied: occupied)
        b.escalationOpen = try count(.escOpen)
        b.escalationOccupied = try count(.escOccupied)
        if let eo = b.escalationOccupied {
            guard let e = b.escalationOpen else {
                throw rejection(.missingField, "esc_open", "esc_occupied is given without esc_open")
            }
            if eo > e { throw rejection(.outOfRange, "esc_occupied", "\(eo) is above esc_open \(e)") }
        }
        b.closed = try count(.closed)
        b.edInDepartment = try count(.edInDepartment)
        b.edDecisionsToAdmitWaiting = try count(.edDtaWaiting)
        b.ed4hPct = try number(.ed4hPct, range: 0...100)
        b.edBreachesSinceMidnight = try count(.edBreachesSinceMidnight)
        b.edOver12h = try count(.edOver12h)
        if let d = try count(.declaredOpel) {
            guard (1...4).contains(d) else { throw rejection(.outOfRange, "declared_opel", "\(d) is not an OPEL level 1-4") }
            b.declaredOpel = d
        }
        return b
    }

    func decodeDToC(at: EventTime) throws(Rejection) -> DToCEvent {
        guard let kindField = value(.kind) else {
            throw rejection(.missingField, "kind", "dtoc messages are start, end or snapshot")
        }
        if equals(kindField, "start") {
            let patient = try key(.patient, max: 64)
            let reason = try enumeration(.reason, Self.reasonCode, DToCReason.init(rawValue:)) {
                "'\(Sanitise.short($0))' is not a DToC reason code (A, B, C, DI, DII, E, F, G, H, I, O)"
            }
            let org = try enumeration(.org, Self.organisation, ResponsibleOrganisation.init(rawValue:)) {
                "'\(Sanitise.short($0))' is not nhs, social or both"
            }
            let pathway = try enumeration(.pathway, Self.pathway, DischargePathway.init(rawValue:)) {
                "'\(Sanitise.short($0))' is not P0, P1, P2 or P3"
            }
            let ready = try time(.readySince, required: false) ?? at
            if ready > at { throw rejection(.outOfRange, "ready_since", "is after the message time") }
            return .start(patient: patient, reason: reason, org: org, pathway: pathway, readySince: ready)
        }
        if equals(kindField, "end") {
            return .end(patient: try key(.patient, max: 64))
        }
        if equals(kindField, "snapshot") {
            let patients = try count(.patients, required: true)!
            let byOrg = [try count(.nhs), try count(.social), try count(.both)]
            let byPathway = [try count(.p0), try count(.p1), try count(.p2), try count(.p3)]
            return .snapshot(DToCCounts(patients: patients, byOrg: byOrg, byPathway: byPathway))
        }
        throw rejection(.outOfRange, "kind", "dtoc messages are start, end or snapshot")
    }

    func decode111() throws(Rejection) -> NHS111Interval {
        let minutes = try count(.minutes) ?? 15
        guard (1...60).contains(minutes) else { throw rejection(.outOfRange, "minutes", "\(minutes) is not an interval of 1-60 minutes") }
        let offered = try count(.offered, required: true)!
        let answered = try count(.answered, required: true)!
        let within = try count(.answered60s, required: true)!
        let abandoned = try count(.abandoned, required: true)!
        if answered > offered { throw rejection(.outOfRange, "answered", "\(answered) is above offered \(offered)") }
        if within > answered { throw rejection(.outOfRange, "answered_60s", "\(within) is above answered \(answered)") }
        if abandoned > offered { throw rejection(.outOfRange, "abandoned", "\(abandoned) is above offered \(offered)") }
        var v = NHS111Interval(minutes: minutes, offered: offered, answered: answered, answeredWithin60s: within, abandoned: abandoned)
        v.dispAmbulance = try count(.dispAmbulance)
        v.dispED = try count(.dispED)
        v.dispPrimaryCare = try count(.dispPrimaryCare)
        v.dispSelfCare = try count(.dispSelfCare)
        v.dispOther = try count(.dispOther)
        return v
    }

    /// Inlined in `decodeMessage`, as the compiler chose before the keys' patient-data pass
    /// made it larger (outlined, a replay took 2.9% more instructions; callgrind).
    @inline(__always)
    func decodeAmbulance(siteKind: UnitKind) throws(Rejection) -> AmbulanceEvent {
        guard let kindField = value(.kind) else {
            throw rejection(.missingField, "kind", "ambulance messages are arrived, handover, clear or status")
        }
        if equals(kindField, "status") {
            guard siteKind == .ambulance else {
                throw rejection(.unknownSite, "site", "status messages come from the ambulance service unit, not \(siteCode)")
            }
            var s = AmbulanceServiceStatus()
            s.stackWaiting = try count(.stackWaiting)
            s.cat1MeanSeconds = try count(.cat1MeanS)
            s.cat1P90Seconds = try count(.cat1P90S)
            s.cat2MeanSeconds = try count(.cat2MeanS)
            s.cat2P90Seconds = try count(.cat2P90S)
            s.cat3P90Seconds = try count(.cat3P90S)
            s.cat4P90Seconds = try count(.cat4P90S)
            if s == AmbulanceServiceStatus() {
                throw rejection(.missingField, "stack_waiting", "a status message needs at least one figure")
            }
            return .status(s)
        }
        guard siteKind == .acute || siteKind == .urgentTreatment else {
            throw rejection(.unknownSite, "site", "conveyances name the receiving hospital; \(siteCode) is a \(siteKind.rawValue) unit")
        }
        if equals(kindField, "arrived") {
            let incident = try key(.incident, max: 64)
            var category: Int? = nil
            if let c = try count(.category) {
                guard (1...4).contains(c) else { throw rejection(.outOfRange, "category", "\(c) is not a category 1-4") }
                category = c
            }
            return .arrived(incident: incident, category: category)
        }
        if equals(kindField, "handover") {
            let incident = try key(.incident, max: 64)
            let arrivedAt = try time(.arrivedAt, required: false)
            return .handover(incident: incident, arrivedAt: arrivedAt)
        }
        if equals(kindField, "clear") {
            return .clear(incident: try key(.incident, max: 64))
        }
        throw rejection(.outOfRange, "kind", "ambulance messages are arrived, handover, clear or status")
    }

    // MARK: values

    /// A non-negative whole number (at most 10,000,000).
    @inline(__always)
    func count(_ id: FieldID, required: Bool = false) throws(Rejection) -> Int? {
        guard let f = value(id) else {
            if required { throw rejection(.missingField, id.name, "is required") }
            return nil
        }
        // Up to seven plain digits is always a valid count (the grammar has no leading zeros).
        let s = Int(f.start), len = Int(f.end - f.start)
        if f.kind == .number, len <= 7 {
            var v = 0
            var k = 0
            while k < len {
                let d = b[s + k] &- 48
                if d >= 10 { break }
                v = v &* 10 &+ Int(d)
                k += 1
            }
            if k == len { return v }
        }
        return try countSlow(id, f)
    }

    @inline(never)
    func countSlow(_ id: FieldID, _ f: Slot) throws(Rejection) -> Int {
        guard f.kind == .number else { throw rejection(.badType, id.name, "must be a whole number") }
        guard let v = JSONLineScanner.intValue(buffer, f.field) else {
            // A whole number too big for digits to hold or written with an exponent (`1e20`) is
            // out of range, not "not whole" (ops user test); a fraction is not whole.
            if let d = JSONLineScanner.doubleValue(buffer, f.field), d.isFinite, d == d.rounded(), abs(d) > 10_000_000 {
                let written = JSONLineScanner.text(buffer, Int(f.field.valueStart), Int(f.field.valueEnd))
                let text = written.count > 20 ? written.prefix(17) + "…" : written   // as written, not a page of digits
                throw rejection(.outOfRange, id.name, d < 0 ? "\(text) is negative" : "\(text) is implausibly large (at most 10000000)")
            }
            throw rejection(.badType, id.name, "must be a whole number")
        }
        guard v >= 0 else { throw rejection(.outOfRange, id.name, "\(v) is negative") }
        guard v <= 10_000_000 else { throw rejection(.outOfRange, id.name, "\(v) is implausibly large (at most 10000000)") }
        return Int(v)
    }

    func number(_ id: FieldID, range: ClosedRange<Double>) throws(Rejection) -> Double? {
        guard let f = value(id) else { return nil }
        guard f.kind == .number, let v = FastDouble.parse(b, Int(f.start), Int(f.end)) ?? JSONLineScanner.doubleValue(buffer, f.field) else {
            throw rejection(.badType, id.name, "must be a number")
        }
        guard range.contains(v) else {
            throw rejection(.outOfRange, id.name, "\(v) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return v
    }

    /// A pseudonymous key, fingerprinted (the model never keeps the key text).
    @inline(__always)
    func key(_ id: FieldID, max: Int) throws(Rejection) -> UInt64 {
        guard let f = value(id) else { throw rejection(.missingField, id.name, "is required") }
        guard f.kind == .string else { throw rejection(.badType, id.name, "must be a string") }
        let len = Int(f.end - f.start)
        guard len >= 1, len <= max else { throw rejection(.outOfRange, id.name, "must be 1 to \(max) characters") }
        if len >= PatientText.shortestFinding, checksKeys, f.hasEscapes || PatientText.keyMayIdentify(b, Int(f.start), Int(f.end)),
           let why = keyIdentifiable(f) {
            throw rejection(.identifiable, id.name, why)
        }
        return Fingerprint.bytes(b, Int(f.start), Int(f.end))
    }

    /// Why a key is patient-identifiable (`JSONLineScanner.keyWhy`, of its text with any
    /// escapes resolved), or nil.
    @inline(never)
    func keyIdentifiable(_ f: Slot) -> String? {
        let why: String?
        if f.hasEscapes {
            why = JSONLineScanner.stringValue(buffer, f.field).flatMap { JSONLineScanner.keyWhy($0) }
        } else {
            why = JSONLineScanner.keyWhy(b, Int(f.start), Int(f.end))
        }
        return why.map { $0 + "; feeds must carry aggregates or pseudonymous keys" }
    }

    @inline(__always)
    func time(_ id: FieldID, required: Bool) throws(Rejection) -> EventTime? {
        guard let f = value(id) else {
            if required { throw rejection(.missingField, id.name, "is required (RFC 3339 with an offset)") }
            return nil
        }
        guard f.kind == .string, !f.hasEscapes else { throw rejection(.badType, id.name, "must be an RFC 3339 string") }
        guard let t = RFC3339.parse(b, Int(f.start), Int(f.end), date: &date.pointee) else { throw badTime(id, f) }
        return t
    }

    @inline(never)
    func badTime(_ id: FieldID, _ f: Slot) -> Rejection {
        let s = JSONLineScanner.stringValue(buffer, f.field) ?? ""
        return rejection(.badType, id.name, "'\(Sanitise.short(s))' is not an RFC 3339 time with an offset")
    }

    /// A required string naming a case of `T`. Values without escapes are matched as bytes by
    /// `match` (for these ASCII codes byte equality is `String` equality); values with escapes
    /// are resolved and looked up by `rawValue`, as any other string.
    @inline(__always)
    func enumeration<T>(_ id: FieldID, _ match: (UnsafePointer<UInt8>, Int, Int) -> T?, _ byName: (String) -> T?,
                        _ detail: (String) -> String) throws(Rejection) -> T {
        guard let f = value(id) else { throw rejection(.missingField, id.name, "is required") }
        guard f.kind == .string else { throw rejection(.badType, id.name, "must be a string") }
        if !f.hasEscapes, let v = match(b, Int(f.start), Int(f.end)) { return v }
        let text = JSONLineScanner.stringValue(buffer, f.field) ?? ""
        guard let v = byName(text) else { throw rejection(.outOfRange, id.name, detail(text)) }
        return v
    }

    @inline(__always)
    static func reasonCode(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> DToCReason? {
        switch e - s {
        case 1:
            switch b[s] {
            case UInt8(ascii: "A"): return .a
            case UInt8(ascii: "B"): return .b
            case UInt8(ascii: "C"): return .c
            case UInt8(ascii: "E"): return .e
            case UInt8(ascii: "F"): return .f
            case UInt8(ascii: "G"): return .g
            case UInt8(ascii: "H"): return .h
            case UInt8(ascii: "I"): return .i
            case UInt8(ascii: "O"): return .o
            default: return nil
            }
        case 2: return b[s] == UInt8(ascii: "D") && b[s + 1] == UInt8(ascii: "I") ? .di : nil
        case 3: return b[s] == UInt8(ascii: "D") && b[s + 1] == UInt8(ascii: "I") && b[s + 2] == UInt8(ascii: "I") ? .dii : nil
        default: return nil
        }
    }

    @inline(__always)
    static func organisation(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> ResponsibleOrganisation? {
        switch e - s {
        case 3: return b[s] == UInt8(ascii: "n") && b[s + 1] == UInt8(ascii: "h") && b[s + 2] == UInt8(ascii: "s") ? .nhs : nil
        case 4:
            return b[s] == UInt8(ascii: "b") && b[s + 1] == UInt8(ascii: "o") && b[s + 2] == UInt8(ascii: "t")
                && b[s + 3] == UInt8(ascii: "h") ? .both : nil
        case 6:
            return b[s] == UInt8(ascii: "s") && b[s + 1] == UInt8(ascii: "o") && b[s + 2] == UInt8(ascii: "c")
                && b[s + 3] == UInt8(ascii: "i") && b[s + 4] == UInt8(ascii: "a") && b[s + 5] == UInt8(ascii: "l") ? .social : nil
        default: return nil
        }
    }

    @inline(__always)
    static func pathway(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> DischargePathway? {
        guard e - s == 2, b[s] == UInt8(ascii: "P") else { return nil }
        switch b[s + 1] {
        case UInt8(ascii: "0"): return .p0
        case UInt8(ascii: "1"): return .p1
        case UInt8(ascii: "2"): return .p2
        case UInt8(ascii: "3"): return .p3
        default: return nil
        }
    }
}

enum FastDouble {
    /// The value of a JSON number `digits[.digits]` of at most 15 significant digits, or nil
    /// for any other form. Exact: the digits are an integer below 2^53 and the divisor a power
    /// of ten below 10^16, both exactly representable, so the one division is correctly
    /// rounded, which is what `Double(String)` gives for the same text.
    @inline(__always)
    static func parse(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Double? {
        guard e - s <= 16 else { return nil }
        var m: Int64 = 0
        var digits = 0
        var fraction = -1
        var k = s
        while k < e {
            let c = b[k]
            if c == UInt8(ascii: ".") {
                guard fraction < 0 else { return nil }
                fraction = 0
            } else {
                let d = c &- 48
                guard d < 10 else { return nil }
                m = m * 10 + Int64(d)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            }
            k += 1
        }
        guard digits <= 15 else { return nil }
        var scale = 1.0
        var f = max(fraction, 0)
        while f > 0 { scale *= 10; f -= 1 }
        return Double(m) / scale
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

    /// The number of cases (at most 56: the decoder keeps the present ones as bits of a word, and
    /// sums them, `SlotSink.added`).
    static var count: Int { FieldID.cat4P90S.rawValue + 1 }

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
}

/// 64-bit fingerprints of byte strings (message ids, patient and incident keys): deterministic
/// across runs and machines, and never stored (the model keeps them in memory only; a journal
/// keeps the text). Eight bytes at a time: the length is folded into the seed, then each
/// little-endian word of the bytes, and last a word of the final eight bytes (overlapping the
/// word before; for a string shorter than eight, its bytes padded with zeros), each folded in
/// by a 64 x 64 -> 128-bit multiply by a constant whose halves are xored (`fold`), and the
/// result folded once more, so that a change anywhere in the input moves about half the bits
/// of the output (`FingerprintTests`). A fingerprint stands for its id in the de-duplication
/// table, so a collision would refuse a new message as a duplicate: with a full 64 bits, a new
/// id matches one of the half a million of a 48-hour window by chance about once in 4 x 10^13
/// messages.
///
/// FNV-1a before it took a multiply a byte, each waiting for the last (about 60 cycles for a
/// 14-character id, hashed twice a line at the density): this takes three.
public enum Fingerprint {
    @inline(__always)
    public static func bytes(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, seed: UInt64 = defaultSeed) -> UInt64 {
        precondition(s >= 0 && e <= p.count, "fingerprint range outside the buffer")
        guard s < e, let base = p.baseAddress else { return finish(seed, last: 0) }   // no bytes
        return bytes(base, s, e, seed: seed)
    }

    public static let defaultSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    /// The halves of `x * k` (128 bits), xored.
    @inline(__always)
    static func fold(_ x: UInt64, _ k: UInt64) -> UInt64 {
        let r = x.multipliedFullWidth(by: k)
        return r.high ^ r.low
    }

    static let kLength: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let kWord: UInt64 = 0xA076_1D64_78BD_642F
    static let kLast: UInt64 = 0xE703_7ED1_A0B4_28DB
    static let kFinal: UInt64 = 0x8EBC_6AF0_9C88_C6E3
    static let kFinalXor: UInt64 = 0x5899_65CC_7537_4CC3

    /// The fingerprint of `b[s..<e]` (the same function as `bytes(_:_:_:seed:)`, without
    /// bounds checks). Reads only `b[s..<e]`.
    @inline(__always)
    static func bytes(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, seed: UInt64 = defaultSeed) -> UInt64 {
        let n = e - s
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* kLength)
        let raw = UnsafeRawPointer(b)
        var i = s
        while i &+ 8 < e {   // every whole word but the last eight bytes
            h = fold(h ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)), kWord)
            i &+= 8
        }
        let last: UInt64
        if n >= 8 {
            last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: e &- 8, as: UInt64.self))
        } else {
            var w: UInt64 = 0
            var k = 0
            while s &+ k < e {
                w |= UInt64(b[s &+ k]) << UInt64(8 &* k)
                k &+= 1
            }
            last = w
        }
        return finish(h, last: last)
    }

    @inline(__always)
    private static func finish(_ h: UInt64, last: UInt64) -> UInt64 {
        fold(fold(h ^ last, kLast) ^ kFinalXor, kFinal)
    }

    @inline(__always)
    static func of(feed: FeedKind, _ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        let seed: UInt64
        switch feed {
        case .bed: seed = 0x2D35_8DCC_AA6C_78A5
        case .dtoc: seed = 0x8BB8_4B93_962E_ACC9
        case .nhs111: seed = 0x4B33_A62E_D433_D4A3
        case .ambulance: seed = 0x4D5A_2DA5_1DE1_AA47
        }
        return bytes(b, s, e, seed: seed)
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
