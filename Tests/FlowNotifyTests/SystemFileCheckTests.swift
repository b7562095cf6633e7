import Testing
@testable import FlowCore
@testable import FlowNotify

/// `urgentflow check` of a system file, and the refusal at the start of `run` and `replay`:
/// every problem of the file, its core sections and its `notifications:` section alike, in file
/// order (`NotifyConfigLoader.check`).
@Suite struct SystemFileCheckTests {
    static let yaml = """
    system:
      name: Winter test
    units:
      - code: AAA
        name: Alpha
        kind: acute
    leads:
      - id: site-lead
        role: Site manager
        name: A Lead
        units: [AAA]
    rules:
      - id: occ
        kind: threshold
        metric: ga_occupancy
        units: [acute]
        warning: 92
    notifications:
      rotas:
        - id: r
          units: [acute]
          shifts:
            - from: "08:00"
              to: "20:00"
              leads: [site-laed]
      routes:
        - notifier: pager
          rules: [occ]
    """

    @Test("the core's and the notifications section's problems are named together, in file order")
    func everyProblemOfTheFileInFileOrder() {
        let checked = NotifyConfigLoader.check(yaml: Self.yaml, file: "w.yaml")
        #expect(checked.system == nil && checked.notifications == nil)
        #expect(checked.problems.map(\.description) == [
            "w.yaml:15: rules[0].metric: 'ga_occupancy' is not a metric (see docs/configuration.md)",
            "w.yaml:25: notifications.rotas[0].shifts[0].leads: 'site-laed' is not a lead id (leads: site-lead)",
            "w.yaml:27: notifications.routes[0].notifier: 'pager' is not a notifier name",
        ], "\(checked.problems.map(\.description).joined(separator: "\n"))")
    }

    @Test func aGoodFileGivesBothConfigurations() throws {
        let good = Self.yaml.replacingOccurrences(of: "metric: ga_occupancy\n", with: "metric: ga_occupancy_pct\n")
            .replacingOccurrences(of: "site-laed", with: "site-lead")
            .replacingOccurrences(of: "  routes:\n    - notifier: pager\n      rules: [occ]", with: "")
        let checked = NotifyConfigLoader.check(yaml: good, file: "w.yaml")
        #expect(checked.problems.isEmpty, "\(checked.problems)")
        #expect(checked.system?.rules.count == 1 && checked.notifications?.rotas.count == 1)
    }

    @Test func invalidYAMLIsOneProblem() {
        let checked = NotifyConfigLoader.check(yaml: "system:\n  name: [unclosed\n", file: "w.yaml")
        #expect(checked.problems.count == 1 && checked.problems.first?.key == "(document)", "\(checked.problems)")
    }
}
