/// A purpose-built scanner for one JSON Lines record: a JSON object whose top-level fields are
/// scalars (nested objects and arrays are validated and skipped).
///
/// Why not Foundation: `JSONDecoder` and `JSONSerialization` allocate per field and run an
/// order of magnitude short of the ingest target (issue 6; the benchmark in `Benchmarks/` keeps
/// the comparison). This scanner validates full JSON grammar (RFC 8259) for the line, including
/// UTF-8 and string escapes, and records byte ranges; nothing is allocated unless a value is
/// asked for as a `String`.
///
/// While scanning it also looks for patient-identifiable data anywhere in the record (at any
/// depth): keys named like identifiers and values shaped like NHS numbers; in free text (nested
/// values, and top-level fields a sink treats as free text: for the feed decoder, names not in
/// the contract) an NHS-number-shaped run anywhere in a string. Not for a sink whose type says
/// otherwise (`ScanSink.checksPatientData`): a restart's second reading of its own journal's line.
///
/// The grammar is one generic routine (`scanRecord`) over raw pointers: `scan(_:)` collects
/// every top-level field into `fields`; the feed decoder passes its own sink that files the
/// contract's fields by name as they are scanned (and, because a contract field name is never
/// an identifiable one, skips the identifiable-name check for exactly those keys). Both see
/// the same failures at the same offsets.
public struct JSONLineScanner {
    public enum ValueKind: UInt8, Sendable { case string, number, bool, null, object, array }

    public struct Field {
        public var keyStart: Int32
        public var keyEnd: Int32
        public var valueStart: Int32   // strings: first byte after the opening quote
        public var valueEnd: Int32     // strings: the closing quote
        public var kind: ValueKind
        public var hasEscapes: Bool
        public var boolValue: Bool
    }

    public enum Failure: Error, Equatable, Sendable {
        case malformed(offset: Int, what: String)
        case identifiable(field: String, why: String)
    }

    /// Top-level fields of the last scanned line, in order.
    public private(set) var fields: [Field] = []
    public static let maxDepth = 32
    public static let maxFields = 256

    public init() { fields.reserveCapacity(32) }

    /// Scans `p[0..<count]`. On success `fields` describes the object. `checkingPatientData`
    /// false: the grammar only (`JournalRedaction`, which looks for what the checks refuse).
    public mutating func scan(_ p: UnsafeBufferPointer<UInt8>, checkingPatientData: Bool = true) -> Failure? {
        fields.removeAll(keepingCapacity: true)
        guard let base = p.baseAddress, p.count > 0 else { return .malformed(offset: 0, what: "empty line") }
        let sink = ArraySink(fields: fields)
        fields = []  // the sink holds the only reference: appends do not copy
        let failure: Failure?
        if checkingPatientData {
            var checked = sink
            failure = Self.scanRecord(base, p.count, &checked)
            fields = checked.fields
        } else {
            var unchecked = PatientChecksOff(base: sink)
            failure = Self.scanRecord(base, p.count, &unchecked)
            fields = unchecked.base.fields
        }
        return failure
    }

    // MARK: - Reading values

    /// The field's name is exactly `s` (compared as raw bytes, escapes not resolved).
    @inline(__always)
    public static func keyEquals(_ p: UnsafeBufferPointer<UInt8>, _ f: Field, _ s: StaticString) -> Bool {
        bytesEqual(p, Int(f.keyStart), Int(f.keyEnd), s)
    }

    /// The field is a string without escapes whose value is exactly `s`.
    @inline(__always)
    public static func valueEquals(_ p: UnsafeBufferPointer<UInt8>, _ f: Field, _ s: StaticString) -> Bool {
        guard f.kind == .string, !f.hasEscapes else { return false }
        return bytesEqual(p, Int(f.valueStart), Int(f.valueEnd), s)
    }

    /// `p[start..<end]` equals the bytes of `s`.
    @inline(__always)
    static func bytesEqual(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ s: StaticString) -> Bool {
        let len = end - start
        guard len == s.utf8CodeUnitCount else { return false }
        let b = s.utf8Start
        var k = 0
        while k < len {
            if p[start + k] != b[k] { return false }
            k += 1
        }
        return true
    }

    /// A whole number within Int64, or nil (fractions, exponents and overflow are not integers).
    public static func intValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> Int64? {
        guard f.kind == .number else { return nil }
        var i = Int(f.valueStart)
        let e = Int(f.valueEnd)
        var neg = false
        if p[i] == UInt8(ascii: "-") { neg = true; i += 1 }
        var v: Int64 = 0
        while i < e {
            let c = p[i]
            guard c >= 48, c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return neg ? -v : v
    }

    public static func doubleValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> Double? {
        guard f.kind == .number else { return nil }
        if let i = intValue(p, f), abs(i) < (1 << 53) { return Double(i) }
        let s = text(p, Int(f.valueStart), Int(f.valueEnd))
        return Double(s)
    }

    /// The decoded string value (escapes resolved).
    public static func stringValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> String? {
        guard f.kind == .string else { return nil }
        let s = Int(f.valueStart), e = Int(f.valueEnd)
        if !f.hasEscapes { return text(p, s, e) }
        return unescape(p, s, e)
    }

    public static func keyString(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> String {
        let s = Int(f.keyStart), e = Int(f.keyEnd)
        if let u = unescapeIfNeeded(p, s, e) { return u }
        return text(p, s, e)
    }

    static func text(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[s..<e]), as: UTF8.self)
    }

