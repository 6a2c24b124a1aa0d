// Why this file exists: recording a visit is the officer's most frequent task and often done
// in a doorway with no signal. The form autosaves (encrypted) as the officer types, comes back
// after the app locks, and becomes one `recordVisit` call that the core validates.

import Foundation
import Observation

/// The record-visit form.
@MainActor
@Observable
final class RecordVisitViewModel {
    /// What the officer has entered.
    var form = VisitForm()
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
        autosaver = DraftAutosaver(vault: notebook.drafts, slot: .visit)
        autosaver.onStateChange = { [weak self] state in self?.draftState = state }
    }

    /// Fills the form from the saved draft, unless the officer has started typing.
    func restoreDraft() async {
        guard !edited, let saved = await autosaver.restore(VisitForm.self), !edited else { return }
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
        if form.youngPeople.isEmpty { missing.append("Choose at least one young person.") }
        if form.place.trimmed.isEmpty { missing.append("Say where the visit took place.") }
        if form.narrative.trimmed.isEmpty { missing.append("Write what happened.") }
        if form.end < form.start { missing.append("The end is before the start.") }
        return missing
    }

    var canSave: Bool { !isSaving && missing.isEmpty }

    /// Records the visit; true when it was written (the draft is then deleted).
    func save() async -> Bool {
        guard canSave else { return false }
        isSaving = true
        errorMessage = nil
        defer { isSaving = false }
        let draft = form.draft()
        autosaver.cancelPending()
        do {
            _ = try await notebook.call { try $0.recordVisit(draft: draft) }
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
        replaceForm(with: VisitForm())
        restoredDraft = false
        edited = false
    }

    private func replaceForm(with new: VisitForm) {
        guard new != form else { return }
        ignoreNextChange = true
        form = new
    }
}
