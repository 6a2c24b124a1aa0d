// Why this file exists: every screen needs the same few things from the unlocked store: run a
// store call off the main thread, run a sync, hear about changed data and sync progress, and
// turn an error into a message (while letting the app react when the device is revoked or its
// lease has run out). OpenNotebook is that shared object; it lives only while the app is
// unlocked, and dropping it closes the store.

import Foundation
import Observation

/// Why the app must leave the notebook screens.
enum AccessLoss: Sendable {
    /// The server revoked the device; the core has erased the store.
    case revoked
    /// The lease ran out: reauthenticate with a new code.
    case leaseExpired
    /// No officer session (yet, or any more): enrol.
    case notEnrolled
}

/// Where a running sync has got to.
struct SyncProgress: Equatable, Sendable {
    /// The half of the sync running (as the core reports it), or nil before the first report.
    var phase: SyncPhase?
    /// Items of this phase done so far.
    var done: UInt64
    /// Items of this phase known so far (grows as the server reports more to pull).
    var total: UInt64

    /// What the progress line says.
    var label: String {
        switch phase {
        case .some(.push): "Sending changes…"
        case .some(.pull): "Receiving changes…"
        case .none: "Connecting…"
        }
    }

    /// Done as a fraction, or nil while the total is unknown.
    var fraction: Double? {
        total == 0 ? nil : min(1, Double(done) / Double(total))
    }
}

/// The unlocked notebook as the screens see it.
@MainActor
@Observable
final class OpenNotebook {
    /// The store behind its background queue.
    let store: StoreGateway
    /// Encrypted autosave for the forms.
    let drafts: DraftVault
    /// The officer's session, once enrolled.
    private(set) var session: Session? = nil
    /// Bumped whenever the core reports changed data; lists reload on it with `.task(id:)`.
    private(set) var revision = 0
    /// The running sync's progress, or nil when none is running.
    private(set) var progress: SyncProgress? = nil

    /// Set by the app: the notebook can no longer be used as it is.
    @ObservationIgnored var onAccessLost: ((AccessLoss) -> Void)? = nil
    /// Set by the app: the officer did something (typing in a form counts).
    @ObservationIgnored var onActivity: (() -> Void)? = nil

    @ObservationIgnored private var observation: ObserverHandle? = nil

    init(opened: OpenedStore) {
        store = StoreGateway(book: opened.book)
        drafts = DraftVault(directory: opened.draftsDirectory, key: opened.draftKey)
        let observer = CoreEventObserver { [weak self] event in
            Task { @MainActor in self?.apply(event) }
        }
        observation = opened.book.observe(observer: observer)
    }

    /// Stops listening to the core; call before dropping the notebook.
    func close() {
        observation?.stop()
        observation = nil
        onAccessLost = nil
        onActivity = nil
    }

    /// Runs a store call off the main thread.
    func call<T: Sendable>(_ body: @escaping @Sendable (Pocketbook) throws -> T) async throws -> T {
        try await store.run(body)
    }

    /// Reads the session again (after enrolment or a sync).
    func refreshSession() async throws {
        session = try await call { try $0.session() }
    }

    /// Enrols this device with a server using a one-time code.
    func enroll(serverURL: String, code: String) async throws {
        session = try await store.book.enroll(serverUrl: serverURL, code: code)
    }

    /// Enrols again with the same server after the lease ran out, keeping unsynced work.
    func reauthenticate(code: String) async throws {
        session = try await store.book.reauthenticate(code: code)
    }

    /// Pushes pending changes, then pulls. Progress arrives through the observer.
    func sync() async throws -> SyncReport {
        progress = SyncProgress(phase: nil, done: 0, total: 0)
        defer { progress = nil }
        let report = try await store.book.sync()
        try? await refreshSession()
        return report
    }

    /// Notes activity (for the inactivity lock).
    func noteActivity() {
        onActivity?()
    }

    /// A message for the officer; tells the app when the error means the notebook cannot be
    /// used as it is (revoked, lease expired, not enrolled).
    func describe(_ error: Error) -> String {
        guard let error = error as? PocketbookError else {
            return "Something went wrong. Your work is safe on this device; try again."
        }
        switch error {
        case .DeviceRevoked: onAccessLost?(.revoked)
        case .LeaseExpired: onAccessLost?(.leaseExpired)
        case .NotEnrolled: onAccessLost?(.notEnrolled)
        default: break
        }
        return error.userMessage
    }

    private func apply(_ event: CoreEvent) {
        switch event {
        case .dataChanged:
            revision &+= 1
        case let .syncProgress(phase, done, total):
            // Only while a sync started here is running; a late report must not resurrect it.
            if progress != nil {
                progress = SyncProgress(phase: phase, done: done, total: total)
            }
        }
    }
}
