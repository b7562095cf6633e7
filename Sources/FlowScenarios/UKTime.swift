/// Europe/London civil time computed from the UK rule (BST from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October, in force since 1996), so generation does
/// not depend on the machine's tz database. Times are Unix seconds (UTC).
enum UKTime {
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
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

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// 0 = Sunday ... 6 = Saturday.
    static func weekday(dayNumber: Int64) -> Int { Int(((dayNumber + 4) % 7 + 7) % 7) }

    static func lastSunday(_ year: Int64, _ month: Int64) -> Int64 {
        let last = daysFromCivil(year, month, 31)
        return last - Int64(weekday(dayNumber: last))
    }

    /// UTC offset in seconds at an instant.
    static func offset(_ t: Int64) -> Int64 {
        let y = civilFromDays(floorDiv(t, 86_400)).year
        let start = lastSunday(y, 3) * 86_400 + 3600
        let end = lastSunday(y, 10) * 86_400 + 3600
        return (t >= start && t < end) ? 3600 : 0
    }

    /// The instant of a UTC civil time.
    static func utc(_ y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64 = 0, _ mi: Int64 = 0) -> Int64 {
        daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    /// The instant of a local wall-clock time (the first one in the repeated autumn hour).
    static func local(_ y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64 = 0, _ mi: Int64 = 0) -> Int64 {
        let wall = utc(y, mo, d, h, mi)
        let early = wall - 3600
        return offset(early) == 3600 ? early : wall
    }

    /// Local day number of an instant.
    static func localDay(_ t: Int64) -> Int64 { floorDiv(t + offset(t), 86_400) }

    /// Seconds since local midnight (wall clock).
    static func localSecondOfDay(_ t: Int64) -> Int64 {
        let l = t + offset(t)
        return l - floorDiv(l, 86_400) * 86_400
    }

    /// Local fractional hour of the wall clock, 0 ..< 24.
    static func localHour(_ t: Int64) -> Double { Double(localSecondOfDay(t)) / 3600 }

    @inline(__always) static func pad2(_ v: Int64, _ out: inout String) {
        if v < 10 { out += "0" }
        out += String(v)
    }

    /// RFC 3339 at seconds resolution: `Z` (utc) or the local offset written as `+01:00`/`+00:00`.
    static func format(_ t: Int64, local: Bool) -> String {
        let off = local ? offset(t) : 0
        let l = t + off
        let days = floorDiv(l, 86_400)
        let rem = l - days * 86_400
        let (y, m, d) = civilFromDays(days)
        var out = String(y)
        out.reserveCapacity(26)
        out += "-"; pad2(m, &out); out += "-"; pad2(d, &out); out += "T"
        pad2(rem / 3600, &out); out += ":"; pad2((rem / 60) % 60, &out); out += ":"; pad2(rem % 60, &out)
        if !local { out += "Z" } else { out += off == 3600 ? "+01:00" : "+00:00" }
        return out
    }

    /// `202601130815` in UTC: the stamp used in message ids (unique through the repeated hour).
    static func idStamp(_ t: Int64) -> String {
        let days = floorDiv(t, 86_400)
        let rem = t - days * 86_400
        let (y, m, d) = civilFromDays(days)
        var out = String(y)
        pad2(m, &out); pad2(d, &out); pad2(rem / 3600, &out); pad2((rem / 60) % 60, &out)
        return out
    }

    /// `20260113` local date.
    static func dateStamp(dayNumber: Int64) -> String {
        let (y, m, d) = civilFromDays(dayNumber)
        var out = String(y)
        pad2(m, &out); pad2(d, &out)
        return out
    }
}
