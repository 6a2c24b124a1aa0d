// Why this file exists: the sheet that adds a young person the device does not know yet, opened
// from the Young people tab or from a form's picker (which then chooses them).

import SwiftUI

/// Adds a young person.
struct AddYoungPersonView: View {
    @State private var model: AddYoungPersonViewModel
    private let onAdded: (PersonRef) -> Void
    @Environment(\.dismiss) private var dismiss

    init(notebook: OpenNotebook, onAdded: @escaping (PersonRef) -> Void) {
        _model = State(initialValue: AddYoungPersonViewModel(notebook: notebook))
        self.onAdded = onAdded
    }

    var body: some View {
        NavigationStack {
            Form {
                Section("Name") {
                    TextField("First name(s)", text: $model.firstName)
                        .textContentType(.givenName)
                        .autocorrectionDisabled()
                    TextField("Family name", text: $model.lastName)
                        .textContentType(.familyName)
                        .autocorrectionDisabled()
                }
                Section("Age") {
                    Toggle("Date of birth known", isOn: $model.knowsDateOfBirth)
                    if model.knowsDateOfBirth {
                        DatePicker("Date of birth", selection: $model.dateOfBirth, in: ...Date(), displayedComponents: .date)
                    } else {
                        ChoicePicker(title: "Age band", selection: $model.ageBand)
                    }
                }
                Section("School") {
                    Picker("Establishment", selection: $model.establishmentId) {
                        Text("None").tag(Uuid?.none)
                        ForEach(model.establishments) { school in
                            Text(school.name).tag(Uuid?.some(school.id))
                        }
                    }
                    Toggle("Year group known", isOn: $model.hasYearGroup)
                    if model.hasYearGroup {
                        Stepper(model.yearGroup == 0 ? "Reception" : "Year \(model.yearGroup)", value: $model.yearGroup, in: 0...14)
                    }
                }
                Section("Vulnerabilities") {
                    ChoiceToggles(choices: VulnerabilityFlag.all, selection: $model.flags)
                }
                ErrorSection(message: model.errorMessage)
            }
            .navigationTitle("Add young person")
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { dismiss() }
                }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Add") {
                        Task {
                            if let person = await model.save() {
                                onAdded(person)
                                dismiss()
                            }
                        }
                    }
                    .disabled(!model.canSave)
                }
            }
            .task { await model.load() }
        }
    }
}
