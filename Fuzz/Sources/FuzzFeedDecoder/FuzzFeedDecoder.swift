import FlowCore

/// Feeds arbitrary bytes to the engine as one feed line: decode, validate, apply, and a tick.
/// Any crash, hang or sanitizer report is a bug; every input must end as accepted or rejected.
nonisolated(unsafe) let engine = FlowEngine(config: SystemConfig(
    name: "Fuzz", timeZone: "Europe/London",
    units: [UnitConfig(code: "RWH", name: "Lister", kind: .acute, beds: 700, weight: 1),
            UnitConfig(code: "HCT", name: "Community", kind: .community),
            UnitConfig(code: "HUC", name: "111", kind: .nhs111),
            UnitConfig(code: "EEAST", name: "Ambulance", kind: .ambulance)],
    rules: [.threshold(ThresholdRule(id: "occ", metric: .gaOccupancyPct, units: ["acute"], direction: .above,
                                     levels: ThresholdLevels(warning: 92, critical: 95, clear: 90, criticalClear: nil))),
            .stale(StaleRule(id: "stale", feed: .bed, units: ["acute"], expected: .hours(2))),
            .trend(TrendRule(id: "trend", metric: .ambulanceQueue, units: ["acute"], direction: .above, threshold: 9,
                             window: .hours(1), horizon: .hours(2)))]))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeedDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let before = engine.acceptedTotal
    let outcome = engine.ingest(bytes)
    // A line held earlier (it jumped ahead of the latest event) may be applied by this one.
    let released = engine.takeHeldVerdict() == .accepted ? 1 : 0
    switch outcome {
    case .accepted:
        precondition(engine.acceptedTotal == before + 1 + released)
    case .rejected(let r):
        precondition(!r.description.isEmpty)
    case .operatorAction:
        break
    case .held:
        precondition(engine.acceptedTotal == before + released)
    }
    _ = engine.drainTransitions()
    _ = engine.snapshot()
    return 0
}

// SwiftPM links an executable target's entry point as `FuzzFeedDecoder_main`; hand it to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzFeedDecoder_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzFeedDecoder)
}
