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
/// depth): keys named like identifiers and values shaped like NHS numbers.
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

    /// Scans `p[0..<count]`. On success `fields` describes the object.
    public mutating func scan(_ p: UnsafeBufferPointer<UInt8>) -> Failure? {
        fields.removeAll(keepingCapacity: true)
        let n = p.count
        var i = skipWS(p, 0)
        guard i < n, p[i] == UInt8(ascii: "{") else {
            return .malformed(offset: i, what: i >= n ? "empty line" : "not a JSON object")
        }
        i = skipWS(p, i + 1)
        if i < n, p[i] == UInt8(ascii: "}") {
            i = skipWS(p, i + 1)
            return i == n ? nil : .malformed(offset: i, what: "text after the object")
        }
        while true {
            guard i < n, p[i] == UInt8(ascii: "\"") else {
                return .malformed(offset: i, what: i >= n ? "truncated line" : "expected a field name")
            }
            var keyEscapes = false
            let keyStart = i + 1
            let keyEnd: Int
            switch scanString(p, i, &keyEscapes) {
            case .success(let e): keyEnd = e
            case .failure(let f): return f
            }
            if let pii = Self.identifiableKey(p, keyStart, keyEnd) {
                return .identifiable(field: pii, why: "field name '\(pii)' is patient-identifiable")
            }
            i = skipWS(p, keyEnd + 1)
            guard i < n, p[i] == UInt8(ascii: ":") else {
                return .malformed(offset: i, what: i >= n ? "truncated line" : "expected ':' after a field name")
            }
            i = skipWS(p, i + 1)
            guard i < n else { return .malformed(offset: i, what: "truncated line") }
            var field = Field(keyStart: Int32(keyStart), keyEnd: Int32(keyEnd), valueStart: Int32(i),
                              valueEnd: Int32(i), kind: .null, hasEscapes: false, boolValue: false)
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                var esc = false
                switch scanString(p, i, &esc) {
                case .success(let e):
                    field.kind = .string; field.valueStart = Int32(i + 1); field.valueEnd = Int32(e)
                    field.hasEscapes = esc
                    if NHSNumber.looksLikeNHSNumber(p, i + 1, e) {
                        return .identifiable(field: Self.text(p, keyStart, keyEnd), why: "value is shaped like an NHS number")
                    }
                    i = e + 1
                case .failure(let f): return f
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                switch skipNested(p, i) {
                case .success(let e):
                    field.kind = c == UInt8(ascii: "{") ? .object : .array
                    field.valueEnd = Int32(e)
                    i = e
                case .failure(let f): return f
                }
            case UInt8(ascii: "t"):
                guard matchLiteral(p, i, "true") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .bool; field.boolValue = true; i += 4; field.valueEnd = Int32(i)
            case UInt8(ascii: "f"):
                guard matchLiteral(p, i, "false") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .bool; i += 5; field.valueEnd = Int32(i)
            case UInt8(ascii: "n"):
                guard matchLiteral(p, i, "null") else { return .malformed(offset: i, what: "invalid literal") }
                field.kind = .null; i += 4; field.valueEnd = Int32(i)
            default:
                guard let e = scanNumber(p, i) else { return .malformed(offset: i, what: "invalid value") }
                field.kind = .number; field.valueEnd = Int32(e)
                if e - i == 10, NHSNumber.looksLikeNHSNumber(p, i, e) {
                    return .identifiable(field: Self.text(p, keyStart, keyEnd), why: "value is shaped like an NHS number")
                }
                i = e
            }
            if fields.count >= Self.maxFields { return .malformed(offset: i, what: "too many fields") }
            fields.append(field)
            i = skipWS(p, i)
            guard i < n else { return .malformed(offset: i, what: "truncated line") }
            if p[i] == UInt8(ascii: ",") {
                i = skipWS(p, i + 1)
                continue
            }
            if p[i] == UInt8(ascii: "}") {
                i = skipWS(p, i + 1)
                return i == n ? nil : .malformed(offset: i, what: "text after the object")
            }
            return .malformed(offset: i, what: "expected ',' or '}'")
        }
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

    // MARK: - Grammar

    @inline(__always)
    func skipWS(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < p.count {
            let c = p[i]
            if c == 32 || c == 9 || c == 10 || c == 13 { i += 1 } else { break }
        }
        return i
    }

    func matchLiteral(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ lit: StaticString) -> Bool {
        let len = lit.utf8CodeUnitCount
        guard i + len <= p.count else { return false }
        for k in 0..<len where p[i + k] != lit.utf8Start[k] { return false }
        return true
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// `i` is at the opening quote. Returns the index of the closing quote.
    @inline(__always)
    func scanString(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ escapes: inout Bool) -> Result<Int, Failure> {
        var i = start + 1
        let n = p.count
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") { return .success(i) }
            if c < 0x20 { return .failure(.malformed(offset: i, what: "control character in a string")) }
            if c == UInt8(ascii: "\\") {
                escapes = true
                guard i + 1 < n else { break }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 5 < n, Self.hexValue(p[i + 2]) != nil, Self.hexValue(p[i + 3]) != nil,
                          Self.hexValue(p[i + 4]) != nil, Self.hexValue(p[i + 5]) != nil else {
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
            let s1 = p[i + 1]
            guard s1 >= minSecond, s1 <= maxSecond else { return .failure(.malformed(offset: i, what: "invalid UTF-8")) }
            var k = 2
            while k < len {
                guard p[i + k] & 0xC0 == 0x80 else { return .failure(.malformed(offset: i, what: "invalid UTF-8")) }
                k += 1
            }
            i += len
        }
        return .failure(.malformed(offset: n, what: "truncated line (unterminated string)"))
    }

    /// JSON number grammar. Returns the end index or nil.
    @inline(__always)
    func scanNumber(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start
        let n = p.count
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < n && p[k] >= 48 && p[k] <= 57 }
        if i < n, p[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { return nil }
        if p[i] == 48 { i += 1 } else { while isDigit(i) { i += 1 } }
        if i < n, p[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        if i < n, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return nil }
            while isDigit(i) { i += 1 }
        }
        return i
    }

    /// Validates and skips a nested object or array starting at `start`, without recursion.
    /// Returns the index just after it. Keys and string values inside are checked for
    /// identifiable data too.
    func skipNested(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Result<Int, Failure> {
        // Stack of container kinds: true = object, false = array.
        var stack: [Bool] = []
        var i = start
        let n = p.count
        // State: expecting a value (or key in an object).
        enum Expect { case valueOrClose, value, keyOrClose, key, colon, commaOrClose }
        var expect = Expect.valueOrClose
        if p[i] == UInt8(ascii: "{") { stack.append(true); expect = .keyOrClose } else { stack.append(false) }
        i += 1
        var lastKey: (Int, Int) = (0, 0)
        while true {
            i = skipWS(p, i)
            guard i < n else { return .failure(.malformed(offset: i, what: "truncated line")) }
            let c = p[i]
            switch expect {
            case .keyOrClose, .key:
                if expect == .keyOrClose, c == UInt8(ascii: "}") {
                    stack.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                guard c == UInt8(ascii: "\"") else { return .failure(.malformed(offset: i, what: "expected a field name")) }
                var esc = false
                switch scanString(p, i, &esc) {
                case .success(let e):
                    if let pii = Self.identifiableKey(p, i + 1, e) {
                        return .failure(.identifiable(field: pii, why: "field name '\(pii)' is patient-identifiable"))
                    }
                    lastKey = (i + 1, e)
                    i = e + 1; expect = .colon
                case .failure(let f): return .failure(f)
                }
            case .colon:
                guard c == UInt8(ascii: ":") else { return .failure(.malformed(offset: i, what: "expected ':'")) }
                i += 1; expect = .value
            case .valueOrClose, .value:
                if expect == .valueOrClose, c == UInt8(ascii: "]") {
                    stack.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                switch c {
                case UInt8(ascii: "{"):
                    guard stack.count < Self.maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    stack.append(true); i += 1; expect = .keyOrClose
                case UInt8(ascii: "["):
                    guard stack.count < Self.maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    stack.append(false); i += 1; expect = .valueOrClose
                case UInt8(ascii: "\""):
                    var esc = false
                    switch scanString(p, i, &esc) {
                    case .success(let e):
                        if NHSNumber.looksLikeNHSNumber(p, i + 1, e) {
                            let name = stack.last == true ? Self.text(p, lastKey.0, lastKey.1) : "array element"
                            return .failure(.identifiable(field: name, why: "value is shaped like an NHS number"))
                        }
                        i = e + 1; expect = .commaOrClose
                    case .failure(let f): return .failure(f)
                    }
                case UInt8(ascii: "t"):
                    guard matchLiteral(p, i, "true") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 4; expect = .commaOrClose
                case UInt8(ascii: "f"):
                    guard matchLiteral(p, i, "false") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 5; expect = .commaOrClose
                case UInt8(ascii: "n"):
                    guard matchLiteral(p, i, "null") else { return .failure(.malformed(offset: i, what: "invalid literal")) }
                    i += 4; expect = .commaOrClose
                default:
                    guard let e = scanNumber(p, i) else { return .failure(.malformed(offset: i, what: "invalid value")) }
                    if e - i == 10, NHSNumber.looksLikeNHSNumber(p, i, e) {
                        return .failure(.identifiable(field: Self.text(p, lastKey.0, lastKey.1), why: "value is shaped like an NHS number"))
                    }
                    i = e; expect = .commaOrClose
                }
            case .commaOrClose:
                let inObject = stack.last!
                if c == UInt8(ascii: ",") { i += 1; expect = inObject ? .key : .value; continue }
                if (inObject && c == UInt8(ascii: "}")) || (!inObject && c == UInt8(ascii: "]")) {
                    stack.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                return .failure(.malformed(offset: i, what: "expected ',' or a closing bracket"))
            }
        }
    }

    // MARK: - Identifiable data

    /// Field names refused anywhere in a record (compared case-insensitively, `-` and `_` ignored).
    public static let identifiableFieldNames: [String] = [
        "nhsnumber", "nhsno", "nhsnum", "name", "forename", "firstname", "surname", "lastname",
        "fullname", "patientname", "dob", "dateofbirth", "birthdate", "postcode", "address",
        "phone", "telephone", "mobile", "email", "mrn", "hospitalnumber", "chinumber",
    ]

    /// If the key is an identifiable field name, returns it as written.
    static func identifiableKey(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String? {
        let len = e - s
        guard len >= 3, len <= 24 else { return nil }
        // Normalise into a small stack buffer: lower case, drop '_' and '-'.
        var buf: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        let matched: Bool = withUnsafeMutableBytes(of: &buf) { raw in
            for k in s..<e {
                var c = p[k]
                if c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: " ") { continue }
                if c >= 65 && c <= 90 { c += 32 }
                raw[count] = c
                count += 1
            }
            let key = UnsafeRawBufferPointer(rebasing: raw[0..<count])
            for name in identifiableFieldNames where name.utf8.count == count {
                if name.utf8.elementsEqual(key) { return true }
            }
            return false
        }
        return matched ? text(p, s, e) : nil
    }
}

/// NHS numbers: 10 digits, the last a modulus-11 check digit over the first nine.
public enum NHSNumber {
    /// True for `9434765919`, `943 476 5919`, `943-476-5919`: 10 digits (optionally grouped
    /// 3-3-4 by one space or dash) whose check digit is valid.
    @inline(__always)
    public static func looksLikeNHSNumber(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        let len = e - s
        guard len == 10 || len == 12 else { return false }
        var digits: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &digits) { raw in
            let d = raw.bindMemory(to: Int.self)
            var count = 0
            if len == 12 {
                let sep = p[s + 3]
                guard sep == 32 || sep == 45, p[s + 7] == sep else { return false }
            }
            for k in s..<e {
                if len == 12 && (k == s + 3 || k == s + 7) { continue }
                let c = p[k]
                guard c >= 48, c <= 57 else { return false }
                d[count] = Int(c - 48)
                count += 1
            }
            guard count == 10 else { return false }
            var sum = 0
            for k in 0..<9 { sum += d[k] * (10 - k) }
            var check = 11 - (sum % 11)
            if check == 11 { check = 0 }
            if check == 10 { return false }
            return check == d[9]
        }
    }

    public static func isValid(_ text: String) -> Bool {
        var s = text
        return s.withUTF8 { looksLikeNHSNumber($0, 0, $0.count) }
    }
}
