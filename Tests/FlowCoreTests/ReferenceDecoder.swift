import Foundation
@testable import FlowCore

// MARK: - Reference decoder (frozen)
//
// The feed decoder and line scanner exactly as they were before the fast path (commit 8fe9d97),
// renamed, kept here as the executable specification the fast decoder is compared against:
// every line, valid or not, must get the same message or the same rejection (reason, field,
// detail, feed, site). Do not "fix" this copy; it is the behaviour to preserve.
//
// Deliberate changes of the rules since, made here as simply as possible:
// - free text (string values of fields not in the contract, and every nested string) is refused
//   when it contains an NHS-number-shaped run anywhere (`RefNHSNumber.containsRefNHSNumber`);
// - a line that gives a contract field more than once is refused `malformed`, naming the first
//   field given again (the last value won before);
// - a line starting with a UTF-8 byte-order mark is refused `malformed` naming the mark, without
//   a column (it was "not a JSON object at column 1");
// - field names are refused `identifiable` beyond the listed ones when a word of the name names
//   a date of birth or a person's name, and free text when it holds a date of birth (a date
//   after a cue such as `DOB`); `RefPatientText`, written apart from the fast code's bytes.

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
struct RefScanner {
    enum ValueKind: UInt8, Sendable { case string, number, bool, null, object, array }

    struct Field {
        var keyStart: Int32
        var keyEnd: Int32
        var valueStart: Int32   // strings: first byte after the opening quote
        var valueEnd: Int32     // strings: the closing quote
        var kind: ValueKind
        var hasEscapes: Bool
        var boolValue: Bool
    }

    enum Failure: Error, Equatable, Sendable {
        case malformed(offset: Int, what: String)
        case identifiable(field: String, why: String)
    }

    /// Top-level fields of the last scanned line, in order.
    private(set) var fields: [Field] = []
    static let maxDepth = 32
    static let maxFields = 256

    init() { fields.reserveCapacity(32) }

