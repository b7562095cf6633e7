import Testing
@testable import FlowCore

/// `check` of a system file names every mistake of its core sections at once, in file order:
/// a mistake in one rule does not hide the next field of that rule, nor the next rules or units.
@Suite struct ConfigProblemsTests {
    /// A resilience lead's winter edit with mistakes in a unit and in three rules, and a stray
    /// key at the end of the file.
    static let yaml = """
    system:
      name: Winter test
      timezone: Europe/London
    units:
      - code: AAA
        name: Alpha
        kind: acute
      - name: Beta
        kind: hospital
    rules:
      - id: occ
        kind: threshold
        metric: ga_occupancy
        units: [acute]
        warning: ninety
        critical: 92
      - id: feed
        kind: stale
        feed: beds
        units: [AAA]
        expected: 2h
        critical_after: 1h
      - kind: threshold
        metric: ga_occupancy_pct
        units: [acute]
        warning: 95
        critical: 92
        for: soon
    notes: winter levels agreed at the system call
    """

    /// A missing section has no line: said so, without a `?` (`c12.yaml:?: system: is
    /// required`, ops user test).
    @Test func aMissingSectionIsSaidWithoutAQuestionMark() {
        let read = ConfigLoader.read(yaml: "sytem:\n  name: x\nunits:\n  - { code: AAA, name: Alpha, kind: acute }\n", file: "c12.yaml")
        let said = read.problems.map(\.description)
        #expect(said.first == "c12.yaml: system: is required: the file has no system: section", "\(said)")
        #expect(!said.contains { $0.contains(":?:") }, "\(said)")
    }

    @Test("every problem, each with its line, key path and why, in file order")
    func everyProblemInFileOrder() {
        let read = ConfigLoader.read(yaml: Self.yaml, file: "winter.yaml")
        let expected = [
            "winter.yaml:8: units[1].code: is required",
            "winter.yaml:9: units[1].kind: 'hospital' is not one of acute, community, mental_health, urgent_treatment, nhs111, ambulance",
            "winter.yaml:13: rules[0].metric: 'ga_occupancy' is not a metric (see docs/configuration.md)",
            "winter.yaml:15: rules[0].warning: must be a number",
            "winter.yaml:19: rules[1].feed: 'beds' is not bed, dtoc, 111 or ambulance",
            "winter.yaml:22: rules[1].critical_after: must be longer than expected (2h)",
            "winter.yaml:23: rules[2].id: is required",
            "winter.yaml:27: rules[2].critical: critical 92.0 must be further above than warning 95.0",
            "winter.yaml:28: rules[2].for: 'soon' is not a duration (like 90s, 15m, 2h, 1h30m)",
            "winter.yaml:29: notes: unknown key (expected one of: ingest, leads, notifications, rules, system, units)",
        ]
        #expect(read.problems.map(\.description) == expected, "\(read.problems.map(\.description).joined(separator: "\n"))")
        // `load` throws the same list.
        do {
            _ = try ConfigLoader.load(yaml: Self.yaml, file: "winter.yaml")
            Issue.record("loaded a configuration with problems")
        } catch {
            #expect(error.problems.map(\.description) == expected)
            #expect(error.description == expected.joined(separator: "\n"))
        }
    }

