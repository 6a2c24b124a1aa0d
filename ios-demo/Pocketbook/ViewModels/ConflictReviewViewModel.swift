// Why this file exists: when two officers changed the same field offline, the server kept one
// value and made the other a conflict. A person must look at each: keep what the server kept,
// or put the losing value back. The choice is a local change, sent at the next sync.

import Foundation
import Observation

/// The conflict review screen.
@MainActor
@Observable
final class ConflictReviewViewModel {
    private(set) var conflicts: [Conflict] = []
    private(set) var hasLoaded = false
    /// The conflict being resolved, if any (its buttons are disabled meanwhile).
    private(set) var resolving: String? = nil
    private(set) var errorMessage: String? = nil

    private let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
    }

    /// Reads the open conflicts.
    func reload() async {
        do {
            conflicts = try await notebook.call { try $0.conflicts() }
            errorMessage = nil
        } catch {
            errorMessage = notebook.describe(error)
        }
        hasLoaded = true
    }

    /// Resolves one conflict, then reads the list again.
    func resolve(_ conflict: Conflict, choice: ConflictChoice) async {
        guard resolving == nil else { return }
        resolving = conflict.id
        defer { resolving = nil }
        let id = conflict.id
        do {
            try await notebook.call { try $0.resolveConflict(id: id, choice: choice) }
        } catch {
            errorMessage = notebook.describe(error)
        }
        await reload()
    }

    /// "Visit · narrative"
    func title(of conflict: Conflict) -> String {
        "\(conflict.entity.label) · \(FieldName.label(for: conflict.field))"
    }
}
