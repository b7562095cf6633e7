import Foundation

/// A local calendar day (in the system's time zone), as a day number since 1970-01-01.
public struct LocalDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var dayNumber: Int64
    public init(dayNumber: Int64) { self.dayNumber = dayNumber }
    public init(year: Int64, month: Int64, day: Int64) {
        dayNumber = RFC3339.daysFromCivil(year, month, day)
    }
    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }
    public var next: LocalDate { LocalDate(dayNumber: dayNumber + 1) }
    /// `2026-01-05`
    public var description: String {
        let (y, m, d) = RFC3339.civilFromDays(dayNumber)
        return RFC3339.pad(y, 4) + "-" + RFC3339.pad(m, 2) + "-" + RFC3339.pad(d, 2)
    }
}

/// Local time in the system's zone (Europe/London for the bundled system): offsets, local days
/// and their boundaries, correct across the March and October clock changes.
///
/// The zone rules come from the operating system's tz database. Lookups are not free: the flow
/// model caches the current day's bounds (`FlowModel.localDay`).
public struct LocalCalendar: Sendable {
    public let identifier: String
    private let zone: TimeZone

    public init?(identifier: String) {
        guard let z = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = z
    }

    /// Offset from UTC in seconds at an instant (3600 during British Summer Time).
    public func offsetSeconds(at t: EventTime) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t.seconds)))
    }

    /// The local day an instant falls on.
    public func localDate(of t: EventTime) -> LocalDate {
        let local = t.seconds + Int64(offsetSeconds(at: t))
        return LocalDate(dayNumber: local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
    }

    /// The instant a local wall-clock time happens on a day. A time that does not exist (inside
    /// the spring-forward gap) gives the instant the clocks jumped; a time that happens twice
    /// (the autumn hour) gives the first.
    public func instant(of day: LocalDate, hour: Int = 0, minute: Int = 0) -> EventTime {
        let wall = day.dayNumber * 86_400 + Int64(hour * 3600 + minute * 60)
        // First guess with the offset of a few hours before (the earlier of two readings wins).
        var u = wall - Int64(offsetSeconds(at: EventTime(seconds: wall - 3 * 3600)))
        for _ in 0..<3 {
            let o = Int64(offsetSeconds(at: EventTime(seconds: u)))
            let next = wall - o
            if next == u { break }
            u = next
        }
        // Inside a gap: no instant has that wall time. Move to the transition.
        if u + Int64(offsetSeconds(at: EventTime(seconds: u))) != wall {
            var lo = u - 7200, hi = u + 7200
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if mid + Int64(offsetSeconds(at: EventTime(seconds: mid))) >= wall { hi = mid } else { lo = mid }
            }
            u = hi
        }
        return EventTime(seconds: u)
    }

    /// Local midnight at the start of a day, as an instant.
    public func startOfDay(_ day: LocalDate) -> EventTime { instant(of: day, hour: 0) }

    /// Length of a local day: 23 h on the March change day, 25 h in October.
    public func lengthOfDay(_ day: LocalDate) -> Duration { startOfDay(day.next) - startOfDay(day) }

    /// `HH:MM` local.
    public func clockText(_ t: EventTime) -> String {
        let local = t.seconds + Int64(offsetSeconds(at: t))
        var r = local % 86_400
        if r < 0 { r += 86_400 }
        return RFC3339.pad(r / 3600, 2) + ":" + RFC3339.pad((r / 60) % 60, 2)
    }
}