    /// An override is the site's levels merged with its rule's: `warning: 98` under a rule with
    /// `critical: 95` passed `check`, and the site went straight to critical at 95.16
    /// (the analysts' user test). Its own levels alone are checked as the rule's are, once.
    @Test("an override is checked merged with its rule's levels, naming which are the rule's")
    func overridesAreCheckedMerged() {
        let yaml = """
        system: {name: T}
        units: [{code: AAA, name: A, kind: acute}, {code: BBB, name: B, kind: acute}, {code: HUC, name: H, kind: nhs111}]
        rules:
          - id: occ
            kind: threshold
            metric: ga_occupancy_pct
            units: [acute]
            warning: 92
            critical: 95
            clear: 90
            overrides:
              AAA: { warning: 98 }
              BBB: { warning: 98, critical: 97, clear: 99 }
          - id: answered
            kind: threshold
            metric: nhs111_answered_60s_pct
            units: [nhs111]
            direction: below
            warning: 70
            critical: 50
            clear: 75
            overrides:
              HUC: { clear: 60, critical: 45 }
        """
        let text = ConfigLoader.read(yaml: yaml, file: "o.yaml").problems.map(\.description)
        #expect(text == [
            "o.yaml:12: rules[0].overrides.AAA.critical: critical 95.0 (the rule's) must be further above than warning 98.0",
            "o.yaml:13: rules[0].overrides.BBB.critical: critical 97.0 must be further above than warning 98.0",
            "o.yaml:13: rules[0].overrides.BBB.clear: clear 99.0 must not be beyond the warning level 98.0 (hysteresis goes the other way)",
            "o.yaml:23: rules[1].overrides.HUC.clear: clear 60.0 must not be beyond the warning level 70.0 (the rule's) (hysteresis goes the other way)",
        ], "\(text.joined(separator: "\n"))")
    }

    /// A key given twice stopped the read at the parser: no line of its own, the whole file
    /// printed as its context, and every other problem hidden (the analysts' user test).
    @Test("a key given twice is named at its line, with the first's, and the rest of the file is still checked")
    func duplicateKeysAreNamedAndDoNotHideTheRest() {
        let yaml = """
        system:
          name: T
          timezone: Europe/Londn
        units:
          - code: AAA
            name: A
            name: B
            kind: acute
        rules:
          - id: occ
            kind: threshold
            metric: ga_occupancy_pct
            units: [AAA]
            warning: 92
            critical: 95
            critical:
              nested: 1
            for: soon
          - id: occ
            kind: threshold
            metric: ga_occupancy_pct
            units: [AAA]
            warning: 90
        """
        let text = ConfigLoader.read(yaml: yaml, file: "d.yaml").problems.map(\.description)
        #expect(text == [
            "d.yaml:3: system.timezone: 'Europe/Londn' is not a known time zone",
            "d.yaml:7: name: given twice in one mapping (first at line 6); a key may be given once",
            "d.yaml:16: critical: given twice in one mapping (first at line 15); a key may be given once",
            "d.yaml:18: rules[0].for: 'soon' is not a duration (like 90s, 15m, 2h, 1h30m)",
            "d.yaml:19: rules[1].id: 'occ' is used by another rule (at line 10)",
        ], "\(text.joined(separator: "\n"))")
        // In a flow mapping it cannot be left out by its line: named, alone.
        let flow = ConfigLoader.read(yaml: "system: {name: T, name: U}\n", file: "f.yaml").problems.map(\.description)
        #expect(flow == ["f.yaml:1: name: given more than once in one mapping (first at line 1); a key may be given once"], "\(flow)")
    }

    @Test("a problem that makes a later check meaningless stops that check only")
    func dependentChecksAreLeftOut() {
        let yaml = """
        system: {name: T}
        units: [{code: AAA, name: A, kind: acute}]
        rules:
          - {id: s, kind: stale, feed: bed, units: [AAA], critical_after: 1h}
          - {id: t, kind: trend, metric: nope, units: [AAA], threshold: 90, horizon: 2h, window: 5m}
          - {id: k, units: [AAA], warning: 3}
        """
        let text = ConfigLoader.read(yaml: yaml, file: "t.yaml").problems.map(\.description)
        #expect(text == [
            "t.yaml:4: rules[0].expected: is required (a duration like 30m, 2h)",
            "t.yaml:5: rules[1].metric: 'nope' is not a metric (see docs/configuration.md)",
            "t.yaml:5: rules[1].window: must be at least 15m to fit a trend",
            "t.yaml:6: rules[2].kind: is required",
        ], "\(text.joined(separator: "\n"))")
    }

    @Test func aGoodFileHasNoProblems() throws {
        let good = Self.yaml.replacingOccurrences(of: "  - name: Beta\n    kind: hospital\n", with: "")
            .replacingOccurrences(of: "metric: ga_occupancy\n", with: "metric: ga_occupancy_pct\n")
            .replacingOccurrences(of: "warning: ninety", with: "warning: 90")
            .replacingOccurrences(of: "feed: beds", with: "feed: bed")
            .replacingOccurrences(of: "critical_after: 1h", with: "critical_after: 4h")
            .replacingOccurrences(of: "  - kind: threshold\n    metric: ga_occupancy_pct\n", with: "  - id: occ2\n    kind: threshold\n    metric: ga_occupancy_pct\n")
            .replacingOccurrences(of: "critical: 92\n    for: soon", with: "critical: 98\n    for: 30m")
            .replacingOccurrences(of: "\nnotes: winter levels agreed at the system call", with: "")
        let read = ConfigLoader.read(yaml: good, file: "winter.yaml")
        #expect(read.problems.isEmpty, "\(read.problems.map(\.description).joined(separator: "\n"))")
        #expect(read.config.rules.map(\.id) == ["occ", "feed", "occ2"])
    }
}
