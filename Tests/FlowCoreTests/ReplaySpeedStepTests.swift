import FlowCore
import Testing

/// `+` and `-` in a replay (the dashboard user test: ×10.5 on the header, x10 on the status
/// line, and ×300 never reached again after going down to ×1).
@Suite struct ReplaySpeedStepTests {
    static func player(speed: Double) -> ReplayPlayer {
        ReplayPlayer(config: testConfig(rules: []), name: "speed", lines: [], speed: speed)
    }

    @Test("down from the fastest and back up, every speed is a round step and ×300 comes round again")
    func roundStepsBothWays() {
        var p = Self.player(speed: 300)
        var seen: [Double] = []
        for _ in 0..<20 { p.faster() }
        #expect(p.speed == ReplayPlayer.maxSpeed)
        for _ in 0..<20 { p.slower(); seen.append(p.speed) }
        #expect(p.speed == ReplayPlayer.minSpeed)
        for _ in 0..<20 { p.faster(); seen.append(p.speed) }
        #expect(seen.allSatisfy { $0 == $0.rounded() && ReplayPlayer.speedSteps.contains($0) }, "\(seen)")
        #expect(seen.contains(300))
        #expect(seen.contains(10) && !seen.contains(10.546875))
    }

    @Test("a speed between steps goes to the step next to it")
    func betweenSteps() {
        var p = Self.player(speed: 100)
        p.faster()
        #expect(p.speed == 120)
        p = Self.player(speed: 100)
        p.slower()
        #expect(p.speed == 60)
    }
}
