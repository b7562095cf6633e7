import Testing
@testable import FlowCore

/// The sitrep's last four columns: whether the replay's data covers each local day from its
/// midnight to the next (`full`) or only part of it, and which part. A replay's first and last
/// days are usually part days, and their counts are not a whole day's.
@Suite struct SitrepCoverageTests {
    /// An ambulance arrival every 30 minutes from `from` up to `to`, each handed over 10 minutes
    /// later when that is not after `to`.
    static func conveyances(from: String, to: String) -> [String] {
        let start = RFC3339.parse(from)!, end = RFC3339.parse(to)!
        var lines: [String] = []
        var t = start, n = 0
        while t <= end {
            lines.append(ambLine("AAA", t, kind: "arrived", incident: "c\(n)"))
            if t + .minutes(10) <= end { lines.append(ambLine("AAA", t + .minutes(10), kind: "handover", incident: "c\(n)")) }
            t = t + .minutes(30)
            n += 1
        }
        return lines
    }

    /// The coverage cells of AAA's row for `date` (the columns after the eleven figures).
    static func coverage(_ rows: [String], _ date: String) -> String? {
        guard let row = rows.first(where: { $0.hasPrefix(date + ",AAA,") }) else { return nil }
        return row.split(separator: ",", omittingEmptySubsequences: false).dropFirst(11).joined(separator: ",")
    }

    @Test func theHeaderKeepsItsColumnsAndAddsTheCoverageAtTheEnd() {
        #expect(Sitrep.header == "date,site,ambulance_arrivals,handovers_30_60,handovers_over_60,handover_hours_lost,"
            + "ga_occupancy_0800_pct,escalation_beds_open_0800,dtoc_patients_0800,nhs111_offered,nhs111_answered_60s_pct,"
            + "coverage,covered_from,covered_to,covered_hours")
    }

    @Test func theFirstAndLastDaysOfAReplayArePartDays() {
        // 22:00 on the 12th to 02:00 on the 14th (GMT): two hours, a whole day, two hours.
        let (r, _) = replay(testConfig(), Self.conveyances(from: "2026-01-12T22:00:00Z", to: "2026-01-14T02:00:00Z"))
        let rows = r.sitrepRows
        #expect(rows.contains("2026-01-12,AAA,4,0,0,0,,,,,,part,2026-01-12T22:00:00+00:00,2026-01-13T00:00:00+00:00,2"), "\(rows)")
        #expect(rows.contains("2026-01-13,AAA,48,0,0,0,,,,,,full,2026-01-13T00:00:00+00:00,2026-01-14T00:00:00+00:00,24"), "\(rows)")
        #expect(rows.contains("2026-01-14,AAA,5,0,0,0,,,,,,part,2026-01-14T00:00:00+00:00,2026-01-14T02:00:00+00:00,2"), "\(rows)")
        // Every row says it, the other sites' too (111 has none here: no data, no row).
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 15 })
    }

    @Test func dataFromMidnightToMidnightIsAFullDayAndFourMinutesShortIsNot() {
        // From 00:00 exactly (as the Boxing Day scenario starts) to 23:56 of the next day.
        let (r, _) = replay(testConfig(), Self.conveyances(from: "2026-01-13T00:00:00Z", to: "2026-01-14T23:56:00Z"))
        #expect(Self.coverage(r.sitrepRows, "2026-01-13") == "full,2026-01-13T00:00:00+00:00,2026-01-14T00:00:00+00:00,24")
        #expect(Self.coverage(r.sitrepRows, "2026-01-14") == "part,2026-01-14T00:00:00+00:00,2026-01-14T23:40:00+00:00,23.67",
                "the data's latest event is the 23:30 arrival's handover, at 23:40")
    }

    @Test func theOctoberDayIs25HoursAndFullOnlyWhenAll25AreCovered() {
        // 23:00 BST on the 24th to 00:30 GMT on the 26th: the whole of the 25-hour day.
        let whole = replay(testConfig(), Self.conveyances(from: "2026-10-24T22:00:00Z", to: "2026-10-26T00:30:00Z")).0
        #expect(Self.coverage(whole.sitrepRows, "2026-10-25") == "full,2026-10-25T00:00:00+01:00,2026-10-26T00:00:00+00:00,25",
                "\(whole.sitrepRows)")
        #expect(whole.sitrepRows.first { $0.hasPrefix("2026-10-25,AAA,50,") } != nil, "50 arrivals, one each half hour of 25 hours")
        // Data from 00:30 BST: 24.5 hours of it, a part day although its clock reads 00:30 to 24:00.
        let late = replay(testConfig(), Self.conveyances(from: "2026-10-24T23:30:00Z", to: "2026-10-26T00:30:00Z")).0
        #expect(Self.coverage(late.sitrepRows, "2026-10-25") == "part,2026-10-25T00:30:00+01:00,2026-10-26T00:00:00+00:00,24.5")
    }

    @Test func theMarchDayIs23Hours() {
        // 23:00 GMT on the 28th to 00:30 BST on the 30th.
        let (r, _) = replay(testConfig(), Self.conveyances(from: "2026-03-28T23:00:00Z", to: "2026-03-29T23:30:00Z"))
        #expect(Self.coverage(r.sitrepRows, "2026-03-29") == "full,2026-03-29T00:00:00+00:00,2026-03-30T00:00:00+01:00,23",
                "\(r.sitrepRows)")
    }

    @Test func aDayTheDataDoesNotReachSaysNone() {
        let cal = LocalCalendar(identifier: "Europe/London")!
        let c = Sitrep.DayCoverage(day: LocalDate(year: 2026, month: 1, day: 11), first: RFC3339.parse("2026-01-12T22:00:00Z")!,
                                   last: RFC3339.parse("2026-01-13T02:00:00Z")!, calendar: cal)
        #expect(c.cells() == ["none", "", "", "0"])
    }
}
