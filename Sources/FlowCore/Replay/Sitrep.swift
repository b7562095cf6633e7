/// The daily sitrep figures per site per local day, as CSV.
///
/// Counting follows the national UEC sitrep: a handover delay belongs to the local day of the
/// ambulance's arrival; over 30 up to 60 minutes is `handovers_30_60`, over 60 is
/// `handovers_over_60`; hours lost is the time beyond 15 minutes per handover. Stock figures
/// (occupancy, escalation beds, DToC patients) are the 08:00 snapshot. An empty cell is
/// missing data, never zero.
public enum Sitrep {
    public static let header = "date,site,ambulance_arrivals,handovers_30_60,handovers_over_60,handover_hours_lost,"
        + "ga_occupancy_0800_pct,escalation_beds_open_0800,dtoc_patients_0800,nhs111_offered,nhs111_answered_60s_pct"

    /// One CSV row, or nil when the unit has no sitrep figures at all for that day.
    public static func row(unit: UnitConfig, ledger l: DayLedger) -> String? {
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
        return cells.joined(separator: ",")
    }

    /// Rows for completed days, sorted by date then unit order.
    public static func rows(config: SystemConfig, days: [(site: Int, ledger: DayLedger)]) -> [String] {
        days.sorted { a, b in a.ledger.date != b.ledger.date ? a.ledger.date < b.ledger.date : a.site < b.site }
            .compactMap { row(unit: config.units[$0.site], ledger: $0.ledger) }
    }
}
