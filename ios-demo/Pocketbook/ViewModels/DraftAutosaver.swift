// Why this file exists: both long forms (record visit, raise concern) autosave the same way —
// shortly after the officer stops typing, sealed into the DraftVault, never in plaintext — and
// both show the same "draft saved" line. This is that shared behaviour for their view models.

import Foundation

/// Where a form's autosave stands.
enum DraftState: Equatable, Sendable {
    /// Nothing saved (a fresh form, or the draft was submitted or discarded).
    case idle
    /// A save is scheduled or running.
    case saving
    /// The latest edits are sealed on the device.
    case saved
    /// The last save failed (the form itself is untouched).
    case failed

    /// The status line under a form.
    var label: String {
        switch self {
        case .idle: ""
        case .saving: "Saving draft…"
        case .saved: "Draft saved on this device, encrypted."
        case .failed: "The draft could not be saved."
        }
    }
}

/// Debounced, encrypted autosave of one form into one DraftVault slot.
@MainActor
final class DraftAutosaver {
    /// How long after the last edit the draft is written.
    private static let pause: Duration = .milliseconds(700)

    /// Told whenever the state changes (the view model mirrors it for the view).
    var onStateChange: ((DraftState) -> Void)?

    private let vault: DraftVault
    private let slot: DraftVault.Slot
    private var pending: Task<Void, Never>?

    init(vault: DraftVault, slot: DraftVault.Slot) {
        self.vault = vault
        self.slot = slot
    }

    /// The saved draft, if there is one.
    func restore<Form: Codable & Sendable>(_ type: Form.Type) async -> Form? {
        await vault.load(type, from: slot)
    }

    /// Saves `form` once the officer pauses; a later call replaces an earlier pending one.
    func schedule<Form: Codable & Sendable>(_ form: Form) {
        pending?.cancel()
        onStateChange?(.saving)
        let vault = self.vault, slot = self.slot
        pending = Task { [weak self] in
            do {
                try await Task.sleep(for: DraftAutosaver.pause)
            } catch {
                return // cancelled by a newer edit
            }
            // Cancelled after the pause but before this resumed (discarded, submitted).
            guard !Task.isCancelled else { return }
            do {
                try await vault.save(form, in: slot)
                guard !Task.isCancelled else { return }
                self?.onStateChange?(.saved)
            } catch {
                self?.onStateChange?(.failed)
            }
        }
    }

    /// Cancels any pending save and deletes the draft (after submitting or discarding).
    func discard() async {
        pending?.cancel()
        pending = nil
        await vault.discard(slot)
        onStateChange?(.idle)
    }

    /// Cancels any pending save, keeping what is already saved.
    func cancelPending() {
        pending?.cancel()
        pending = nil
    }
}
