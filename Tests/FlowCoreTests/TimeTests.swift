import Foundation
import Testing
@testable import FlowCore

@Suite struct TimeTests {
    @Test func parsesRFC3339WithOffsetsAndFractions() {
        #expect(RFC3339.parse("2026-01-05T08:00:00Z")?.millis == 1_767_600_000_000)
        #expect(RFC3339.parse("2026-01-05T09:00:00+01:00") == RFC3339.parse("2026-01-05T08:00:00Z"))
        #expect(RFC3339.parse("2026-01-05T07:30:00-00:30") == RFC3339.parse("2026-01-05T08:00:00Z"))
        #expect(RFC3339.parse("2026-01-05T08:00:00.25Z")?.millis == 1_767_600_000_250)
        #expect(RFC3339.parse("2026-01-05t08:00:00z") == RFC3339.parse("2026-01-05T08:00:00Z"))
    }

    @Test(arguments: ["2026-01-05T08:00:00", "2026-02-30T08:00:00Z", "2026-13-01T08:00:00Z", "2026-01-05T24:00:00Z",
                      "2026-01-05 08:00Z", "yesterday", "2026-01-05T08:00:00+1:00", "2026-01-05T08:00:00.Z", ""])
    func rejectsBadTimes(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        let t = RFC3339.parse("2024-02-29T23:59:59.5Z")!
        #expect(RFC3339.format(t) == "2024-02-29T23:59:59.500Z")
        #expect(RFC3339.parse(RFC3339.format(t)) == t)
        #expect(RFC3339.format(t0, offsetSeconds: 3600) == "2026-01-13T01:00:00+01:00")
    }

    @Test func convertsToAndFromFoundationDates() {
        // Every millisecond of a stretch comes back as itself (the notifiers' delivery history
        // goes event time -> RFC 3339 -> Date -> event time).
        let base = RFC3339.parse("2026-01-20T09:06:40Z")!.millis
        for ms in stride(from: base - 5_000, through: base + 5_000, by: 1) {
            #expect(EventTime(Date(EventTime(millis: ms))).millis == ms)
        }
        // A date between two milliseconds is in the earlier one, as the wall clock reads.
        #expect(EventTime(Date(timeIntervalSince1970: 1_768_900_000.1239)).millis == 1_768_900_000_123)
        #expect(EventTime(Date(timeIntervalSince1970: 1_768_900_000.9999)).millis == 1_768_900_000_999)
        #expect(EventTime(Date(timeIntervalSince1970: -0.0005)).millis == -1)
        #expect(Date(EventTime(millis: 1_768_900_000_250)).timeIntervalSince1970 == 1_768_900_000.25)
    }

    @Test func parsesDurations() {
        #expect(Duration.parse("90s") == .seconds(90))
        #expect(Duration.parse("1h30m") == .minutes(90))
        #expect(Duration.parse("2d") == .hours(48))
        #expect(Duration.parse("250ms") == Duration(millis: 250))
        #expect(Duration.parse("15") == nil)
        #expect(Duration.parse("m") == nil)
        #expect(Duration.parse("1h30") == nil)
        #expect(Duration.minutes(90).description == "1h30m")
    }

    @Test func londonDaysAcrossTheClockChanges() {
        let cal = LocalCalendar(identifier: "Europe/London")!
        // 29 March 2026: clocks go forward at 01:00 GMT. 25 October 2026: back at 01:00 GMT.
        let march = LocalDate(year: 2026, month: 3, day: 29)
        let october = LocalDate(year: 2026, month: 10, day: 25)
        #expect(cal.lengthOfDay(march) == .hours(23))
        #expect(cal.lengthOfDay(october) == .hours(25))
        #expect(cal.lengthOfDay(LocalDate(year: 2026, month: 1, day: 13)) == .hours(24))
        // Local midnight in summer is 23:00 UTC the evening before.
        #expect(iso(cal.startOfDay(LocalDate(year: 2026, month: 7, day: 1))) == "2026-06-30T23:00:00Z")
        #expect(cal.localDate(of: RFC3339.parse("2026-06-30T23:30:00Z")!) == LocalDate(year: 2026, month: 7, day: 1))
        #expect(cal.localDate(of: RFC3339.parse("2026-12-31T23:30:00Z")!) == LocalDate(year: 2026, month: 12, day: 31))
        // 08:00 local on the change days.
        #expect(iso(cal.instant(of: march, hour: 8)) == "2026-03-29T07:00:00Z")
        #expect(iso(cal.instant(of: october, hour: 8)) == "2026-10-25T08:00:00Z")
        // 01:30 does not exist on the March day: it maps to the jump (01:00 GMT = 02:00 BST).
        #expect(iso(cal.instant(of: march, hour: 1, minute: 30)) == "2026-03-29T01:00:00Z")
        // 01:30 happens twice in October: the first (BST) is taken.
        #expect(iso(cal.instant(of: october, hour: 1, minute: 30)) == "2026-10-25T00:30:00Z")
    }

    /// The first tick of the grid at or after an instant (`FlowEngine.ceil`), before 1970 too:
    /// the least multiple of the step not before it.
    @Test func theNextTickIsTheLeastMultipleNotBefore() {
        var rng = SplitMix(seed: 11)
        for _ in 0..<2_000 {
            let step = Int64(1 + rng.next() % 3_600_000)
            let t = EventTime(millis: Int64(bitPattern: rng.next() % 8_000_000_000_000) - 4_000_000_000_000)
            let c = FlowEngine.ceil(t, step)
            #expect(c.millis >= t.millis && c.millis - t.millis < step && c.millis % step == 0, "\(t.millis) step \(step)")
            #expect(FlowEngine.ceil(c, step) == c)
        }
        #expect(FlowEngine.ceil(EventTime(millis: -1), 60_000).millis == 0)
        #expect(FlowEngine.ceil(EventTime(millis: -60_001), 60_000).millis == -60_000)
        #expect(FlowEngine.ceil(EventTime(millis: 60_001), 60_000).millis == 120_000)
    }
}
