// Why this file exists: the core reports changed data and sync progress through the foreign
// trait `PocketbookObserver` (generated Swift protocol). This is the app's implementation: it
// turns each callback into a `CoreEvent` and hands it on; it never touches the UI itself,
// because the core calls it on whatever thread made the change (after the change is saved).

import Foundation

/// What the core told the app.
enum CoreEvent: Sendable {
    /// Records changed: on this device (`.local`), by a sync or enrolment (`.synced`), or
    /// shown again after a new code (`.reauthenticated`).
    case dataChanged(DataChange)
    /// A sync made progress: `done` of `total` items of `phase` (`.push`, then `.pull`).
    case syncProgress(phase: SyncPhase, done: UInt64, total: UInt64)
}

/// The app's `PocketbookObserver`: forwards every callback to `deliver`.
///
/// Holds no reference to the UI: `deliver` should capture its receiver weakly, because the core
/// keeps this observer alive until the `ObserverHandle` returned by `observe` is dropped.
final class CoreEventObserver: PocketbookObserver {
    private let deliver: @Sendable (CoreEvent) -> Void

    /// Makes an observer that hands every event to `deliver` (on the core's thread).
    init(deliver: @escaping @Sendable (CoreEvent) -> Void) {
        self.deliver = deliver
    }

    func dataChanged(change: DataChange) {
        deliver(.dataChanged(change))
    }

    func syncProgress(phase: SyncPhase, done: UInt64, total: UInt64) {
        deliver(.syncProgress(phase: phase, done: done, total: total))
    }
}
