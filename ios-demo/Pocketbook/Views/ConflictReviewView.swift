// Why this file exists: the conflict review screen — for each value that lost a concurrent
// edit, what the server kept and what was lost, and the two ways to settle it.

import SwiftUI

/// Reviews open conflicts.
struct ConflictReviewView: View {
    @State private var model: ConflictReviewViewModel
    private let notebook: OpenNotebook

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        _model = State(initialValue: ConflictReviewViewModel(notebook: notebook))
    }

    var body: some View {
        List {
            ErrorSection(message: model.errorMessage)
            ForEach(model.conflicts) { conflict in
                Section {
                    LabeledContent("Kept") {
                        Text(JSONValueText.display(conflict.winningValue))
                            .multilineTextAlignment(.trailing)
                    }
                    LabeledContent("Lost") {
                        Text(JSONValueText.display(conflict.losingValue))
                            .multilineTextAlignment(.trailing)
                            .foregroundStyle(.secondary)
                    }
                    HStack {
                        Button("Keep") {
                            Task { await model.resolve(conflict, choice: .keepCurrent) }
                        }
                        Spacer()
                        Button("Restore lost value") {
                            Task { await model.resolve(conflict, choice: .takeLosing) }
                        }
                    }
                    .buttonStyle(.borderless)
                    .disabled(model.resolving != nil)
                } header: {
                    Text(model.title(of: conflict))
                }
            }
        }
        .overlay {
            if model.hasLoaded && model.conflicts.isEmpty && model.errorMessage == nil {
                ContentUnavailableView(
                    "No conflicts",
                    systemImage: "checkmark.circle",
                    description: Text("Edits made on several devices have all been settled.")
                )
            }
        }
        .navigationTitle("Conflicts")
        .safeAreaInset(edge: .bottom) {
            Text("Your choice is sent to the server at the next sync.")
                .font(.footnote)
                .foregroundStyle(.secondary)
                .padding(.bottom, 8)
        }
        .task(id: notebook.revision) {
            await model.reload()
        }
    }
}