    static func text(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: b + s, count: e - s), as: UTF8.self)
    }

    static func unescapeIfNeeded(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String? {
        var k = s
        while k < e { if p[k] == UInt8(ascii: "\\") { return unescape(p, s, e) }; k += 1 }
        return nil
    }

    static func unescape(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(e - s)
        var i = s
        var pendingHigh: UInt32? = nil
        func emit(_ scalar: UInt32) {
            if let u = Unicode.Scalar(scalar) {
                out.append(contentsOf: Array(String(Character(u)).utf8))
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
        }
        while i < e {
            let c = p[i]
            if c != UInt8(ascii: "\\") {
                if let h = pendingHigh { emit(h); pendingHigh = nil }
                out.append(c); i += 1; continue
            }
            let x = p[i + 1]
            i += 2
            var scalar: UInt32
            switch x {
            case UInt8(ascii: "n"): scalar = 10
            case UInt8(ascii: "t"): scalar = 9
            case UInt8(ascii: "r"): scalar = 13
            case UInt8(ascii: "b"): scalar = 8
            case UInt8(ascii: "f"): scalar = 12
            case UInt8(ascii: "u"):
                scalar = 0
                for k in 0..<4 { scalar = scalar << 4 | UInt32(hexValue(p[i + k]) ?? 0) }
                i += 4
            default: scalar = UInt32(x)
            }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                if let h = pendingHigh { emit(h) }
                pendingHigh = scalar
                continue
            }
            if scalar >= 0xDC00 && scalar < 0xE000, let h = pendingHigh {
                emit(0x10000 + ((h - 0xD800) << 10) + (scalar - 0xDC00))
                pendingHigh = nil
                continue
            }
            if let h = pendingHigh { emit(h); pendingHigh = nil }
            emit(scalar)
        }
        if let h = pendingHigh { emit(h) }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    // MARK: - Grammar

    /// Scans the record `b[0..<n]` (`n > 0`), handing each top-level field to `sink`.
    @inline(__always)
    static func scanRecord<S: ScanSink>(_ b: UnsafePointer<UInt8>, _ n: Int, _ sink: inout S) -> Failure? {
        var i = skipWS(b, n, 0)
        guard i < n, b[i] == UInt8(ascii: "{") else {
            // A UTF-8 byte-order mark (EF BB BF), as some editors save a file's first line with:
            // JSON Lines has none (RFC 8259 forbids sending one), so the line is refused, but
            // named for what it is rather than "not a JSON object". Only on the refusal path.
            if i == 0, n >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { return .malformed(offset: 0, what: byteOrderMarkWhat) }
            return .malformed(offset: i, what: i >= n ? "empty line" : "not a JSON object")
        }
        i = skipWS(b, n, i + 1)
        if i < n, b[i] == UInt8(ascii: "}") {
            i = skipWS(b, n, i + 1)
            return i == n ? nil : .malformed(offset: i, what: "text after the object")
        }
        var count = 0
        while true {
            guard i < n, b[i] == UInt8(ascii: "\"") else {
                return .malformed(offset: i, what: i >= n ? "truncated line" : "expected a field name")
            }
            let keyStart = i + 1
            // The name the sink expects here, if these are its bytes (the name, its closing quote
            // and the colon): what scanning the name and looking it up, and the colon after it,
            // would give. Else scanned.
            var (slot, keyEnd) = sink.expected(b, n, keyStart)
            if slot >= 0 {
                i = keyEnd + 2
            } else {
                var keyEscapes = false
                keyEnd = scanString(b, n, i, &keyEscapes)
                if keyEnd < 0 { return stringFailure(b, n, i) }
                // A contract field name is never an identifiable one: only other names are checked.
                slot = sink.slot(b, n, keyStart, keyEnd)
                if S.checksPatientData, slot < 0, isIdentifiableKey(b, keyStart, keyEnd) {
                    let pii = text(b, keyStart, keyEnd)
                    return .identifiable(field: pii, why: "field name '\(pii)' is patient-identifiable")
                }
                i = skipWSAfter(b, n, keyEnd + 1)
                guard i < n, b[i] == UInt8(ascii: ":") else {
                    return .malformed(offset: i, what: i >= n ? "truncated line" : "expected ':' after a field name")
                }
                i += 1
            }
            i = skipWSAfter(b, n, i)
            guard i < n else { return .malformed(offset: i, what: "truncated line") }
            var field = Field(keyStart: Int32(keyStart), keyEnd: Int32(keyEnd),
                              valueStart: Int32(i), valueEnd: Int32(i),
                              kind: .null, hasEscapes: false, boolValue: false)
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                var esc = false
                let e = scanString(b, n, i, &esc)
                if e < 0 { return stringFailure(b, n, i) }
                field.kind = .string; field.valueStart = Int32(i + 1); field.valueEnd = Int32(e)
                field.hasEscapes = esc
                if S.checksPatientData, NHSNumber.looksLikeNHSNumber(b, i + 1, e) {
                    return .identifiable(field: text(b, keyStart, keyEnd), why: "value is shaped like an NHS number")
                }
                i = e + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                switch skipNested(b, n, i, field: (keyStart, keyEnd), checksPatientData: S.checksPatientData) {
                case .success(let e):
                    field.kind = c == UInt8(ascii: "{") ? .object : .array
                    field.valueEnd = Int32(e)
                    i = e
                case .failure(let f): return f
                }
            case UInt8(ascii: "t"):
                guard matchLiteral(b, n, i, "true") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .bool; field.boolValue = true; i += 4; field.valueEnd = Int32(i)
            case UInt8(ascii: "f"):
                guard matchLiteral(b, n, i, "false") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .bool; i += 5; field.valueEnd = Int32(i)
            case UInt8(ascii: "n"):
                guard matchLiteral(b, n, i, "null") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .null; i += 4; field.valueEnd = Int32(i)
            default:
                let e = scanNumber(b, n, i)
                guard e >= 0 else { return .malformed(offset: i, what: "invalid value") }
                field.kind = .number; field.valueEnd = Int32(e)
                if S.checksPatientData, e - i == 10, NHSNumber.looksLikeNHSNumber(b, i, e) {
                    return .identifiable(field: text(b, keyStart, keyEnd), why: "value is shaped like an NHS number")
                }
                i = e
            }
            if count >= maxFields { return .malformed(offset: i, what: "too many fields") }
            count += 1
            // Free text: a field the sink does not file (for the feed decoder, a name not in the
            // contract) is refused when an NHS-number-shaped run appears anywhere in its string
            // ("patient 9434765919 in corridor"). Contract fields keep the whole-value check
            // only, deliberately: their identifiers (`id`, `incident`, `patient`) are
            // pseudonymous keys that may legitimately hold long digit runs, and about one
            // ten-digit run in eleven passes the check digit, so refusing embedded runs there
            // would refuse real feeds. Asked on the sink's own branch for names it does not
            // file, so a contract field pays nothing for it.
            if !sink.add(field, slot: slot), S.checksPatientData, field.kind == .string,
               let why = freeTextIdentifiable(b, n, Int(field.valueStart), Int(field.valueEnd), field.hasEscapes) {
                return .identifiable(field: text(b, keyStart, keyEnd), why: why)
            }
            i = skipWSAfter(b, n, i)
            guard i < n else { return .malformed(offset: i, what: "truncated line") }
            if b[i] == UInt8(ascii: ",") {
                i = skipWSAfter(b, n, i + 1)
                continue
            }
            if b[i] == UInt8(ascii: "}") {
                i = skipWS(b, n, i + 1)
                return i == n ? nil : .malformed(offset: i, what: "text after the object")
            }
            return .malformed(offset: i, what: "expected ',' or '}'")
        }
    }

    @inline(__always)
    static func skipWS(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        var i = start
        while i < n {
            let c = b[i]
            if c > 32 { break }
            if c == 32 || c == 9 || c == 10 || c == 13 { i += 1 } else { break }
        }
        return i
    }

    /// `skipWS` where whitespace is rare (between the tokens of a record, which feeds write
    /// without it): the first byte is checked before the loop is entered. Four times a field, the
    /// loop's own set-up was about 160 instructions a message.
    @inline(__always)
    static func skipWSAfter(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        if start < n, b[start] > 32 { return start }
        return skipWS(b, n, start)
    }

    @inline(__always)
    static func matchLiteral(_ b: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ lit: StaticString) -> Bool {
        let len = lit.utf8CodeUnitCount
        guard i + len <= n else { return false }
        let l = lit.utf8Start
        var k = 0
        while k < len {
            if b[i + k] != l[k] { return false }
            k += 1
        }
        return true
    }

    /// `start` is at the opening quote. Returns the index of the closing quote, or -1 when the
    /// string is invalid (`stringFailure` then says why). Runs of plain printable ASCII are
    /// skipped eight bytes at a time; at the first byte that is not one (a quote, a backslash,
    /// a control character or a non-ASCII byte) the byte-wise validator takes over.
    @inline(__always)
    static func scanString(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escapes: inout Bool) -> Int {
        var i = start + 1
        while i &+ 8 <= n {
            let w = UInt64(littleEndian: UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self))
            let m = specialBytes(w)
            if m != 0 {
                i += m.trailingZeroBitCount >> 3
                if b[i] == UInt8(ascii: "\"") { return i }
                return scanStringBytes(b, n, i, &escapes)
            }
            i += 8
        }
        return scanStringBytes(b, n, i, &escapes)
    }

    /// The high bit of the lowest flagged byte of `w` is set exactly when that byte is `"`,
    /// `\`, below 0x20 or above 0x7F (bytes above the lowest flagged one may be false alarms;
    /// only the lowest is used).
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* 0x22)
        let s = w ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q
        let backslash = (s &- ones) & ~s
        let control = (w &- ones &* 0x20) & ~w
        return (quote | backslash | control | w) & high
    }

    /// The byte-wise string validator, resuming at `start` inside a string. Returns the index
    /// of the closing quote or -1.
    static func scanStringBytes(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escapes: inout Bool) -> Int {
        switch validateString(b, n, start, &escapes) {
        case .success(let e): return e
        case .failure: return -1
        }
    }

    /// Why the string whose opening quote is at `start` is invalid (cold path).
    @inline(never)
    static func stringFailure(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Failure {
        var esc = false
        switch validateString(b, n, start + 1, &esc) {
        case .success: return .malformed(offset: start, what: "invalid string")  // not reached
        case .failure(let f): return f
        }
    }

    /// Validates string bytes from `start` (inside the string) to the closing quote: escapes
    /// (RFC 8259) and UTF-8 (RFC 3629).
    @inline(__always)
    static func validateString(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ escapes: inout Bool) -> Result<Int, Failure> {
        var i = start
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "\"") { return .success(i) }
            if c < 0x20 { return .failure(.malformed(offset: i, what: "control character in a string")) }
            if c == UInt8(ascii: "\\") {
                escapes = true
                guard i + 1 < n else { break }
                switch b[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 5 < n, hexValue(b[i + 2]) != nil, hexValue(b[i + 3]) != nil,
                          hexValue(b[i + 4]) != nil, hexValue(b[i + 5]) != nil else {
                        return .failure(.malformed(offset: i, what: "invalid \\u escape"))
                    }
                    i += 6
                default:
                    return .failure(.malformed(offset: i, what: "invalid escape"))
                }
                continue
            }
            if c < 0x80 { i += 1; continue }
            // UTF-8 validation (RFC 3629).
            let len: Int
            var minSecond: UInt8 = 0x80, maxSecond: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: len = 2
            case 0xE0: len = 3; minSecond = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: len = 3
            case 0xED: len = 3; maxSecond = 0x9F
            case 0xF0: len = 4; minSecond = 0x90
            case 0xF1...0xF3: len = 4
            case 0xF4: len = 4; maxSecond = 0x8F
            default: return .failure(.malformed(offset: i, what: "invalid UTF-8"))
            }
            guard i + len <= n else { return .failure(.malformed(offset: i, what: "invalid UTF-8")) }
            let s1 = b[i + 1]
            guard s1 >= minSecond, s1 <= maxSecond else { return .failure(.malformed(offset: i, what: "invalid UTF-8")) }
            var k = 2
            while k < len {
                guard b[i + k] & 0xC0 == 0x80 else { return .failure(.malformed(offset: i, what: "invalid UTF-8")) }
                k += 1
            }
            i += len
        }
        return .failure(.malformed(offset: n, what: "truncated line (unterminated string)"))
    }

    /// JSON number grammar. Returns the end index, or -1.
    @inline(__always)
    static func scanNumber(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        var i = start
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < n && b[k] &- 48 < 10 }
        if i < n, b[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return -1 }
        if b[i] == 48 { i += 1 } else { while isDigit(i) { i += 1 } }
        if i < n, b[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return -1 }
            while isDigit(i) { i += 1 }
        }
        if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return -1 }
            while isDigit(i) { i += 1 }
        }
        return i
    }

    /// Validates and skips a nested object or array starting at `start`, without recursion or
    /// allocation (the open containers are bits of a word: `maxDepth` is at most 64).
    /// Returns the index just after it. Keys and string values inside are checked for
    /// identifiable data too, unless `checksPatientData` is false (`ScanSink.checksPatientData`);
    /// one refused is named by its path from the top-level `field` (`meta.notes[1]`, `nestedPath`).
    static func skipNested(_ b: UnsafePointer<UInt8>, _ n: Int, _ start: Int, field: (Int, Int),
                           checksPatientData: Bool = true) -> Result<Int, Failure> {
        // Stack of container kinds: bit set = object, clear = array; `depth` entries.
        var stack: UInt64 = 0
        var depth = 0
        @inline(__always) func push(_ object: Bool) { stack = stack << 1 | (object ? 1 : 0); depth += 1 }
        @inline(__always) func pop() { stack >>= 1; depth -= 1 }
        @inline(__always) func inObject() -> Bool { stack & 1 == 1 }
        var i = start
        // State: expecting a value (or key in an object).
        enum Expect { case valueOrClose, value, keyOrClose, key, colon, commaOrClose }
        var expect = Expect.valueOrClose
        if b[i] == UInt8(ascii: "{") { push(true); expect = .keyOrClose } else { push(false) }
        i += 1
        while true {
            i = skipWS(b, n, i)
            guard i < n else { return .failure(.malformed(offset: i, what: "truncated line")) }
            let c = b[i]
            switch expect {
            case .keyOrClose, .key:
                if expect == .keyOrClose, c == UInt8(ascii: "}") {
                    pop(); i += 1
                    if depth == 0 { return .success(i) }
                    expect = .commaOrClose; continue
                }
                guard c == UInt8(ascii: "\"") else { return .failure(.malformed(offset: i, what: "expected a field name")) }
                var esc = false
                let e = scanString(b, n, i, &esc)
                if e < 0 { return .failure(stringFailure(b, n, i)) }
                if checksPatientData, isIdentifiableKey(b, i + 1, e) {
                    let pii = text(b, i + 1, e)
                    return .failure(.identifiable(field: nestedPath(b, n, field, start, i, key: pii),
                                                  why: "field name '\(pii)' is patient-identifiable"))
                }
                i = e + 1; expect = .colon
            case .colon:
                guard c == UInt8(ascii: ":") else { return .failure(.malformed(offset: i, what: "expected ':'")) }
                i += 1; expect = .value
            case .valueOrClose, .value:
                if expect == .valueOrClose, c == UInt8(ascii: "]") {
                    pop(); i += 1
                    if depth == 0 { return .success(i) }
                    expect = .commaOrClose; continue
                }
                switch c {
                case UInt8(ascii: "{"):
                    guard depth < maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    push(true); i += 1; expect = .keyOrClose
                case UInt8(ascii: "["):
                    guard depth < maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    push(false); i += 1; expect = .valueOrClose
                case UInt8(ascii: "\""):
                    var esc = false
                    let e = scanString(b, n, i, &esc)
                    if e < 0 { return .failure(stringFailure(b, n, i)) }
                    if checksPatientData, NHSNumber.looksLikeNHSNumber(b, i + 1, e) {
                        return .failure(.identifiable(field: nestedPath(b, n, field, start, i), why: "value is shaped like an NHS number"))
                    }
                    // Nested values are never contract fields: all free text (see `scanRecord`).
                    if checksPatientData, let why = freeTextIdentifiable(b, n, i + 1, e, esc) {
                        return .failure(.identifiable(field: nestedPath(b, n, field, start, i), why: why))
                    }
                    i = e + 1; expect = .commaOrClose
                case UInt8(ascii: "t"):
                    guard matchLiteral(b, n, i, "true") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 4; expect = .commaOrClose
                case UInt8(ascii: "f"):
                    guard matchLiteral(b, n, i, "false") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 5; expect = .commaOrClose
                case UInt8(ascii: "n"):
                    guard matchLiteral(b, n, i, "null") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 4; expect = .commaOrClose
                default:
                    let e = scanNumber(b, n, i)
                    guard e >= 0 else { return .failure(.malformed(offset: i, what: "invalid value")) }
                    if checksPatientData, e - i == 10, NHSNumber.looksLikeNHSNumber(b, i, e) {
                        return .failure(.identifiable(field: nestedPath(b, n, field, start, i), why: "value is shaped like an NHS number"))
                    }
                    i = e; expect = .commaOrClose
                }
            case .commaOrClose:
                let object = inObject()
                if c == UInt8(ascii: ",") { i += 1; expect = object ? .key : .value; continue }
                if (object && c == UInt8(ascii: "}")) || (!object && c == UInt8(ascii: "]")) {
                    pop(); i += 1
                    if depth == 0 { return .success(i) }
                    expect = .commaOrClose; continue
                }
                return .failure(.malformed(offset: i, what: "expected ',' or a closing bracket"))
            }
        }
    }

    /// The path of the value (or, with `key`, the field name) at `at` inside the nested value at
    /// `start` of the top-level `field`, which `skipNested` has read as valid up to there:
    /// `meta.notes[1]`, `extra.a[0].patient_dob`. A refusal named only the innermost key, or
    /// `array element`, which did not say where in a large record to look (user test). Built
    /// only for a refusal: a second walk, with allocation.
    static func nestedPath(_ b: UnsafePointer<UInt8>, _ n: Int, _ field: (Int, Int), _ start: Int, _ at: Int,
                           key: String? = nil) -> String {
        var open: [(object: Bool, key: String, index: Int)] = []
        var i = start
        while i < at {
            switch b[i] {
            case UInt8(ascii: "\""):
                var esc = false
                let e = scanString(b, n, i, &esc)
                guard e >= 0 else { return text(b, field.0, field.1) }
                // A key is the string an object's ':' follows; a value is followed by ',' or a close.
                let after = skipWS(b, n, e + 1)
                if open.last?.object == true, after < n, b[after] == UInt8(ascii: ":") {
                    open[open.count - 1].key = text(b, i + 1, e)   // as written, as the field names are said
                }
                i = e + 1
            case UInt8(ascii: "{"): open.append((true, "", 0)); i += 1
            case UInt8(ascii: "["): open.append((false, "", 0)); i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): open.removeLast(); i += 1
            case UInt8(ascii: ","):
                if open.last?.object == false { open[open.count - 1].index += 1 }
                i += 1
            default: i += 1
            }
        }
        if let key, !open.isEmpty { open[open.count - 1].key = key }
        return text(b, field.0, field.1) + open.map { $0.object ? "." + $0.key : "[\($0.index)]" }.joined()
    }

    /// Why a line starting with a UTF-8 byte-order mark is refused (`malformed`).
    public static let byteOrderMarkWhat = "line starts with a UTF-8 byte-order mark (EF BB BF); save the file without a BOM (as UTF-8, not 'UTF-8 with BOM')"

    // MARK: - Identifiable data

    /// Why a free-text value is refused (`freeTextIdentifiable`).
    static let containsNHSNumberWhy = "contains a value shaped like an NHS number"
    /// Why a free-text value is refused: `PatientText.containsDateOfBirth`.
    static let containsDateOfBirthWhy = "contains what looks like a date of birth (a date after 'DOB', 'born' or 'date of birth')"
    /// Why a free-text value is refused: `PatientText.containsPostcode`.
    static let containsPostcodeWhy = "contains what looks like a full postcode (such as SG1 4AB): an address narrows a record to a household"
    /// Why a free-text value is refused: `PatientText.containsPhoneNumber`.
    static let containsPhoneNumberWhy = "contains what looks like a telephone number (11 digits from 0, or +44 and 10)"
    /// Why a free-text value is refused: `PatientText.containsTitledName`. No `;` in it: an
    /// operator's refusal is said up to the first (`OperatorAction.explain`), and the advice
    /// is for them too.
    static let containsTitledNameWhy = "contains what looks like a person's name (a title such as Mr or Mrs and a name): write the role or a pseudonymous key, not the name"

    /// Why the string value `b[s..<e]` (between its quotes) is patient-identifiable free text,
    /// or nil: it contains an NHS-number-shaped run (`NHSNumber.containsNHSNumber`), a date
    /// of birth, a titled name, a full postcode or a telephone number (`PatientText`). With escapes the decoded text is searched,
    /// so that `\u0039434765919` is found as `9434765919` is. Only free text gets here (fields
    /// not in the contract, nested values): off the hot path; nothing is allocated unless the
    /// value has escapes.
    @inline(never)
    static func freeTextIdentifiable(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int, _ escapes: Bool) -> String? {
        guard e - s >= PatientText.shortestFinding else { return nil }
        if !escapes { return freeTextWhy(b, s, e) }
        var decoded = unescape(UnsafeBufferPointer(start: b, count: n), s, e)
        return decoded.withUTF8 { t in
            guard let base = t.baseAddress else { return nil }
            return freeTextWhy(base, 0, t.count)
        }
    }

    /// `freeTextIdentifiable` of text without escapes (also an operator line's strings).
    /// `names`: a titled name is refused too (`PatientText.containsTitledName`); not in an
    /// operator line's `by`, which names the member of staff who acted.
    static func freeTextWhy(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, names: Bool = true) -> String? {
        if e - s >= 10, NHSNumber.containsNHSNumber(b, s, e) { return containsNHSNumberWhy }
        if PatientText.containsDateOfBirth(b, s, e) { return containsDateOfBirthWhy }
        if names, PatientText.containsTitledName(b, s, e) { return containsTitledNameWhy }
        if PatientText.containsPostcode(b, s, e) { return containsPostcodeWhy }
        if e - s >= 11, PatientText.containsPhoneNumber(b, s, e) { return containsPhoneNumberWhy }
        return nil
    }

    /// Why a pseudonymous key (`patient`, `incident`: `b[s..<e]`, without escapes) is
    /// patient-identifiable, or nil: a date of birth, a titled name or a full postcode in it, or
    /// the whole key a telephone number (`PatientText.isPhoneNumber`). Not a run of 11 digits
    /// from `0` inside it, as free text is refused for: a hexadecimal hash has one about once in
    /// a hundred. (A key shaped like an NHS number is refused by the scan, as any string value.)
    /// The key is where a source system's export leaks a patient's details most readily: it was
    /// checked for an NHS number only, and `"patient":"Mrs Smith"` was kept in the journal.
    static func keyWhy(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> String? {
        guard e - s >= PatientText.shortestFinding else { return nil }
        if PatientText.containsDateOfBirth(b, s, e) { return containsDateOfBirthWhy }
        if PatientText.containsTitledName(b, s, e) { return containsTitledNameWhy }
        if PatientText.containsPostcode(b, s, e) { return containsPostcodeWhy }
        if PatientText.isPhoneNumber(b, s, e) { return containsPhoneNumberWhy }
        if PatientText.isNameShaped(b, s, e) { return keyIsNameShapedWhy }
        return nil
    }

    /// Why a key is refused: `PatientText.isNameShaped`.
    static let keyIsNameShapedWhy = "looks like a person's name (capitalised words, such as John Smith): a key must be pseudonymous"

    /// `keyWhy` of a key's text.
    static func keyWhy(_ text: String) -> String? {
        var t = text
        return t.withUTF8 { u in u.baseAddress.flatMap { keyWhy($0, 0, u.count) } }
    }

    /// Why free text `text` is patient-identifiable, or nil (`freeTextIdentifiable`).
    public static func freeTextWhy(_ text: String, names: Bool = true) -> String? {
        var t = text
        return t.withUTF8 { u in
            guard let base = u.baseAddress else { return nil }
            return freeTextWhy(base, 0, u.count, names: names)
        }
    }

    /// Field names refused anywhere in a record (compared case-insensitively, `-` and `_` ignored).
    public static let identifiableFieldNames: [String] = [
        "nhsnumber", "nhsno", "nhsnum", "name", "forename", "firstname", "surname", "lastname",
        "fullname", "patientname", "dob", "dateofbirth", "birthdate", "postcode", "address",
        "phone", "telephone", "mobile", "email", "mrn", "hospitalnumber", "chinumber",
    ]

    /// If the key is an identifiable field name, returns it as written.
    static func identifiableKey(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String? {
        guard let b = p.baseAddress, isIdentifiableKey(b, s, e) else { return nil }
        return text(b, s, e)
    }

    /// The key `b[s..<e]`, lower-cased and without `_`, `-` and spaces, is one of
    /// `identifiableFieldNames`. The normalised key is packed into two words (the longest name
    /// is 14 bytes) and compared with the names of its length; a key that normalises to more
    /// than 14 bytes cannot match. `identifiableNameWords` is checked against the list by a test.
    /// Or, beyond the list, a name that `PatientText.keyNamesPatientData` finds naming a date of
    /// birth or a person's name (`patient_dob`, `birth_date`, `patientFirstName`, `pt_name`).
    @inline(__always)
    static func isIdentifiableKey(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        isListedIdentifiableKey(b, s, e) || PatientText.keyNamesPatientData(b, s, e)
    }

    /// The key normalised is one of `identifiableFieldNames`.
    @inline(__always)
    static func isListedIdentifiableKey(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        guard len >= 3, len <= 24 else { return false }
        var lo: UInt64 = 0, hi: UInt64 = 0
        var count = 0
        var k = s
        while k < e {
            var c = b[k]
            k += 1
            if c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: " ") { continue }
            if c &- 65 < 26 { c += 32 }
            if count < 8 { lo |= UInt64(c) << (8 * count) } else if count < 16 { hi |= UInt64(c) << (8 * (count - 8)) }
            count += 1
            if count > 14 { return false }
        }
        return identifiableName(count, lo, hi)
    }

    /// Whether the normalised key of `count` bytes packed little-endian in `lo`, `hi` is an
    /// identifiable name. Generated from `identifiableFieldNames` (a test checks they agree).
    @inline(__always)
    static func identifiableName(_ count: Int, _ lo: UInt64, _ hi: UInt64) -> Bool {
        switch count {
        case 3:  // dob mrn
            return lo == 0x62_6f64
                || lo == 0x6e_726d
        case 4:  // name
            return lo == 0x656d_616e
        case 5:  // nhsno phone email
            return lo == 0x6f_6e73_686e
                || lo == 0x65_6e6f_6870
                || lo == 0x6c_6961_6d65
        case 6:  // nhsnum mobile
            return lo == 0x6d75_6e73_686e
                || lo == 0x656c_6962_6f6d
        case 7:  // surname address
            return lo == 0x65_6d61_6e72_7573
                || lo == 0x73_7365_7264_6461
        case 8:  // forename lastname fullname postcode
            return lo == 0x656d_616e_6572_6f66
                || lo == 0x656d_616e_7473_616c
                || lo == 0x656d_616e_6c6c_7566
                || lo == 0x6564_6f63_7473_6f70
        case 9:  // nhsnumber firstname birthdate telephone chinumber
            return (lo == 0x6562_6d75_6e73_686e && hi == 0x72)
                || (lo == 0x6d61_6e74_7372_6966 && hi == 0x65)
                || (lo == 0x7461_6468_7472_6962 && hi == 0x65)
                || (lo == 0x6e6f_6870_656c_6574 && hi == 0x65)
                || (lo == 0x6562_6d75_6e69_6863 && hi == 0x72)
        case 11:  // patientname dateofbirth
            return (lo == 0x6e74_6e65_6974_6170 && hi == 0x65_6d61)
                || (lo == 0x6962_666f_6574_6164 && hi == 0x68_7472)
        case 14:  // hospitalnumber
            return (lo == 0x6c61_7469_7073_6f68 && hi == 0x7265_626d_756e)
        default: return false
        }
    }
}

