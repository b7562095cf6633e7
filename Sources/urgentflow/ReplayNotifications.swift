import FlowCore
import FlowNotify
import FlowLive

/// Replay: the notification policy on the event clock.
enum ReplayNotifications {
    static func start(system: SystemConfig, text: String, path: String, directory: String, deliver: Bool) throws -> NotificationService {
        if let s = try Notifications.start(system: system, text: text, path: path, directory: directory, mode: deliver ? .live : .replay) {
            return s
        }
        throw CLIError("\(path) has no notifications: section")
    }
}
