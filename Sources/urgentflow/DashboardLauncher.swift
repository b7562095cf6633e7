import FlowCore

/// Opens the dashboard on a scenario. (Wired to FlowTerminal once the terminal UI lands.)
enum DashboardLauncher {
    static func run(config: SystemConfig, scenarioPath: String, speed: Double, plain: Bool, noColor: Bool, theme: String) throws {
        throw CLIError("the dashboard is not wired yet; use --headless")
    }
}