    /// Scans `p[0..<count]`. On success `fields` describes the object. With `contract`, the
    /// string values of top-level fields whose names are not in the contract are free text.
    mutating func scan(_ p: UnsafeBufferPointer<UInt8>, contract: Bool = false) -> Failure? {
        fields.removeAll(keepingCapacity: true)
        let n = p.count
        var i = skipWS(p, 0)
        if Array(p.prefix(3)) == [0xEF, 0xBB, 0xBF] { return .malformed(offset: 0, what: JSONLineScanner.byteOrderMarkWhat) }
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
                    if RefNHSNumber.looksLikeRefNHSNumber(p, i + 1, e) {
                        return .identifiable(field: Self.text(p, keyStart, keyEnd), why: "value is shaped like an NHS number")
                    }
                    i = e + 1
                case .failure(let f): return f
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                switch skipNested(p, i, field: Self.text(p, keyStart, keyEnd)) {
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
                if e - i == 10, RefNHSNumber.looksLikeRefNHSNumber(p, i, e) {
                    return .identifiable(field: Self.text(p, keyStart, keyEnd), why: "value is shaped like an NHS number")
                }
                i = e
            }
            if fields.count >= Self.maxFields { return .malformed(offset: i, what: "too many fields") }
            if contract, field.kind == .string, RefFieldID.lookup(p, field) == nil,
               let why = RefPatientText.freeTextWhy(Self.stringValue(p, field)!) {
                return .identifiable(field: Self.text(p, keyStart, keyEnd), why: why)
            }
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
    static func keyEquals(_ p: UnsafeBufferPointer<UInt8>, _ f: Field, _ s: StaticString) -> Bool {
        bytesEqual(p, Int(f.keyStart), Int(f.keyEnd), s)
    }

    /// The field is a string without escapes whose value is exactly `s`.
    @inline(__always)
    static func valueEquals(_ p: UnsafeBufferPointer<UInt8>, _ f: Field, _ s: StaticString) -> Bool {
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
    static func intValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> Int64? {
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

    static func doubleValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> Double? {
        guard f.kind == .number else { return nil }
        if let i = intValue(p, f), abs(i) < (1 << 53) { return Double(i) }
        let s = text(p, Int(f.valueStart), Int(f.valueEnd))
        return Double(s)
    }

    /// The decoded string value (escapes resolved).
    static func stringValue(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> String? {
        guard f.kind == .string else { return nil }
        let s = Int(f.valueStart), e = Int(f.valueEnd)
        if !f.hasEscapes { return text(p, s, e) }
        return unescape(p, s, e)
    }

    static func keyString(_ p: UnsafeBufferPointer<UInt8>, _ f: Field) -> String {
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
    func skipNested(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, field: String) -> Result<Int, Failure> {
        // Stack of container kinds: true = object, false = array; beside it, the path to the
        // current value: each open object's latest key, each open array's index.
        var stack: [Bool] = []
        var steps: [String] = []
        func path() -> String { field + zip(stack, steps).map { $0 ? "." + $1 : "[\($1)]" }.joined() }
        var i = start
        let n = p.count
        // State: expecting a value (or key in an object).
        enum Expect { case valueOrClose, value, keyOrClose, key, colon, commaOrClose }
        var expect = Expect.valueOrClose
        if p[i] == UInt8(ascii: "{") { stack.append(true); steps.append(""); expect = .keyOrClose } else { stack.append(false); steps.append("0") }
        i += 1
        while true {
            i = skipWS(p, i)
            guard i < n else { return .failure(.malformed(offset: i, what: "truncated line")) }
            let c = p[i]
            switch expect {
            case .keyOrClose, .key:
                if expect == .keyOrClose, c == UInt8(ascii: "}") {
                    stack.removeLast(); steps.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                guard c == UInt8(ascii: "\"") else { return .failure(.malformed(offset: i, what: "expected a field name")) }
                var esc = false
                switch scanString(p, i, &esc) {
                case .success(let e):
                    steps[steps.count - 1] = Self.text(p, i + 1, e)
                    if let pii = Self.identifiableKey(p, i + 1, e) {
                        return .failure(.identifiable(field: path(), why: "field name '\(pii)' is patient-identifiable"))
                    }
                    i = e + 1; expect = .colon
                case .failure(let f): return .failure(f)
                }
            case .colon:
                guard c == UInt8(ascii: ":") else { return .failure(.malformed(offset: i, what: "expected ':'")) }
                i += 1; expect = .value
            case .valueOrClose, .value:
                if expect == .valueOrClose, c == UInt8(ascii: "]") {
                    stack.removeLast(); steps.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                switch c {
                case UInt8(ascii: "{"):
                    guard stack.count < Self.maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    stack.append(true); steps.append(""); i += 1; expect = .keyOrClose
                case UInt8(ascii: "["):
                    guard stack.count < Self.maxDepth else { return .failure(.malformed(offset: i, what: "nested too deeply")) }
                    stack.append(false); steps.append("0"); i += 1; expect = .valueOrClose
                case UInt8(ascii: "\""):
                    var esc = false
                    switch scanString(p, i, &esc) {
                    case .success(let e):
                        if RefNHSNumber.looksLikeRefNHSNumber(p, i + 1, e) {
                            return .failure(.identifiable(field: path(), why: "value is shaped like an NHS number"))
                        }
                        let value = esc ? Self.unescape(p, i + 1, e) : Self.text(p, i + 1, e)
                        if let why = RefPatientText.freeTextWhy(value) {
                            return .failure(.identifiable(field: path(), why: why))
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
                    if e - i == 10, RefNHSNumber.looksLikeRefNHSNumber(p, i, e) {
                        return .failure(.identifiable(field: path(), why: "value is shaped like an NHS number"))
                    }
                    i = e; expect = .commaOrClose
                }
            case .commaOrClose:
                let inObject = stack.last!
                if c == UInt8(ascii: ",") {
                    if !inObject { steps[steps.count - 1] = String(Int(steps[steps.count - 1])! + 1) }
                    i += 1; expect = inObject ? .key : .value; continue
                }
                if (inObject && c == UInt8(ascii: "}")) || (!inObject && c == UInt8(ascii: "]")) {
                    stack.removeLast(); steps.removeLast(); i += 1
                    if stack.isEmpty { return .success(i) }
                    expect = .commaOrClose; continue
                }
                return .failure(.malformed(offset: i, what: "expected ',' or a closing bracket"))
            }
        }
    }

    // MARK: - Identifiable data

    /// Field names refused anywhere in a record (compared case-insensitively, `-` and `_` ignored).
    static let identifiableFieldNames: [String] = [
        "nhsnumber", "nhsno", "nhsnum", "name", "forename", "firstname", "surname", "lastname",
        "fullname", "patientname", "dob", "dateofbirth", "birthdate", "postcode", "address",
        "phone", "telephone", "mobile", "email", "mrn", "hospitalnumber", "chinumber",
    ]

    /// If the key is an identifiable field name, returns it as written.
    static func identifiableKey(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> String? {
        if RefPatientText.keyNamesPatientData(text(p, s, e)) { return text(p, s, e) }
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
enum RefNHSNumber {
    /// True for `9434765919`, `943 476 5919`, `943-476-5919`: 10 digits (optionally grouped
    /// 3-3-4 by one space or dash) whose check digit is valid.
    @inline(__always)
    static func looksLikeRefNHSNumber(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
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

    static func isValid(_ text: String) -> Bool {
        var s = text
        return s.withUTF8 { looksLikeRefNHSNumber($0, 0, $0.count) }
    }

    /// `text` contains a run that is an NHS number by `looksLikeRefNHSNumber` (10 digits, or
    /// 3-3-4 with one space or dash twice) and is not part of a longer run of digits.
    static func containsRefNHSNumber(_ text: String) -> Bool {
        let u = Array(text.utf8)
        func isDigit(_ k: Int) -> Bool { k >= 0 && k < u.count && u[k] >= 48 && u[k] <= 57 }
        return u.withUnsafeBufferPointer { p in
            for start in u.indices where isDigit(start) && !isDigit(start - 1) {
                for len in [10, 12] where start + len <= u.count && !isDigit(start + len) {
                    if looksLikeRefNHSNumber(p, start, start + len) { return true }
                }
            }
            return false
        }
    }
}

/// Decodes and validates one line of a feed into a `FeedMessage`, or says why not.
///
/// Checks everything that can be checked from the line alone plus the list of units: grammar,
/// identifiable data, envelope, types, ranges, and whether the site may send that feed. Checks
/// that need state (duplicates, time against the clock, unknown incidents) are the engine's.
struct RefFeedDecoder {
    private var scanner = RefScanner()
    private let siteCodes: [[UInt8]]
    private let siteKinds: [UnitKind]
    /// Field slots of the current line, indexed by `RefFieldID.rawValue`; -1 when absent.
    private var slots: [Int32] = Array(repeating: -1, count: RefFieldID.allCases.count)

    init(units: [UnitConfig]) {
        siteCodes = units.map { Array($0.code.utf8) }
        siteKinds = units.map(\.kind)
    }

    mutating func decode(_ line: String) -> Result<FeedMessage, Rejection> {
        var s = line
        return s.withUTF8 { decode($0) }
    }

    mutating func decode(_ p: UnsafeBufferPointer<UInt8>) -> Result<FeedMessage, Rejection> {
        if let failure = scanner.scan(p, contract: true) {
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
            if let id = RefFieldID.lookup(p, f) {
                if slots[id.rawValue] >= 0 {
                    return .failure(Rejection(.malformed, field: id.name, "appears twice (again at column \(f.keyStart)); a field of the contract may be given once"))
                }
                slots[id.rawValue] = Int32(index)
            }
        }
        return slots.withUnsafeBufferPointer { slotPtr in
            fields.withUnsafeBufferPointer { fieldPtr in
                var r = RefReader(p: p, fields: fieldPtr, slots: slotPtr)
                return decodeEnvelope(&r)
            }
        }
    }

    private func decodeEnvelope(_ r: inout RefReader) -> Result<FeedMessage, Rejection> {
        // feed
        guard let feedField = r.field(.feed), feedField.kind != .null else {
            return .failure(Rejection(.missingField, field: "feed", "every message names its feed (bed, dtoc, 111, ambulance)"))
        }
        guard feedField.kind == .string else {
            return .failure(Rejection(.badType, field: "feed", "must be a string"))
        }
        let feed: FeedKind
        if RefScanner.valueEquals(r.p, feedField, "bed") { feed = .bed }
        else if RefScanner.valueEquals(r.p, feedField, "dtoc") { feed = .dtoc }
        else if RefScanner.valueEquals(r.p, feedField, "111") { feed = .nhs111 }
        else if RefScanner.valueEquals(r.p, feedField, "ambulance") { feed = .ambulance }
        else {
            let name = RefScanner.stringValue(r.p, feedField) ?? ""
            return .failure(Rejection(.unknownFeed, field: "feed", "'\(Sanitise.short(name))' is not a feed of contract v1 (bed, dtoc, 111, ambulance)"))
        }
        r.feed = feed
        if let v = r.field(.v), v.kind != .null {
            guard let ver = RefScanner.intValue(r.p, v) else {
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
            let code = RefScanner.stringValue(r.p, siteField) ?? ""
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
        // As a key is checked, where it has a space or starts with `0` or `+` (this reference's
        // own reading of the decoder's quick pass for ids).
        if let text = RefScanner.stringValue(r.p, idField), text.first == "0" || text.first == "+" || text.contains(" "),
           let why = RefPatientText.keyWhy(text) {
            return r.reject(.identifiable, "id", why + "; feeds must carry aggregates or pseudonymous keys")
        }
        let idHash = RefFingerprint.of(feed: feed, r.p, Int(idField.valueStart), Int(idField.valueEnd))
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

    private func lookupSite(_ p: UnsafeBufferPointer<UInt8>, _ f: RefScanner.Field) -> Int? {
        let s = Int(f.valueStart), len = Int(f.valueEnd - f.valueStart)
        for (index, code) in siteCodes.enumerated() where code.count == len {
            var same = true
            for k in 0..<len where p[s + k] != code[k] { same = false; break }
            if same { return index }
        }
        return nil
    }

    private func decodeBed(_ r: inout RefReader) -> Result<BedState, Rejection> {
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

    private func decodeDToC(_ r: inout RefReader, at: EventTime) -> Result<DToCEvent, Rejection> {
        do {
            guard let kindField = r.field(.kind), kindField.kind != .null else {
                throw r.rejection(.missingField, "kind", "dtoc messages are start, end or snapshot")
            }
            if RefScanner.valueEquals(r.p, kindField, "start") {
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
            if RefScanner.valueEquals(r.p, kindField, "end") {
                return .success(.end(patient: try r.key(.patient, max: 64)))
            }
            if RefScanner.valueEquals(r.p, kindField, "snapshot") {
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

    private func decode111(_ r: inout RefReader) -> Result<NHS111Interval, Rejection> {
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

    private func decodeAmbulance(_ r: inout RefReader, siteKind: UnitKind) -> Result<AmbulanceEvent, Rejection> {
        do {
            guard let kindField = r.field(.kind), kindField.kind != .null else {
                throw r.rejection(.missingField, "kind", "ambulance messages are arrived, handover, clear or status")
            }
            if RefScanner.valueEquals(r.p, kindField, "status") {
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
            if RefScanner.valueEquals(r.p, kindField, "arrived") {
                let incident = try r.key(.incident, max: 64)
                var category: Int? = nil
                if let c = try r.count(.category) {
                    guard (1...4).contains(c) else { throw r.rejection(.outOfRange, "category", "\(c) is not a category 1-4") }
                    category = c
                }
                return .success(.arrived(incident: incident, category: category))
            }
            if RefScanner.valueEquals(r.p, kindField, "handover") {
                let incident = try r.key(.incident, max: 64)
                var arrivedAt: EventTime? = nil
                switch r.time(.arrivedAt, required: false) {
                case .success(let t): arrivedAt = t
                case .failure(let f): throw f
                }
                return .success(.handover(incident: incident, arrivedAt: arrivedAt))
            }
            if RefScanner.valueEquals(r.p, kindField, "clear") {
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
private struct RefReader {
    let p: UnsafeBufferPointer<UInt8>
    let fields: UnsafeBufferPointer<RefScanner.Field>
    let slots: UnsafeBufferPointer<Int32>
    var feed: FeedKind? = nil
    /// Empty until the site is known.
    var siteCode = ""

    init(p: UnsafeBufferPointer<UInt8>, fields: UnsafeBufferPointer<RefScanner.Field>, slots: UnsafeBufferPointer<Int32>) {
        self.p = p
        self.fields = fields
        self.slots = slots
    }

    @inline(__always)
    func field(_ id: RefFieldID) -> RefScanner.Field? {
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
    func count(_ id: RefFieldID, required: Bool = false) throws -> Int? {
        guard let f = field(id), f.kind != .null else {
            if required { throw rejection(.missingField, id.name, "is required") }
            return nil
        }
        guard f.kind == .number else { throw rejection(.badType, id.name, "must be a whole number") }
        guard let v = RefScanner.intValue(p, f) else {
            // Read by its own means: the literal as Foundation reads it.
            let written = RefScanner.text(p, Int(f.valueStart), Int(f.valueEnd))
            let text = written.count > 20 ? written.prefix(17) + "…" : written   // as written, not a page of digits
            if let d = Double(text), d.isFinite, d.truncatingRemainder(dividingBy: 1) == 0, d.magnitude > 1e7 {
                throw rejection(.outOfRange, id.name, d < 0 ? "\(text) is negative" : "\(text) is implausibly large (at most 10000000)")
            }
            throw rejection(.badType, id.name, "must be a whole number")
        }
        guard v >= 0 else { throw rejection(.outOfRange, id.name, "\(v) is negative") }
        guard v <= 10_000_000 else { throw rejection(.outOfRange, id.name, "\(v) is implausibly large (at most 10000000)") }
        return Int(v)
    }

    func number(_ id: RefFieldID, range: ClosedRange<Double>) throws -> Double? {
        guard let f = field(id), f.kind != .null else { return nil }
        guard f.kind == .number, let v = RefScanner.doubleValue(p, f) else {
            throw rejection(.badType, id.name, "must be a number")
        }
        guard range.contains(v) else {
            throw rejection(.outOfRange, id.name, "\(v) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return v
    }

    func string(_ id: RefFieldID, required: Bool) throws -> String? {
        guard let f = field(id), f.kind != .null else {
            if required { throw rejection(.missingField, id.name, "is required") }
            return nil
        }
        guard f.kind == .string, let s = RefScanner.stringValue(p, f) else {
            throw rejection(.badType, id.name, "must be a string")
        }
        return s
    }

    /// A pseudonymous key, fingerprinted (the model never keeps the key text).
    func key(_ id: RefFieldID, max: Int) throws -> UInt64 {
        guard let f = field(id), f.kind != .null else { throw rejection(.missingField, id.name, "is required") }
        guard f.kind == .string else { throw rejection(.badType, id.name, "must be a string") }
        let len = Int(f.valueEnd - f.valueStart)
        guard len >= 1, len <= max else { throw rejection(.outOfRange, id.name, "must be 1 to \(max) characters") }
        if let text = RefScanner.stringValue(p, f), let why = RefPatientText.keyWhy(text) {
            throw rejection(.identifiable, id.name, why + "; feeds must carry aggregates or pseudonymous keys")
        }
        return RefFingerprint.bytes(p, Int(f.valueStart), Int(f.valueEnd))
    }

    func time(_ id: RefFieldID, required: Bool) -> Result<EventTime?, Rejection> {
        guard let f = field(id), f.kind != .null else {
            if required { return .failure(rejection(.missingField, id.name, "is required (RFC 3339 with an offset)")) }
            return .success(nil)
        }
        guard f.kind == .string, !f.hasEscapes else { return .failure(rejection(.badType, id.name, "must be an RFC 3339 string")) }
        guard let t = RefRFC3339.parse(p, Int(f.valueStart), Int(f.valueEnd)) else {
            let s = RefScanner.stringValue(p, f) ?? ""
            return .failure(rejection(.badType, id.name, "'\(Sanitise.short(s))' is not an RFC 3339 time with an offset"))
        }
        return .success(t)
    }
}

/// Field names of contract v1.
enum RefFieldID: Int, CaseIterable {
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
    private static let byLength: [[(bytes: [UInt8], id: RefFieldID)]] = {
        var table = Array(repeating: [(bytes: [UInt8], id: RefFieldID)](), count: 32)
        for id in RefFieldID.allCases {
            let b = Array(id.name.utf8)
            table[b.count].append((b, id))
        }
        return table
    }()

    @inline(__always)
    static func lookup(_ p: UnsafeBufferPointer<UInt8>, _ f: RefScanner.Field) -> RefFieldID? {
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

/// The fingerprint as `Fingerprint` documents it, written from that description a byte at a
/// time (words built byte by byte, every step spelt out), to check the decoder's word loads.
enum RefFingerprint {
    static func fold(_ x: UInt64, _ k: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: k)
        return high ^ low
    }

    /// The little-endian word of `p[at..<at+count]` (`count` <= 8), zero-padded.
    static func word(_ p: UnsafeBufferPointer<UInt8>, at: Int, count: Int) -> UInt64 {
        var w: UInt64 = 0
        for k in 0..<count { w += UInt64(p[at + k]) * (UInt64(1) << UInt64(8 * k)) }
        return w
    }

    static func bytes(_ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        let n = e - s
        var h = seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
        // The whole words before the last eight bytes.
        var words = 0
        while 8 * (words + 1) < n {
            h = fold(h ^ word(p, at: s + 8 * words, count: 8), 0xA076_1D64_78BD_642F)
            words += 1
        }
        let last = n >= 8 ? word(p, at: e - 8, count: 8) : word(p, at: s, count: n)
        h = fold(h ^ last, 0xE703_7ED1_A0B4_28DB)
        return fold(h ^ 0x5899_65CC_7537_4CC3, 0x8EBC_6AF0_9C88_C6E3)
    }

    @inline(__always)
    static func of(feed: FeedKind, _ p: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> UInt64 {
        let seed: UInt64
        switch feed {
        case .bed: seed = 0x2D35_8DCC_AA6C_78A5
        case .dtoc: seed = 0x8BB8_4B93_962E_ACC9
        case .nhs111: seed = 0x4B33_A62E_D433_D4A3
        case .ambulance: seed = 0x4D5A_2DA5_1DE1_AA47
        }
        return bytes(p, s, e, seed: seed)
    }

    static func of(_ text: String) -> UInt64 {
        var s = text
        return s.withUTF8 { bytes($0, 0, $0.count) }
    }
}


enum RefRFC3339 {
    /// Parses the bytes `p[start..<end]`.
        static func parse(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> EventTime? {
        let n = end - start
        if n < 20 { return nil }
        @inline(__always) func d(_ i: Int) -> Int64? {
            let c = p[start + i]
            return (c >= 48 && c <= 57) ? Int64(c - 48) : nil
        }
        guard let y0 = d(0), let y1 = d(1), let y2 = d(2), let y3 = d(3),
              p[start + 4] == 45,
              let mo0 = d(5), let mo1 = d(6), p[start + 7] == 45,
              let d0 = d(8), let d1 = d(9) else { return nil }
        let sep = p[start + 10]
        guard sep == 84 || sep == 116 || sep == 32 else { return nil }
        guard let h0 = d(11), let h1 = d(12), p[start + 13] == 58,
              let mi0 = d(14), let mi1 = d(15), p[start + 16] == 58,
              let s0 = d(17), let s1 = d(18) else { return nil }
        let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
        let month = mo0 * 10 + mo1
        let day = d0 * 10 + d1
        let hour = h0 * 10 + h1
        let minute = mi0 * 10 + mi1
        let second = s0 * 10 + s1
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if p[start + i] == 46 { // fraction
            i += 1
            var digits = 0
            while i < n, let v = d(i) {
                if digits < 3 { millis = millis * 10 + v }
                digits += 1
                i += 1
            }
            if digits == 0 { return nil }
            if digits == 1 { millis *= 100 } else if digits == 2 { millis *= 10 }
        }
        guard i < n else { return nil }
        var offsetSeconds: Int64 = 0
        let z = p[start + i]
        if z == 90 || z == 122 {
            i += 1
        } else if z == 43 || z == 45 {
            guard n - i >= 6, let oh0 = d(i + 1), let oh1 = d(i + 2), p[start + i + 3] == 58,
                  let om0 = d(i + 4), let om1 = d(i + 5) else { return nil }
            let oh = oh0 * 10 + oh1, om = om0 * 10 + om1
            guard oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (z == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year, month, day)
        let secs = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return EventTime(millis: secs * 1000 + millis)
    }

        static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

        static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
        static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

}

/// Dates of birth and persons' names beyond NHS numbers (a deliberate change since the frozen
/// copy; see the top of this file), written simply with strings to check the fast byte code.
enum RefPatientText {
    static func isLetter(_ c: UInt8) -> Bool { (65...90).contains(c) || (97...122).contains(c) }

    /// The name's words: letters only, cut at any other byte and before a capital that follows
    /// a lower-case letter; lower-cased.
    static func words(_ key: String) -> [String] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        for c in key.utf8 {
            if !isLetter(c) { if !cur.isEmpty { out.append(cur) }; cur = []; continue }
            if (65...90).contains(c), let last = cur.last, (97...122).contains(last) { out.append(cur); cur = [] }
            cur.append(c)
        }
        if !cur.isEmpty { out.append(cur) }
        return out.map { String(decoding: $0, as: UTF8.self).lowercased() }
    }

    static let personWords: Set<String> = [
        "patient", "patients", "pt", "pat", "given", "family", "first", "last", "middle", "full", "maiden", "person", "client",
        "fore", "sur", "christian", "preferred", "kin", "nextofkin", "mother", "mothers", "father", "fathers", "carer", "resident",
    ]

    static func keyNamesPatientData(_ key: String) -> Bool {
        guard (3...64).contains(key.utf8.count) else { return false }
        let w = words(key)
        for (i, word) in w.enumerated() {
            if word == "birth" || word.hasSuffix("birthdate") || word.hasSuffix("birthday") || word.hasSuffix("dateofbirth")
                || word.hasSuffix("dob") { return true }
            if ["forename", "forenames", "surname", "surnames"].contains(word) { return true }
            let stem: Substring
            if word.hasSuffix("names") { stem = word.dropLast(5) } else if word.hasSuffix("name") { stem = word.dropLast(4) } else { continue }
            if !stem.isEmpty {
                if personWords.contains(String(stem)) { return true }
            } else if i > 0, personWords.contains(w[i - 1]) {
                return true
            }
        }
        return false
    }

    static let cues: [String] = {
        var c = ["dob", "d.o.b", "born", "birthdate", "birthday"]
        for a in [" ", "_", "-"] {
            c.append("birth\(a)date")
            for b in [" ", "_", "-"] { c.append("date\(a)of\(b)birth") }
        }
        return c
    }()

    /// A cue as a word (not after a letter, not before one), then within 24 bytes a run of digits
    /// that starts a date: d/m/y (1-2, 1-2, 2 or 4 digits) or y/m/d (4, 1-2, 1-2), the
    /// separators `/`, `-` or `.`, the same twice.
    static func containsDateOfBirth(_ text: String) -> Bool {
        let u = Array(text.utf8)
        guard u.count >= 8 else { return false }
        let lower = u.map { (65...90).contains($0) ? $0 + 32 : $0 }
        func letter(_ k: Int) -> Bool { k >= 0 && k < u.count && isLetter(u[k]) }
        func digit(_ k: Int) -> Bool { k >= 0 && k < u.count && (48...57).contains(u[k]) }
        func isDate(_ k: Int) -> Bool {
            var runs: [Int] = [], seps: [UInt8] = []
            var j = k
            while runs.count < 3 {
                let start = j
                while digit(j) { j += 1 }
                runs.append(j - start)
                if runs.count == 3 { break }
                guard j < u.count, [UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: ".")].contains(u[j]) else { return false }
                seps.append(u[j]); j += 1
            }
            guard seps[0] == seps[1], [1, 2].contains(runs[1]) else { return false }
            if runs[0] == 4 { return [1, 2].contains(runs[2]) }
            return [1, 2].contains(runs[0]) && [2, 4].contains(runs[2])
        }
        for i in u.indices where !letter(i - 1) {
            for cue in cues {
                let c = Array(cue.utf8)
                guard i + c.count <= u.count, Array(lower[i..<(i + c.count)]) == c, !letter(i + c.count) else { continue }
                let from = i + c.count
                for k in from..<min(u.count, from + 24) where digit(k) && !digit(k - 1) && isDate(k) { return true }
            }
        }
        return false
    }

    /// A pseudonymous key: a date of birth in it (this reference's own search); titled names,
    /// postcodes and a whole telephone number through the decoder's own (PatientDataTests
    /// covers them against examples).
    static func keyWhy(_ text: String) -> String? {
        guard text.utf8.count >= PatientText.shortestFinding else { return nil }
        if containsDateOfBirth(text) { return JSONLineScanner.containsDateOfBirthWhy }
        var t = text
        return t.withUTF8 { u -> String? in
            guard let b = u.baseAddress else { return nil }
            if PatientText.containsTitledName(b, 0, u.count) { return JSONLineScanner.containsTitledNameWhy }
            if PatientText.containsPostcode(b, 0, u.count) { return JSONLineScanner.containsPostcodeWhy }
            if PatientText.isPhoneNumber(b, 0, u.count) { return JSONLineScanner.containsPhoneNumberWhy }
            return nil
        } ?? (isNameShaped(text) ? JSONLineScanner.keyIsNameShapedWhy : nil)
    }

    /// Two to four capitalised words (this reference's own reading, by regular expression).
    static func isNameShaped(_ text: String) -> Bool {
        text.wholeMatch(of: /[A-Z][A-Za-z]*(?:['-][A-Za-z]+)*(?: [A-Z][A-Za-z]*(?:['-][A-Za-z]+)*){1,3}/) != nil
            && text.split(separator: " ").allSatisfy { $0.contains(where: \.isLowercase) }
    }

    static func freeTextWhy(_ text: String) -> String? {
        if RefNHSNumber.containsRefNHSNumber(text) { return "contains a value shaped like an NHS number" }
        if containsDateOfBirth(text) { return JSONLineScanner.containsDateOfBirthWhy }
        return nil
    }
}
