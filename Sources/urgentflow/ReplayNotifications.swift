import FlowCore
import FlowNotify

/// Notifications during a replay: the system file's `notifications:` section, with recording
/// sinks standing in for every notifier unless delivery is explicitly asked for.
enum ReplayNotifications {
    static func start(system: SystemConfig, text: String, path: String, directory: String, deliver: Bool) throws -> NotificationService {
        let config: NotificationConfig
        do { config = try NotifyConfigLoader.load(yaml: text, file: path, system: system) } catch {
            throw CLIError("notifications configuration has problems:\n\(error)")
        }
        do {
            return try NotificationService(system: system, config: config, stateDirectory: directory, mode: deliver ? .live : .replay)
        } catch {
            throw CLIError("cannot open the notification state in \(directory): \(error)")
        }
    }
}
