// Why this file exists: a police notebook must not stay open on a phone left on a desk. The
// app lock asks the device owner to authenticate (Face ID, Touch ID or the device passcode)
// before the store is opened, and fires a timeout after a spell without use so the app can
// close the store and lock again.

import Foundation
import LocalAuthentication

/// Why unlocking failed.
enum AppLockError: Error, Equatable {
    /// The officer cancelled the prompt.
    case cancelled
    /// The device has no passcode, so its data protection is worthless: refuse to open.
    case noPasscode
    /// Authentication failed.
    case failed
}

/// Device-owner authentication and the inactivity timer.
@MainActor
final class AppLock {
    /// How long without a touch or keystroke before the app locks itself.
    static let inactivityTimeout: Duration = .seconds(5 * 60)
    /// How often the timer looks.
    private static let checkInterval: Duration = .seconds(10)

    /// Called once when the inactivity timeout passes; the watch then stops.
    var onTimeout: (() -> Void)?

    private var lastActivity = ContinuousClock.now
    private var watch: Task<Void, Never>?

    /// Asks for Face ID / Touch ID, falling back to the device passcode.
    func authenticate() async throws {
        let context = LAContext()
        context.localizedCancelTitle = "Cancel"
        var unavailable: NSError?
        guard context.canEvaluatePolicy(.deviceOwnerAuthentication, error: &unavailable) else {
            #if targetEnvironment(simulator)
            // Simulators usually have neither a passcode nor enrolled biometrics: let the demo run.
            return
            #else
            throw AppLockError.noPasscode
            #endif
        }
        do {
            let passed = try await context.evaluatePolicy(
                .deviceOwnerAuthentication,
                localizedReason: "Unlock your pocket notebook"
            )
            guard passed else { throw AppLockError.failed }
        } catch let error as LAError {
            switch error.code {
            case .userCancel, .appCancel, .systemCancel:
                throw AppLockError.cancelled
            case .passcodeNotSet:
                throw AppLockError.noPasscode
            default:
                throw AppLockError.failed
            }
        }
    }

    /// Starts (or restarts) watching for inactivity.
    func startWatching() {
        watch?.cancel()
        lastActivity = .now
        watch = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: AppLock.checkInterval)
                guard let self, !Task.isCancelled else { return }
                if ContinuousClock.now - self.lastActivity >= AppLock.inactivityTimeout {
                    self.stopWatching()
                    self.onTimeout?()
                    return
                }
            }
        }
    }

    /// Stops watching (the app is locked).
    func stopWatching() {
        watch?.cancel()
        watch = nil
    }

    /// Records that the officer did something.
    func noteActivity() {
        lastActivity = .now
    }
}
