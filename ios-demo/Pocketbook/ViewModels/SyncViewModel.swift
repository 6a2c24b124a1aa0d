// Why this file exists: back at the station the officer syncs with one tap and watches it
// happen. This is the sync screen's state: where sync stands (pending changes, open conflicts,
// refused changes, lease), the async sync itself with its progress from the core's observer,
// and what the last sync did.

import Foundation
import Observation

/// The sync screen.
@MainActor
@Observable
final class SyncViewModel {
    private(set) var status: SyncStatus? = nil
    private(set) var lastReport: SyncReport? = nil
    private(set) var isSyncing = false
    private(set) var errorMessage: String? = nil

    let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
    }

    /// The running sync's progress, from the core's observer.
    var progress: SyncProgress? { notebook.progress }

    /// The officer's session (name, role, device).
    var session: Session? { notebook.session }

    /// Reads where sync stands.
    func reload() async {
        do {
            status = try await notebook.call { try $0.syncStatus() }
        } catch {
            errorMessage = notebook.describe(error)
        }
    }

    /// Pushes, then pulls. Keeps a little background time so a sync under way can finish if
    /// the officer leaves the app (which locks it).
    func sync() async {
        guard !isSyncing else { return }
        isSyncing = true
        errorMessage = nil
        let allowance = BackgroundAllowance(name: "Pocketbook sync")
        defer {
            allowance.end()
            isSyncing = false
        }
        do {
            lastReport = try await notebook.sync()
        } catch {
            errorMessage = notebook.describe(error)
        }
        await reload()
    }
}
