// Why this file exists: a visit or concern may be about a child the device does not know yet.
// This is the short form that adds one: names, a date of birth or (when unknown) an age band,
// the school from the reference data, a year group and vulnerability flags.

import Foundation
import Observation

/// The add-young-person form.
@MainActor
@Observable
final class AddYoungPersonViewModel {
    var firstName = ""
    var lastName = ""
    var knowsDateOfBirth = true
    var dateOfBirth = Calendar.current.date(byAdding: .year, value: -12, to: Date()) ?? Date()
    var ageBand: AgeBand = .from11To13
    var establishmentId: Uuid? = nil
    var hasYearGroup = false
    /// 0 is reception, up to 14.
    var yearGroup = 7
    var flags: Set<VulnerabilityFlag> = []

    private(set) var establishments: [Establishment] = []
    private(set) var isSaving = false
    private(set) var errorMessage: String? = nil

    let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
    }

    /// Loads the schools for the picker.
    func load() async {
        do {
            establishments = try await notebook.call { try $0.establishments() }
        } catch {
            errorMessage = notebook.describe(error)
        }
    }

    var canSave: Bool {
        !isSaving && !firstName.trimmed.isEmpty && !lastName.trimmed.isEmpty
    }

    /// Adds the young person; returns them for the form that asked, or nil on failure.
    func save() async -> PersonRef? {
        guard canSave else { return nil }
        isSaving = true
        errorMessage = nil
        defer { isSaving = false }
        let draft = YoungPersonDraft(
            firstName: firstName.trimmed,
            lastName: lastName.trimmed,
            dateOfBirth: knowsDateOfBirth ? CalendarDate.string(from: dateOfBirth) : nil,
            ageBand: knowsDateOfBirth ? nil : ageBand,
            establishmentId: establishmentId,
            yearGroup: hasYearGroup ? UInt8(clamping: yearGroup) : nil,
            flags: VulnerabilityFlag.all.filter { flags.contains($0) }
        )
        do {
            let person = try await notebook.call { try $0.addYoungPerson(draft: draft) }
            return PersonRef(person)
        } catch {
            errorMessage = notebook.describe(error)
            return nil
        }
    }
}
