import Foundation

/// Between the event clock (whole milliseconds since the epoch) and Foundation's `Date` (a
/// `Double` of seconds), which the notifiers' wall clock and the CLI use: one conversion, one
/// rounding, everywhere.
extension EventTime {
    /// The millisecond the date falls in (floored, as `WallClock.now` reads the clock). The
    /// seconds are first rounded to the microsecond, so that a binary error in a `Date` made from
    /// an event time (`Date(_:)`) cannot floor it into the millisecond before (none was found
    /// over 100,000 consecutive milliseconds of 2026, but the places this replaces disagreed on
    /// it: two floored, one rounded).
    public init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        self.init(millis: Int64((micros / 1000).rounded(.down)))
    }
}

extension Date {
    /// The instant of an event time.
    public init(_ t: EventTime) {
        self.init(timeIntervalSince1970: Double(t.millis) / 1000)
    }
}
