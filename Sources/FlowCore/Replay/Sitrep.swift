/// The daily sitrep figures per site per local day, as CSV.
///
/// Counting follows the national UEC sitrep: a handover delay belongs to the local day of the
/// ambulance's arrival; over 30 up to 60 minutes is `handovers_30_60`, over 60 is
/// `handovers_over_60`; hours lost is the time beyond 15 minutes per handover. Stock figures
/// (occupancy, escalation beds, DToC patients) are the 08:00 snapshot. An empty cell is
/// missing data, never zero.
///
/// The last four columns say how much of the day the replay's data covers (`DayCoverage`): the
/// first and last days of a replay are usually part days, and their counts are not a whole
/// day's.
public enum Sitrep {
    public static let header = "date,site,ambulance_arrivals,handovers_30_60,handovers_over_60,handover_hours_lost,"
        + "ga_occupancy_0800_pct,escalation_beds_open_0800,dtoc_patients_0800,nhs111_offered,nhs111_answered_60s_pct,"
        + "coverage,covered_from,covered_to,covered_hours"

    /// How much of a local day the replay's data covers: from its first accepted event to its
    /// latest (`first`...`last`), cut to the day's local midnights. The day is `full` only when
    /// the data reaches from its local midnight (or before) to the next local midnight (or
    /// after): 24 hours, 23 on the March clock change day, 25 in October. Otherwise `part`;
    /// `none` for a day the data does not reach at all.
    public struct DayCoverage: Sendable, Equatable {
        public enum Kind: String, Sendable { case full, part, none }
        public var kind: Kind
        /// The part of the day covered (nil for `none`); `to` is the next midnight for a day
        /// covered to its end.
        public var from: EventTime?
        public var to: EventTime?
        /// The local offsets from UTC, in seconds, at `from` and `to` (as the cells say them).
        var fromOffset = 0, toOffset = 0

        public init(day: LocalDate, first: EventTime, last: EventTime, calendar: LocalCalendar) {
            let start = calendar.startOfDay(day), end = calendar.startOfDay(day.next)
            let from = max(first, start), to = min(last, end)
            guard from <= to, last >= start, first < end else {
                kind = .none
                return
            }
            self.from = from
            self.to = to
            fromOffset = calendar.offsetSeconds(at: from)
            toOffset = calendar.offsetSeconds(at: to)
            kind = first <= start && last >= end ? .full : .part
        }

        /// Hours covered (`to` - `from`).
        public var hours: Double {
            guard let from, let to else { return 0 }
            return Double((to - from).millis) / 3_600_000
        }

        /// The four cells: `full,2026-01-13T00:00:00+00:00,2026-01-14T00:00:00+00:00,24`.
        /// Times are local, with their offset from UTC (unambiguous in the repeated hour of
        /// the October change).
        public func cells() -> [String] {
            func local(_ t: EventTime?, _ offset: Int) -> String {
                guard let t else { return "" }
                let s = RFC3339.format(t, offsetSeconds: offset)
                return offset == 0 ? String(s.dropLast()) + "+00:00" : s
            }
            return [kind.rawValue, local(from, fromOffset), local(to, toOffset), JSONText.number(hours)]
        }
    }

    /// One CSV row, or nil when the unit has no sitrep figures at all for that day. `coverage`:
    /// what of the day the replay's data covers (nil: not known, its cells left empty).
    public static func row(unit: UnitConfig, ledger l: DayLedger, coverage: DayCoverage? = nil) -> String? {
        let conveys = unit.kind == .acute || unit.kind == .urgentTreatment
        let beds = unit.kind == .acute || unit.kind == .community || unit.kind == .mentalHealth
        let is111 = unit.kind == .nhs111
        guard conveys || beds || is111 else { return nil }
        var cells: [String] = [l.date.description, unit.code]
        if conveys && l.conveyanceMessages > 0 {
            cells += [String(l.ambulanceArrivals), String(l.handovers30to60), String(l.handoversOver60),
                      JSONText.number(l.handoverHoursLost)]
        } else {
            cells += ["", "", "", ""]
        }
        if beds {
            cells += [l.gaOccupancyAt0800.map { JSONText.number($0) } ?? "",
                      l.escalationOpenAt0800.map(String.init) ?? "",
                      l.dtocPatientsAt0800.map(String.init) ?? ""]
        } else {
            cells += ["", "", ""]
        }
        if is111, l.nhs111Intervals > 0 {
            cells += [String(l.nhs111Offered), l.nhs111AnsweredWithin60sPct.map { JSONText.number($0) } ?? ""]
        } else {
            cells += ["", ""]
        }
        if cells.dropFirst(2).allSatisfy(\.isEmpty) { return nil }
        if let coverage {
            cells += coverage.cells()
        } else {
            cells += ["", "", "", ""]
        }
        return cells.joined(separator: ",")
    }

    /// Rows for completed days, sorted by date then unit order. `data`: the first and latest
    /// event times of the replay's data so far, for each day's coverage.
    public static func rows(config: SystemConfig, calendar: LocalCalendar, days: [(site: Int, ledger: DayLedger)],
                            data: (first: EventTime, last: EventTime)?) -> [String] {
        days.sorted { a, b in a.ledger.date != b.ledger.date ? a.ledger.date < b.ledger.date : a.site < b.site }
            .compactMap { d in
                let coverage = data.map { DayCoverage(day: d.ledger.date, first: $0.first, last: $0.last, calendar: calendar) }
                return row(unit: config.units[d.site], ledger: d.ledger, coverage: coverage)
            }
    }
}
