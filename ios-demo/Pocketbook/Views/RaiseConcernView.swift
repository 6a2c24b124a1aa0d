// Why this file exists: the raise-concern form (a sheet from the visit list): the account and
// the child's own words, the THRIVE assessment with a rationale for each element, the risk and
// the marking. Submitting asks for confirmation, because the account cannot be changed after.

import SwiftUI

/// Raises a safeguarding concern.
struct RaiseConcernView: View {
    let notebook: OpenNotebook
    @State private var model: RaiseConcernViewModel
    @State private var confirmingSubmit = false
    @State private var confirmingCancel = false
    @Environment(\.dismiss) private var dismiss

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        _model = State(initialValue: RaiseConcernViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            Form {
                if model.restoredDraft {
                    Section {
                        Label("Your unfinished concern was restored.", systemImage: "doc.badge.clock")
                        Button("Start again", role: .destructive) {
                            Task { await model.discardDraft() }
                        }
                    }
                }
                ChosenPeopleSection(notebook: notebook, people: $model.form.youngPeople)
                Section("What happened") {
                    DatePicker("When", selection: $model.form.happenedAt, in: ...Date())
                    ChoicePicker(title: "Category", selection: $model.form.category)
                    NoteField(title: "Account", text: $model.form.account, lines: 4...15)
                    NoteField(title: "The child's own words (optional)", text: $model.form.childsWords)
                }
                Section("Risk and action") {
                    NoteField(title: "Risk", text: $model.form.riskText, lines: 2...8)
                    NoteField(title: "Action taken or proposed", text: $model.form.actionText, lines: 2...8)
                    Picker("Risk level", selection: $model.form.risk) {
                        Text("Not set").tag(Risk?.none)
                        ForEach(Risk.all, id: \.self) { risk in
                            Text(risk.label).tag(Risk?.some(risk))
                        }
                    }
                    ChoicePicker(title: "Marking", selection: $model.form.marking)
                }
                Section {
                    ThriveEditor(title: "Threat", element: $model.form.thrive.threat)
                    ThriveEditor(title: "Harm", element: $model.form.thrive.harm)
                    ThriveEditor(title: "Risk", element: $model.form.thrive.risk)
                    ThriveEditor(title: "Investigation", element: $model.form.thrive.investigation)
                    ThriveEditor(title: "Vulnerability", element: $model.form.thrive.vulnerability)
                    ThriveEditor(title: "Engagement", element: $model.form.thrive.engagement)
                } header: {
                    Text("THRIVE")
                } footer: {
                    VStack(alignment: .leading, spacing: 8) {
                        MissingList(items: model.missing)
                        Text("Once submitted, the account, the child's words and this assessment cannot be changed: corrections are added as dated addenda.")
                        if model.draftState != .idle {
                            Text(model.draftState.label)
                        }
                    }
                }
                ErrorSection(message: model.errorMessage)
            }
            .navigationTitle("Raise a concern")
            .navigationBarTitleDisplayMode(.inline)
            .interactiveDismissDisabled()
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { confirmingCancel = true }
                }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Submit") { confirmingSubmit = true }
                        .disabled(!model.canSubmit)
                }
            }
            .confirmationDialog("Submit this concern?", isPresented: $confirmingSubmit, titleVisibility: .visible) {
                Button("Submit") {
                    Task {
                        if await model.submit() { dismiss() }
                    }
                }
            } message: {
                Text("The account becomes final. It is sent to your team at the next sync.")
            }
            .confirmationDialog("Leave this concern?", isPresented: $confirmingCancel, titleVisibility: .visible) {
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

/// One THRIVE element: a finding and its (required) rationale.
struct ThriveEditor: View {
    let title: String
    @Binding var element: ThriveElementForm

    var body: some View {
        DisclosureGroup {
            NoteField(title: "Finding", text: $element.finding, lines: 1...6)
            NoteField(title: "Rationale (required)", text: $element.rationale, lines: 1...6)
        } label: {
            HStack {
                Text(title)
                Spacer()
                Image(systemName: element.rationale.trimmed.isEmpty ? "circle" : "checkmark.circle.fill")
                    .foregroundStyle(element.rationale.trimmed.isEmpty ? Color.secondary : Color.green)
            }
        }
    }
}
