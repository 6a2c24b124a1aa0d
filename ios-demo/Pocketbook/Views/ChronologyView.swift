// Why this file exists: a young person's chronology — visits, concerns, addenda and actions in
// the order they happened. It first asks why the officer is looking (the core records the
// reason as a Consult in the audit trail) and forgets the entries when the screen closes.

import SwiftUI

/// A young person's chronology, behind its reason prompt.
struct ChronologyView: View {
    @State private var model: ChronologyViewModel

    init(notebook: OpenNotebook, person: PersonRef) {
        _model = State(initialValue: ChronologyViewModel(notebook: notebook, person: person))
    }

    var body: some View {
        Group {
            switch model.stage {
            case .askingReason:
                reasonForm
            case .loading:
                ProgressView("Opening chronology…")
                    .frame(maxWidth: .infinity, maxHeight: .infinity)
            case let .shown(entries):
                entryList(entries)
            case let .failed(message):
                ContentUnavailableView {
                    Label("Could not open the chronology", systemImage: "exclamationmark.triangle")
                } description: {
                    Text(message)
                } actions: {
                    Button("Back") { model.forget() }
                }
            }
        }
        .navigationTitle(model.person.name)
        .navigationBarTitleDisplayMode(.inline)
        .onDisappear { model.forget() }
    }

    private var reasonForm: some View {
        Form {
            Section {
                Picker("Reason", selection: $model.reasonChoice) {
                    ForEach(ConsultReason.allCases) { reason in
                        Text(reason.rawValue).tag(reason)
                    }
                }
                .pickerStyle(.inline)
                .labelsHidden()
                if model.reasonChoice == .other {
                    TextField("Why you need to see it", text: $model.otherReason, axis: .vertical)
                        .lineLimit(2...4)
                }
            } header: {
                Text("Why are you looking?")
            } footer: {
                Text("Looking at a child's chronology is recorded in the audit trail with your reason (Data Protection Act 2018, s62).")
            }
            Section {
                Button("Show chronology") {
                    Task { await model.show() }
                }
                .disabled(!model.canShow)
            }
        }
    }

    private func entryList(_ entries: [ChronologyEntry]) -> some View {
        List {
            if entries.isEmpty {
                Text("Nothing recorded yet.")
                    .foregroundStyle(.secondary)
            }
            ForEach(Array(entries.enumerated()), id: \.offset) { _, entry in
                HStack(alignment: .top, spacing: 12) {
                    Image(systemName: entry.kind.symbol)
                        .foregroundStyle(.tint)
                        .frame(width: 24)
                    VStack(alignment: .leading, spacing: 4) {
                        Text(entry.title).font(.headline)
                        Text("\(entry.kind.label) · \(entry.happenedAt.formatted(date: .abbreviated, time: .shortened))")
                            .font(.caption)
                            .foregroundStyle(.secondary)
                        if !entry.detail.isEmpty {
                            Text(entry.detail)
                                .font(.subheadline)
                        }
                    }
                }
                .padding(.vertical, 2)
            }
        }
        .toolbar {
            ToolbarItem(placement: .primaryAction) {
                Button("Done") { model.forget() }
            }
        }
    }
}
