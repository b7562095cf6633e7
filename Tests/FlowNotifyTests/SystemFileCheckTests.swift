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

    /// A pager command or a webhook reaches a lead by its contact: `check` passed a lead with
    /// none, or an empty one, and its critical pages went out with no contact; and a unit no
    /// lead covers without a word (the ops engineer's user test, 2026-11-25).
    @Test("a lead with no contact is refused where a command or webhook notifier reaches leads; an empty one always; a unit no lead covers is warned of")
    func contactsAndUncoveredUnits() throws {
        let good = Self.yaml.replacingOccurrences(of: "metric: ga_occupancy\n", with: "metric: ga_occupancy_pct\n")
            .replacingOccurrences(of: "site-laed", with: "site-lead")
        let notifiers = "\n  notifiers:\n    - name: pager\n      kind: command\n      command: [/bin/true]\n"
        let missing = NotifyConfigLoader.check(yaml: good + notifiers, file: "w.yaml")
        #expect(missing.problems.map(\.description) == ["w.yaml:8: leads[0].contact: is required: notifier pager reaches A Lead by it"],
                "\(missing.problems.map(\.description))")
        let withContact = good.replacingOccurrences(of: "    name: A Lead\n", with: "    name: A Lead\n    contact: \"+44 7700 900100\"\n")
        #expect(NotifyConfigLoader.check(yaml: withContact + notifiers, file: "w.yaml").problems.isEmpty)
        // A log notifier needs no contact; an empty one is refused all the same.
        let log = "\n  notifiers:\n    - name: pager\n      kind: log\n      path: n.log\n"
        #expect(NotifyConfigLoader.check(yaml: good + log, file: "w.yaml").problems.isEmpty)
        let empty = good.replacingOccurrences(of: "    name: A Lead\n", with: "    name: A Lead\n    contact: \" \"\n")
        #expect(NotifyConfigLoader.check(yaml: empty + log, file: "w.yaml").problems.map(\.description)
                == ["w.yaml:11: leads[0].contact: is empty: give how A Lead is reached (a telephone number, an address)"])

        // A second unit with no lead: said for the severities left uncovered.
        let uncovered = withContact.replacingOccurrences(of: "    kind: acute\nleads:", with: "    kind: acute\n  - code: BBB\n    name: Beta\n    kind: acute\nleads:")
            + notifiers + "  escalation:\n    finally: [site-lead]\n"
        let checked = NotifyConfigLoader.check(yaml: uncovered, file: "w.yaml")
        let (system, notifications) = (try #require(checked.system), try #require(checked.notifications, "\(checked.problems)"))
        #expect(system.unitsWithoutLead.map(\.code) == ["BBB"])
        #expect(notifications.unitsWithoutLeadWarnings(system: system) == [
            "no lead in leads: covers BBB for warning and critical alerts: its alert transitions name no lead; "
                + "where no rota covers it, only site-lead (escalation.finally) is notified"])
    }
}
