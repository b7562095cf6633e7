import FlowCore

/// Europe/London civil time computed from the UK rule (BST from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October, in force since 1996), so generation does
/// not depend on the machine's tz database. Times are Unix seconds (UTC).
///
/// The rule is kept here deliberately rather than using the core's `LocalCalendar`, which reads
/// the operating system's tz data: the checked-in scenario files must come out byte-identical on
/// every machine. The calendar arithmetic and formatting are the core's (`RFC3339`).
enum UKTime {
    /// The civil date of a day number (the core's `RFC3339.civilFromDays`).
    static func civilFromDays(_ z: Int64) -> (year: Int64, month: Int64, day: Int64) { RFC3339.civilFromDays(z) }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// 0 = Sunday ... 6 = Saturday.
    static func weekday(dayNumber: Int64) -> Int { Int(((dayNumber + 4) % 7 + 7) % 7) }

    static func lastSunday(_ year: Int64, _ month: Int64) -> Int64 {
        let last = RFC3339.daysFromCivil(year, month, 31)
        return last - Int64(weekday(dayNumber: last))
    }

    /// UTC offset in seconds at an instant.
    static func offset(_ t: Int64) -> Int64 {
        let y = RFC3339.civilFromDays(floorDiv(t, 86_400)).year
        let start = lastSunday(y, 3) * 86_400 + 3600
        let end = lastSunday(y, 10) * 86_400 + 3600
        return (t >= start && t < end) ? 3600 : 0
    }

    /// The instant of a UTC civil time.
    static func utc(_ y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64 = 0, _ mi: Int64 = 0) -> Int64 {
        RFC3339.daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60
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

    /// RFC 3339 at seconds resolution: `Z` (utc) or the local offset written as `+01:00`/`+00:00`
    /// (the core writes a zero offset as `Z`, so local winter time is rewritten to `+00:00`).
    static func format(_ t: Int64, local: Bool) -> String {
        let time = EventTime(seconds: t)
        guard local else { return RFC3339.format(time) }
        let off = offset(t)
        let s = RFC3339.format(time, offsetSeconds: Int(off))
        return off == 0 ? String(s.dropLast()) + "+00:00" : s
    }

    /// `202601130815` in UTC: the stamp used in message ids (unique through the repeated hour).
    static func idStamp(_ t: Int64) -> String {
        let days = floorDiv(t, 86_400)
        let rem = t - days * 86_400
        let (y, m, d) = RFC3339.civilFromDays(days)
        return String(y) + RFC3339.pad(m, 2) + RFC3339.pad(d, 2) + RFC3339.pad(rem / 3600, 2) + RFC3339.pad((rem / 60) % 60, 2)
    }

    /// `20260113` local date.
    static func dateStamp(dayNumber: Int64) -> String {
        let (y, m, d) = RFC3339.civilFromDays(dayNumber)
        return String(y) + RFC3339.pad(m, 2) + RFC3339.pad(d, 2)
    }
}
