// Why this file exists: the app closes the store and locks when it goes to the background. A
// sync already under way keeps its own reference to the store and should be allowed to finish
// its push and pull in the seconds iOS grants, rather than be frozen half-way.

import UIKit

/// Asks iOS for a little background time while some work finishes; `end()` gives it back.
@MainActor
final class BackgroundAllowance {
    private var identifier: UIBackgroundTaskIdentifier = .invalid

    /// Starts the allowance, named for the system's diagnostics (no personal data).
    init(name: String) {
        identifier = UIApplication.shared.beginBackgroundTask(withName: name) { [weak self] in
            MainActor.assumeIsolated { self?.end() }
        }
    }

    /// Ends the allowance (idempotent).
    func end() {
        guard identifier != .invalid else { return }
        UIApplication.shared.endBackgroundTask(identifier)
        identifier = .invalid
    }
}
