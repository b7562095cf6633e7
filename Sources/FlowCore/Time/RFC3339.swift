/// RFC 3339 timestamps, parsed from bytes without Foundation (the feed hot path).
///
/// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; `t` and a space are accepted for
/// `T`, `z` for `Z`. An offset is required: a local time without one is ambiguous across the
/// clock change and is rejected.
public enum RFC3339 {
    /// Parses the bytes `p[start..<end]`.
    @inlinable
    public static func parse(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> EventTime? {
        guard end - start >= 20, start >= 0, end <= p.count, let b = p.baseAddress else { return nil }
        return parse(b, start, end)
    }

    /// The date of the latest time parsed by a decoder (`parse(_:_:_:date:)`): its ten bytes
    /// (`YYYY-MM-DD`) as a word and a half, and its day number. Lines of a feed come in time
    /// order, so nearly every time falls on the same date as the one before.
    struct DateMemo {
        var word: UInt64 = 0
        var rest: UInt16 = 0
        var days: Int64 = 0
        var known = false
    }

    /// `parse(_:_:_:)` with the date part looked up in `memo` first (a valid date, so one whose
    /// bytes are equal is equally valid and falls on the same day), and kept there once parsed.
    @inline(__always)
    static func parse(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, date memo: inout DateMemo) -> EventTime? {
        guard end - start >= 20 else { return nil }
        let p = UnsafeRawPointer(b + start)
        let word = p.loadUnaligned(as: UInt64.self), rest = p.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        if memo.known, memo.word == word, memo.rest == rest { return parts(b, start, end, days: memo.days)?.time }
        guard let r = parts(b, start, end) else { return nil }
        memo = DateMemo(word: word, rest: rest, days: r.days, known: true)
        return r.time
    }

    /// Parses the bytes `b[start..<end]` (in bounds), without bounds checks: the feed
    /// decoder's path. Each digit is checked as `byte - '0' < 10` (unsigned).
    @inlinable
    static func parse(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> EventTime? {
        parts(b, start, end)?.time
    }

    /// `parse(_:_:_:)`, with the day number of the date part (its own date, whatever the
    /// offset). `days`: that day number, the date part already validated (`parse(_:_:_:date:)`).
    @inlinable
    static func parts(_ b: UnsafePointer<UInt8>, _ start: Int, _ end: Int, days known: Int64? = nil) -> (time: EventTime, days: Int64)? {
        let n = end - start
        if n < 20 { return nil }
        let p = b + start
        @inline(__always) func d(_ i: Int) -> UInt8 { p[i] &- 48 }
        @inline(__always) func two(_ i: Int) -> Int64? {
            let h = d(i), l = d(i + 1)
            return h < 10 && l < 10 ? Int64(h) * 10 + Int64(l) : nil
        }
        var year: Int64 = 0, month: Int64 = 0, day: Int64 = 0
        if known == nil {
            guard let yh = two(0), let yl = two(2), p[4] == 45, let m = two(5), p[7] == 45,
                  let dd = two(8) else { return nil }
            year = yh * 100 + yl; month = m; day = dd
        }
        let sep = p[10]
        guard sep == 84 || sep == 116 || sep == 32 else { return nil }
        guard let hour = two(11), p[13] == 58, let minute = two(14), p[16] == 58,
              let second = two(17) else { return nil }
        if known == nil {
            guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month) else { return nil }
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if p[i] == 46 { // fraction
            i += 1
            var digits = 0
            while i < n {
                let v = d(i)
                if v >= 10 { break }
                if digits < 3 { millis = millis * 10 + Int64(v) }
                digits += 1
                i += 1
            }
            if digits == 0 { return nil }
            if digits == 1 { millis *= 100 } else if digits == 2 { millis *= 10 }
        }
        guard i < n else { return nil }
        var offsetSeconds: Int64 = 0
        let z = p[i]
        if z == 90 || z == 122 {
            i += 1
        } else if z == 43 || z == 45 {
            guard n - i >= 6, let oh = two(i + 1), p[i + 3] == 58, let om = two(i + 4) else { return nil }
            guard oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (z == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = known ?? daysFromCivil(year, month, day)
        let secs = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return (EventTime(millis: secs * 1000 + millis), days)
    }

    public static func parse(_ text: String) -> EventTime? {
        var s = text
        return s.withUTF8 { parse($0, 0, $0.count) }
    }

    @inlinable
    public static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    @inlinable
    public static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    @inlinable
    public static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (inverse of `daysFromCivil`).
    public static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Formats in UTC: `2026-01-05T08:00:00Z`, or `...08:00:00.250Z` when not whole seconds.
    public static func format(_ t: EventTime) -> String {
        format(t, offsetSeconds: 0)
    }

    /// Formats with a fixed offset from UTC (`+01:00`; `Z` when zero).
    public static func format(_ t: EventTime, offsetSeconds: Int) -> String {
        let local = t.millis + Int64(offsetSeconds) * 1000
        var days = local / 86_400_000
        var rem = local % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (y, m, d) = civilFromDays(days)
        let secs = rem / 1000, ms = rem % 1000
        var out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        out += pad(secs / 3600, 2) + ":" + pad((secs / 60) % 60, 2) + ":" + pad(secs % 60, 2)
        if ms != 0 { out += "." + pad(ms, 3) }
        if offsetSeconds == 0 { return out + "Z" }
        let o = abs(offsetSeconds)
        return out + (offsetSeconds > 0 ? "+" : "-") + pad(Int64(o / 3600), 2) + ":" + pad(Int64((o / 60) % 60), 2)
    }

    /// `v` in decimal, zero-padded on the left to `width` digits.
    public static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