/// Receives the top-level fields of a record as `JSONLineScanner.scanRecord` scans them.
protocol ScanSink {
    /// A slot (>= 0) for a field name the sink knows, -1 for any other name. A name given a
    /// slot is not checked for identifiable data: only names that can never be identifiable
    /// may get one.
    mutating func slot(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int
    /// The slot of the name the sink expects at `s` (just after a name's opening quote) and the
    /// index of its closing quote, if the bytes there are exactly that name, a quote and a colon
    /// (`"name":`, as feeds write it); slot -1 otherwise (the name is then scanned and given to
    /// `slot`, and the colon looked for after any spaces). Only a name `slot` would give that
    /// slot may be expected.
    mutating func expected(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> (slot: Int, end: Int)
    /// Takes a field; false when the sink does not file it as data (for the feed decoder, a
    /// name not in the contract): its value is then free text, refused when a string holds an
    /// NHS-number-shaped run anywhere, not only as the whole value.
    mutating func add(_ field: JSONLineScanner.Field, slot: Int) -> Bool
    /// Whether the scan refuses patient-identifiable data (names, NHS numbers, free text): every
    /// sink does but `PatientChecksOff` (a restart's second reading of its own journal's line,
    /// `redact` looking for what the checks refuse). A constant of the type, so that the checks
    /// cost the feed decoder's specialisation nothing.
    static var checksPatientData: Bool { get }
}

extension ScanSink {
    static var checksPatientData: Bool { true }
}

/// `base`'s filing, with a scan that does not check for patient-identifiable data.
struct PatientChecksOff<Base: ScanSink>: ScanSink {
    var base: Base
    static var checksPatientData: Bool { false }
    mutating func slot(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int { base.slot(b, n, s, e) }
    mutating func expected(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> (slot: Int, end: Int) { base.expected(b, n, s) }
    mutating func add(_ field: JSONLineScanner.Field, slot: Int) -> Bool { base.add(field, slot: slot) }
}

/// Collects every field, in order (`JSONLineScanner.scan`). Knows no contract, so it files
/// every field and treats none at the top level as free text: its one user in the core,
/// `OperatorAction.parse`, checks every string of an operator line itself. (Nested values are
/// free text whatever the sink.)
struct ArraySink: ScanSink {
    var fields: [JSONLineScanner.Field]
    @inline(__always) func slot(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ e: Int) -> Int { -1 }
    @inline(__always) func expected(_ b: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> (slot: Int, end: Int) { (-1, 0) }
    @inline(__always) mutating func add(_ field: JSONLineScanner.Field, slot: Int) -> Bool { fields.append(field); return true }
}

/// NHS numbers: 10 digits, the last a modulus-11 check digit over the first nine.
public enum NHSNumber {
    /// True for `9434765919`, `943 476 5919`, `943-476-5919`: 10 digits (optionally grouped
    /// 3-3-4 by one space or dash) whose check digit is valid.
    @inline(__always)
    public static func looksLikeNHSNumber(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        guard len == 10 || len == 12, let b = p.baseAddress, s >= 0, e <= p.count else { return false }
        return looksLikeNHSNumber(b, s, e)
    }

    /// `b[s..<e]` (in bounds) is shaped like an NHS number. Only a 10- or 12-byte value gets
    /// as far as the digits and the modulus-11 sum.
    @inline(__always)
    static func looksLikeNHSNumber(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        if len == 10 { return checkDigits(b, s, s + 3, s + 6) }
        if len == 12 {
            let sep = b[s + 3]
            guard sep == 32 || sep == 45, b[s + 7] == sep else { return false }
            return checkDigits(b, s, s + 4, s + 8)
        }
        return false
    }

    /// `b[s..<e]` contains a run shaped like an NHS number: ten digits, or three, three and
    /// four digits grouped by one space or one dash (the same separator both times), with a
    /// valid check digit, and not part of a longer run of digits (bounded by non-digits or the
    /// ends of the text: `12345678901`, eleven digits, holds none). Every maximal run of digits
    /// is tried as the number or as its first group.
    static func containsNHSNumber(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var i = s
        while i < e {
            guard b[i] &- 48 < 10 else { i += 1; continue }
            let start = i
            while i < e, b[i] &- 48 < 10 { i += 1 }
            switch i - start {
            case 10:
                if checkDigits(b, start, start + 3, start + 6) { return true }
            case 3:
                // `i` is at the first separator: then 3 digits, the same separator, 4 digits.
                guard i + 9 <= e else { break }
                let sep = b[i]
                guard sep == 32 || sep == 45, b[i + 4] == sep, i + 9 == e || b[i + 9] &- 48 >= 10 else { break }
                if checkDigits(b, start, i + 1, i + 5) { return true }
            default:
                break
            }
        }
        return false
    }

    /// The digits at `a..<a+3`, `m..<m+3`, `t..<t+4` are ten digits with a valid check digit.
    @inline(__always)
    static func checkDigits(_ b: UnsafePointer<UInt8>, _ a: Int, _ m: Int, _ t: Int) -> Bool {
        var sum = 0
        var weight = 10
        for k in 0..<3 {
            let d = b[a + k] &- 48
            guard d < 10 else { return false }
            sum += Int(d) * weight; weight -= 1
        }
        for k in 0..<3 {
            let d = b[m + k] &- 48
            guard d < 10 else { return false }
            sum += Int(d) * weight; weight -= 1
        }
        for k in 0..<3 {
            let d = b[t + k] &- 48
            guard d < 10 else { return false }
            sum += Int(d) * weight; weight -= 1
        }
        let last = b[t + 3] &- 48
        guard last < 10 else { return false }
        var check = 11 - (sum % 11)
        if check == 11 { check = 0 }
        if check == 10 { return false }
        return check == Int(last)
    }

    public static func isValid(_ text: String) -> Bool {
        var s = text
        return s.withUTF8 { looksLikeNHSNumber($0, 0, $0.count) }
    }

    /// Whether `text` contains an NHS-number-shaped run (`containsNHSNumber`): the rule for
    /// free text (operator notes, fields not in the feed contract).
    public static func containsNHSNumber(_ text: String) -> Bool {
        var s = text
        return s.withUTF8 { t in
            guard let base = t.baseAddress else { return false }
            return containsNHSNumber(base, 0, t.count)
        }
    }
}

/// Patient-identifiable data beyond NHS numbers: field names that name a date of birth or a
/// person's name, and in free text a date of birth, a person named by title, a full postcode or
/// a telephone number. All are asked only off the hot path (names not in the feed contract,
/// nested names, free-text values) and allocate nothing.
/// Kept narrow, so that what feeds legitimately carry passes: `site_name`, `ward_name`, the
/// pseudonymous keys (`pk-4f1c9a`, `inc-…`) and a date in a note (`ward 7 shut 2026-01-13`).
public enum PatientText {
    /// The shortest free text that can hold a finding: a titled name (`Mr Ng`).
    static let shortestFinding = 5

    // MARK: Field names

    /// The name `b[s..<e]`, cut into words (at `_`, `-`, spaces, digits and other non-letters,
    /// and where a lower-case letter is followed by a capital: `patientDob` is `patient`,
    /// `Dob`), has a word that names a date of birth (`birth`, or one ending in `birthdate`,
    /// `birthday`, `dateofbirth` or `dob`: `date_of_birth`, `BirthDate`, `pt_dob`,
    /// `year_of_birth`; not `births_today`, a count, nor `birthing_unit`) or a person's name
    /// (`forename`, `surnames`, or `name` after, or ending, a word for a person or a part of a
    /// name: `patient_name`, `first-name`, `GivenName`, `ptname`, `next_of_kin_name`). A bare
    /// `name` is on the listed names (`JSONLineScanner.identifiableFieldNames`); `site_name`
    /// and `name_of_ward` pass.
    @inline(never)
    static func keyNamesPatientData(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 3, e - s <= 64 else { return false }
        var prev = (s, s)   // the word before, empty at first
        var k = s
        while k < e {
            guard isLetter(b[k]) else { k += 1; continue }
            let ws = k
            k += 1
            while k < e, isLetter(b[k]), !(isLower(b[k - 1]) && isUpper(b[k])) { k += 1 }
            if wordNamesPatientData(b, ws, k, prev) { return true }
            prev = (ws, k)
        }
        return false
    }

    static func wordNamesPatientData(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ prev: (Int, Int)) -> Bool {
        // `birth` as a word (not `births`, an aggregate count, nor `birthing_unit`).
        if equals(b, s, e, "birth") || hasSuffix(b, s, e, "birthdate") || hasSuffix(b, s, e, "birthday")
            || hasSuffix(b, s, e, "dateofbirth") || hasSuffix(b, s, e, "dob") { return true }
        if equals(b, s, e, "forename") || equals(b, s, e, "forenames") || equals(b, s, e, "surname") || equals(b, s, e, "surnames") {
            return true
        }
        // `…name` or `…names`: a person's when the part before it (in this word, else the word
        // before) is a word for a person or a part of a name.
        var end = e
        if hasSuffix(b, s, e, "names") { end = e - 1 } else if !hasSuffix(b, s, e, "name") { return false }
        let stem = end - 4
        if stem > s { return isPersonWord(b, s, stem) }
        return prev.1 > prev.0 && isPersonWord(b, prev.0, prev.1)
    }

    static func isPersonWord(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        for w: StaticString in ["patient", "patients", "pt", "pat", "given", "family", "first", "last", "middle", "full", "maiden",
                                "person", "client", "fore", "sur", "christian", "preferred", "kin", "nextofkin", "mother",
                                "mothers", "father", "fathers", "carer", "resident"] where equals(b, s, e, w) {
            return true
        }
        return false
    }

    // MARK: Dates of birth in free text

    /// `b[s..<e]` holds a date of birth: a cue (`DOB`, `D.O.B`, `born`, `date of birth`,
    /// `birth date`, `birthdate`, `birthday`, any case, as a word) followed within 24 bytes by
    /// a date written in digits (`12/03/1947`, `12-3-47`, `12.03.1947`, `1947-03-12`). A date
    /// without a cue is not one (notes say when a ward shut), nor is a cue without a date.
    static func containsDateOfBirth(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= shortestFinding else { return false }
        var i = s
        while i < e {
            // A cue begins a word: its first letter is d, b or D, B.
            let c = b[i] | 0x20
            guard c == UInt8(ascii: "d") || c == UInt8(ascii: "b"), i == s || !isLetter(b[i - 1]) else { i += 1; continue }
            let end = cueEnd(b, i, e)
            if end > 0, dateFollows(b, end, e) { return true }
            i += 1
        }
        return false
    }

    /// The end of a date-of-birth cue starting at `i`, or -1. `?` in a cue is one space, `_`
    /// or `-`; the cue must not run on into a letter.
    static func cueEnd(_ b: UnsafePointer<UInt8>, _ i: Int, _ e: Int) -> Int {
        for cue: StaticString in ["dob", "d.o.b", "born", "date?of?birth", "birth?date", "birthdate", "birthday"] {
            let n = cue.utf8CodeUnitCount
            guard i + n <= e else { continue }
            var ok = true
            cue.withUTF8Buffer { w in
                for k in 0..<n {
                    let x = b[i + k]
                    if w[k] == UInt8(ascii: "?") {
                        if x != 32 && x != UInt8(ascii: "_") && x != UInt8(ascii: "-") { ok = false; return }
                    } else if (isUpper(x) ? x | 0x20 : x) != w[k] { ok = false; return }
                }
            }
            if ok, i + n == e || !isLetter(b[i + n]) { return i + n }
        }
        return -1
    }

    /// A date in digits starts within 24 bytes after `from`, at the start of a run of digits.
    static func dateFollows(_ b: UnsafePointer<UInt8>, _ from: Int, _ e: Int) -> Bool {
        var k = from
        let last = min(e, from + 24)
        while k < last {
            if isDigit(b[k]), k == 0 || !isDigit(b[k - 1]), isDate(b, k, e) { return true }
            k += 1
        }
        return false
    }

    /// Digits at `k`: day or month (1-2 digits), a separator (`/`, `-` or `.`), 1-2 digits, the
    /// same separator, a year of 2 or 4 digits; or a 4-digit year, `-`/`/`/`.`, 1-2, the same,
    /// 1-2. Not followed by another digit.
    static func isDate(_ b: UnsafePointer<UInt8>, _ k: Int, _ e: Int) -> Bool {
        func run(_ at: Int) -> Int { var j = at; while j < e, isDigit(b[j]) { j += 1 }; return j - at }
        func isSep(_ x: UInt8) -> Bool { x == UInt8(ascii: "/") || x == UInt8(ascii: "-") || x == UInt8(ascii: ".") }
        let a = run(k)
        guard a == 1 || a == 2 || a == 4, k + a < e, isSep(b[k + a]) else { return false }
        let sep = b[k + a]
        let m = run(k + a + 1)
        guard m == 1 || m == 2, k + a + 1 + m < e, b[k + a + 1 + m] == sep else { return false }
        let y = run(k + a + 2 + m)
        return a == 4 ? (y == 1 || y == 2) : (y == 2 || y == 4)
    }

    // MARK: Names in free text

    /// `b[s..<e]` names a person by title: `Mr`, `Mrs`, `Ms`, `Miss` or `Mx` (or `MR`, `MRS`,
    /// `MISS`), as a word, with or without a full stop, then one or two spaces and a name: a
    /// capital followed by a letter or an apostrophe (`Smith`, `SMITH`, `O'Brien`), or an initial
    /// (`J` or `J.`) and a space before one (`Mrs J Smith`, `Mr J. Smith`). Notes that say
    /// "Mrs Smith moved to ward 7" are refused; `MRSA`, `Mrs` at the end, `Ms 4`, `MS Teams`
    /// (capitals `MS` and `MX` are not taken for titles) and clinicians (`Dr Patel`) pass.
    static func containsTitledName(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 5 else { return false }
        var i = s
        while i < e - 3 {
            guard b[i] == UInt8(ascii: "M"), i == s || !isLetter(b[i - 1]) else { i += 1; continue }
            var k = i + 1
            while k < e, isLetter(b[k]), k - i < 4 { k += 1 }
            if isTitle(b, i, k) {
                var j = k
                if j < e, b[j] == UInt8(ascii: ".") { j += 1 }
                if j < e, b[j] == 32 {
                    j += 1
                    if j < e, b[j] == 32 { j += 1 }
                    if nameFollows(b, j, e) { return true }
                }
            }
            i = k
        }
        return false
    }

    static func isTitle(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        for t: StaticString in ["Mr", "Mrs", "Ms", "Miss", "Mx", "MR", "MRS", "MISS"] where e - s == t.utf8CodeUnitCount {
            if t.withUTF8Buffer({ w in (0..<w.count).allSatisfy { b[s + $0] == w[$0] } }) { return true }
        }
        return false
    }

    /// A surname at `j` (a capital, then a letter or `'`), or an initial and a space before one.
    static func nameFollows(_ b: UnsafePointer<UInt8>, _ j: Int, _ e: Int) -> Bool {
        guard j + 1 < e, isUpper(b[j]) else { return false }
        let c = b[j + 1]
        if isLetter(c) || c == UInt8(ascii: "'") { return true }
        var k = j + 1
        if c == UInt8(ascii: ".") { k += 1 }
        guard k + 2 < e, b[k] == 32, isUpper(b[k + 1]) else { return false }
        return isLetter(b[k + 2]) || b[k + 2] == UInt8(ascii: "'")
    }

    // MARK: Postcodes and telephone numbers in free text

    /// `b[s..<e]` holds a full UK postcode, as a word: the outward code (one or two capitals, a
    /// digit, and perhaps a capital or a digit: `M1`, `SG1`, `EC1A`, `CM20`), one space, and the
    /// inward code (a digit and two of the capitals a postcode's unit can have: not C, I, K, M,
    /// O or V). `SG1 4AB` is refused; a district alone (`SG1`), `Ward 7B`, `A1 2CK` and `sg1
    /// 4ab` pass.
    static func containsPostcode(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 6 else { return false }
        func isAlnum(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) }
        func isUnitLetter(_ c: UInt8) -> Bool {
            isUpper(c) && c != UInt8(ascii: "C") && c != UInt8(ascii: "I") && c != UInt8(ascii: "K")
                && c != UInt8(ascii: "M") && c != UInt8(ascii: "O") && c != UInt8(ascii: "V")
        }
        var i = s
        while i + 6 <= e {
            guard isUpper(b[i]), i == s || !isAlnum(b[i - 1]) else { i += 1; continue }
            var k = i + 1
            if k < e, isUpper(b[k]) { k += 1 }
            if k < e, isDigit(b[k]) {
                k += 1
                if k < e, isUpper(b[k]) || isDigit(b[k]) { k += 1 }
                if k + 4 <= e, b[k] == 32, isDigit(b[k + 1]), isUnitLetter(b[k + 2]), isUnitLetter(b[k + 3]),
                   k + 4 == e || !isAlnum(b[k + 4]) {
                    return true
                }
            }
            i += 1
        }
        return false
    }

    /// `b[s..<e]` holds a UK telephone number: 11 digits from a `0` (`07700 900123`, `020 7946
    /// 0018`, `01632-960-001`), or `+44` and 10 more not starting with `0` (`+44 7700 900123`),
    /// the digits perhaps grouped by single spaces or dashes. Shorter runs (`111`, `0800` for a
    /// time, `01/02/2026`, an ISO time) are not one; any 11-digit run from a `0` is, whatever
    /// it was meant for.
    static func containsPhoneNumber(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        var i = s
        while i < e {
            let plus = b[i] == UInt8(ascii: "+")
            guard b[i] == UInt8(ascii: "0") || plus, i == s || !isDigit(b[i - 1]) else { i += 1; continue }
            // The digits from here, groups joined across one space or dash.
            var k = plus ? i + 1 : i
            var digits = 0
            var lead: UInt32 = 0   // the first three digits, a byte each
            while k < e {
                if isDigit(b[k]) {
                    if digits < 3 { lead = lead << 8 | UInt32(b[k]) }
                    digits += 1; k += 1; continue
                }
                if b[k] == 32 || b[k] == UInt8(ascii: "-"), digits > 0, k + 1 < e, isDigit(b[k + 1]) { k += 1; continue }
                break
            }
            if plus {
                // +44 and ten digits: a `0` after the country code is not written.
                if digits == 12, lead >> 8 == 0x3434, lead & 0xFF != UInt32(UInt8(ascii: "0")) { return true }
            } else if digits == 11 {
                return true
            }
            i = max(i + 1, k)
        }
        return false
    }

    /// Whether key `b[s..<e]` can hold what `JSONLineScanner.keyWhy` looks for: a first `0` or
    /// `+` (a telephone number, whole), a space (a titled name and a postcode have one, as a
    /// spelt-out date-of-birth cue does), or two of `,-./` (a date has two separators; `,` is
    /// counted with them, which costs nothing). Most keys (`inc-7725594`, `pk-ffa6bd87`, a hash)
    /// have none of these, and the four searches on every key were 7% of a replay's
    /// instructions (callgrind, 200,000 lines at issue 6's pace); this pass reads the key eight
    /// bytes at a time. `s >= 8`: a key comes after its name in the line, so the last word is
    /// read as the eight bytes ending at `e`, never past the line.
    /// `dates: false` (a message's `id`): a space or a first `0` or `+` only, so that ids such as
    /// `EEAST-7781201-a` (two separators) are not searched at every line.
    @inline(__always)
    static func keyMayIdentify(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, dates: Bool = true) -> Bool {
        if b[s] == UInt8(ascii: "0") || b[s] == UInt8(ascii: "+") { return true }
        let ones: UInt64 = 0x0101_0101_0101_0101, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        @inline(__always) func load(_ at: Int) -> UInt64 { UInt64(littleEndian: UnsafeRawPointer(b + at).loadUnaligned(as: UInt64.self)) }
        /// 0x80 in each byte of `y` that is zero, exactly (no borrow between bytes).
        @inline(__always) func zeroBytes(_ y: UInt64) -> UInt64 { ~(((y & low7) &+ low7) | y | low7) }
        var separators = 0
        var spaces: UInt64 = 0
        @inline(__always) func take(_ w: UInt64) {
            spaces |= zeroBytes(w ^ (ones &* 0x20))
            separators &+= zeroBytes((w ^ (ones &* 0x2C)) & (ones &* 0xFC)).nonzeroBitCount
        }
        var i = s
        while i &+ 8 <= e { take(load(i)); i &+= 8 }
        // The rest: the word ending at `e`, the bytes already taken shifted out (zeros in their
        // place are neither a space nor one of `,-./`).
        if i < e { take(load(e &- 8) >> UInt64((8 &- (e &- i)) &* 8)) }
        return spaces != 0 || (dates && separators >= 2)
    }

    /// Key `b[s..<e]` is, whole, two to four capitalised words with single spaces between
    /// (`John Smith`, `Mary-Jane O'Brien`, `Anne McDonald`): a name with no title, which free
    /// text cannot be searched for (it is mostly such words), but a pseudonymous key never is.
    /// `"patient":"John Smith"` was kept in the journal (trainer's user test, 2026-11-25). A word
    /// starts with a capital, has a lower-case letter, and holds only letters, `'` and `-`
    /// between letters; so `EEAST 7781201`, `RWH ED`, `pk Smith` and `Bay 4` pass.
    static func isNameShaped(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        @inline(__always) func upper(_ c: UInt8) -> Bool { c &- 65 < 26 }
        @inline(__always) func lower(_ c: UInt8) -> Bool { c &- 97 < 26 }
        var words = 0, i = s
        while i < e {
            guard upper(b[i]) else { return false }
            var k = i + 1, hasLower = false
            while k < e, b[k] != UInt8(ascii: " ") {
                let c = b[k]
                if lower(c) { hasLower = true } else if upper(c) {
                } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "-") {
                    guard k + 1 < e, upper(b[k + 1]) || lower(b[k + 1]) else { return false }
                } else { return false }
                k += 1
            }
            guard hasLower else { return false }
            words += 1
            if k == e { break }
            i = k + 1   // one space, then the next word's capital (a second space fails it)
            guard i < e else { return false }
        }
        return words >= 2 && words <= 4
    }

    /// `b[s..<e]` is, whole, a telephone number as `containsPhoneNumber` finds one.
    static func isPhoneNumber(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 11, e - s <= 17, b[s] == UInt8(ascii: "0") || b[s] == UInt8(ascii: "+") else { return false }
        for k in (b[s] == UInt8(ascii: "+") ? s + 1 : s)..<e where !isDigit(b[k]) {
            // Groups joined by one space or dash, between digits.
            guard b[k] == 32 || b[k] == UInt8(ascii: "-"), k > s, isDigit(b[k - 1]), k + 1 < e, isDigit(b[k + 1]) else { return false }
        }
        return containsPhoneNumber(b, s, e)
    }

    // MARK: Bytes

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c &- 65 < 26 }
    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c &- 97 < 26 }
    @inline(__always) static func isLetter(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }

    /// `b[s..<e]` is `w` (lower case) in any case.
    static func equals(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ w: StaticString) -> Bool {
        e - s == w.utf8CodeUnitCount && matches(b, s, w)
    }

    static func hasSuffix(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ w: StaticString) -> Bool {
        let n = w.utf8CodeUnitCount
        return e - s >= n && matches(b, e - n, w)
    }

    /// The bytes at `i` are `w` (lower case) in any case; the caller has checked the length.
    @inline(__always)
    static func matches(_ b: UnsafePointer<UInt8>, _ i: Int, _ w: StaticString) -> Bool {
        w.withUTF8Buffer { u in
            for k in 0..<u.count where (isUpper(b[i + k]) ? b[i + k] | 0x20 : b[i + k]) != u[k] { return false }
            return true
        }
    }
}
