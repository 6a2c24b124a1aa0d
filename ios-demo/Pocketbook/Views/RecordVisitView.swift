// Why this file exists: the record-visit form (presented as a sheet from the visit list). It
// shows the autosave state, restores an unfinished draft, and on cancel asks whether to keep
// the encrypted draft or discard it.

import SwiftUI

/// Records a visit.
struct RecordVisitView: View {
    let notebook: OpenNotebook
    @State private var model: RecordVisitViewModel
    @State private var confirmingCancel = false
    @Environment(\.dismiss) private var dismiss

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        _model = State(initialValue: RecordVisitViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            Form {
                if model.restoredDraft {
                    Section {
                        Label("Your unfinished visit was restored.", systemImage: "doc.badge.clock")
                        Button("Start again", role: .destructive) {
                            Task { await model.discardDraft() }
                        }
                    }
                }
                ChosenPeopleSection(notebook: notebook, people: $model.form.youngPeople)
                Section("Visit") {
                    ChoicePicker(title: "Kind", selection: $model.form.kind)
                    ChoicePicker(title: "Prompted by", selection: $model.form.promptedBy)
                    DatePicker("Start", selection: $model.form.start, in: ...Date().addingTimeInterval(5 * 60))
                    DatePicker("End", selection: $model.form.end, in: model.form.start...)
                    TextField("Place (address or ward)", text: $model.form.place)
                        .autocorrectionDisabled()
                    TextField("Who was present (comma-separated)", text: $model.form.present)
                        .autocorrectionDisabled()
                }
                Section("Outcome") {
                    ChoicePicker(title: "Outcome", selection: $model.form.outcome)
                    Toggle("Follow-up date", isOn: $model.form.hasFollowUp)
                    if model.form.hasFollowUp {
                        DatePicker("Follow up on", selection: $model.form.followUp, in: model.form.start..., displayedComponents: .date)
                    }
                }
                Section("Support given") {
                    ChoiceToggles(choices: SupportGiven.all, selection: $model.form.supportGiven)
                }
                Section {
                    NoteField(title: "What happened", text: $model.form.narrative, lines: 5...15)
                } header: {
                    Text("Narrative")
                } footer: {
                    VStack(alignment: .leading, spacing: 8) {
                        MissingList(items: model.missing)
                        if model.draftState != .idle {
                            Text(model.draftState.label)
                        }
                    }
                }
                ErrorSection(message: model.errorMessage)
            }
            .navigationTitle("Record a visit")
            .navigationBarTitleDisplayMode(.inline)
            .interactiveDismissDisabled()
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { confirmingCancel = true }
                }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Save") {
                        Task {
                            if await model.save() { dismiss() }
                        }
                    }
                    .disabled(!model.canSave)
                }
            }
            .confirmationDialog("Leave this visit?", isPresented: $confirmingCancel, titleVisibility: .visible) {
                Button("Keep the draft") { dismiss() }
                Button("Discard the draft", role: .destructive) {
                    Task {
                        await model.discardDraft()
                        dismiss()
                    }
                }
            } message: {
                Text("A kept draft stays encrypted on this device and comes back next time.")
            }
            .onChange(of: model.form) {
                model.formChanged()
            }
            .task {
                await model.restoreDraft()
            }
        }
    }
}
