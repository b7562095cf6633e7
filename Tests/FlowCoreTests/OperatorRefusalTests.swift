import Testing
@testable import FlowCore

/// `OperatorAction.refusal`: the dashboard's check of an acknowledgement or silence before it
/// sends one, which must refuse exactly what the engine refuses of the line.
@Suite struct OperatorRefusalTests {
    static let at = EventTime(millis: 1_767_600_000_000)

    static func ack(by: String = "Chris Adeyemi", note: String?) -> OperatorAction {
        OperatorAction(id: "ack-1", at: at, kind: .acknowledge(rule: "ga_occupancy", site: "AAA", by: by, note: note))
    }

    static func silence(by: String = "Chris Adeyemi", reason: String) -> OperatorAction {
        OperatorAction(id: "silence-1", at: at, kind: .silence(site: "AAA", rule: nil, until: at + .hours(2), by: by, reason: reason))
    }

    /// What the live engine makes of the action's line.
    static func engineRejection(_ a: OperatorAction) -> Rejection? {
        let engine = FlowEngine(config: testConfig(), mode: .live)
        if case .rejected(let r) = engine.ingest(a.jsonLine, receivedAt: at) { return r }
        return nil
    }

    @Test("an NHS number in a note, a name or a reason is refused before sending, as the engine refuses the line")
    func identifiableDataIsRefusedAsTheEngineRefusesIt() throws {
        for a in [Self.ack(note: "9434765919"), Self.ack(by: "9434765919", note: nil), Self.silence(reason: "9434765919")] {
            let r = try #require(a.refusal, "\(a.jsonLine)")
            #expect(r.reason == .identifiable)
            let engine = try #require(Self.engineRejection(a))
            #expect(engine.reason == r.reason && engine.field == r.field && engine.detail == r.detail)
        }
        #expect(Self.ack(note: "9434765919").refusal?.field == "note")
        #expect(Self.ack(by: "9434765919", note: nil).refusal?.field == "by")
        #expect(Self.silence(reason: "9434765919").refusal?.field == "reason")
    }

    @Test("an ordinary acknowledgement or silence passes, and the engine reads it as an operator action")
    func ordinaryActionsPass() {
        for a in [Self.ack(note: "ward 7 opening at 10:00"), Self.ack(note: nil), Self.silence(reason: "diverting to Watford")] {
            #expect(a.refusal == nil, "\(a.jsonLine)")
            let engine = FlowEngine(config: testConfig(), mode: .live)
            if case .operatorAction(let read, _) = engine.ingest(a.jsonLine, receivedAt: Self.at) {
                #expect(read == a)
            } else {
                Issue.record("the engine did not read \(a.jsonLine) as an operator action")
            }
        }
    }

    @Test("a refusal is said for the person who typed it: the field and why, without the advice to feed senders")
    func explainSaysWhichFieldAndWhy() throws {
        let r = try #require(Self.ack(note: "9434765919").refusal)
        let text = OperatorAction.explain(r)
        #expect(text.hasPrefix("the note looks patient-identifiable"))
        #expect(text.contains("NHS number"))
        #expect(!text.contains("feeds must carry"))
    }
}
