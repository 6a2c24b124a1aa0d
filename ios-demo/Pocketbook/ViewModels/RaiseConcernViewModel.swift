// Why this file exists: raising a safeguarding concern is the most consequential form in the
// app: the account, the child's own words and the THRIVE assessment become immutable once
// submitted (corrections are dated addenda). The form autosaves encrypted, says plainly what
// is still missing, and submits once the officer confirms.

import Foundation
import Observation

/// The raise-concern form.
@MainActor
@Observable
final class RaiseConcernViewModel {
    /// What the officer has entered.
    var form = ConcernForm()
    private(set) var isSaving = false
    private(set) var errorMessage: String? = nil
    private(set) var draftState: DraftState = .idle
    /// Whether the form was filled from a saved draft.
    private(set) var restoredDraft = false

    let notebook: OpenNotebook
    private let autosaver: DraftAutosaver
    @ObservationIgnored private var edited = false
    /// Set when the form is replaced in code, so that change is not taken for typing.
    @ObservationIgnored private var ignoreNextChange = false

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        autosaver = DraftAutosaver(vault: notebook.drafts, slot: .concern)
        autosaver.onStateChange = { [weak self] state in self?.draftState = state }
    }

    /// Fills the form from the saved draft, unless the officer has started typing.
    func restoreDraft() async {
        guard !edited, let saved = await autosaver.restore(ConcernForm.self), !edited else { return }
        replaceForm(with: saved)
        restoredDraft = true
        draftState = .saved
    }

    /// The form changed (the view calls this from `onChange(of: form)`).
    func formChanged() {
        if ignoreNextChange {
            ignoreNextChange = false
            return
        }
        edited = true
        notebook.noteActivity()
        autosaver.schedule(form)
    }

    /// What is still missing before the core will take it.
    var missing: [String] {
        var missing: [String] = []
        if form.youngPeople.isEmpty { missing.append("Choose the young person (or people) involved.") }
        if form.account.trimmed.isEmpty { missing.append("Write the account of what happened.") }
        if form.risk == nil { missing.append("Choose a risk level.") }
        let rationales = form.thrive.missingRationales
        if rationales > 0 {
            missing.append("Give a rationale for every THRIVE element (\(rationales) missing).")
        }
        if form.happenedAt > Date().addingTimeInterval(5 * 60) { missing.append("It cannot have happened in the future.") }
        return missing
    }

    var canSubmit: Bool { !isSaving && missing.isEmpty }

    /// Raises the concern; true when it was written (the draft is then deleted).
    func submit() async -> Bool {
        guard canSubmit else { return false }
        isSaving = true
        errorMessage = nil
        defer { isSaving = false }
        let draft = form.draft()
        autosaver.cancelPending()
        do {
            _ = try await notebook.call { try $0.raiseConcern(draft: draft) }
            await autosaver.discard()
            return true
        } catch {
            errorMessage = notebook.describe(error)
            autosaver.schedule(form)
            return false
        }
    }

    /// Deletes the draft and starts again.
    func discardDraft() async {
        await autosaver.discard()
        replaceForm(with: ConcernForm())
        restoredDraft = false
        edited = false
    }

    private func replaceForm(with new: ConcernForm) {
        guard new != form else { return }
        ignoreNextChange = true
        form = new
    }
}
