// Why this file exists: the home tab — the officer's visits, most recent first, with the way in
// to recording a visit and raising a concern, and each visit's details (from which a young
// person's chronology opens).

import SwiftUI

/// The visit list.
struct VisitListView: View {
    let notebook: OpenNotebook
    @State private var model: VisitListViewModel
    @State private var recordingVisit = false
    @State private var raisingConcern = false

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        _model = State(initialValue: VisitListViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            List {
                ErrorSection(message: model.errorMessage)
                ForEach(model.visits) { visit in
                    NavigationLink(value: visit) {
                        VisitRow(visit: visit, people: model.people(of: visit))
                    }
                }
            }
            .overlay {
                if model.hasLoaded && model.visits.isEmpty && model.errorMessage == nil {
                    ContentUnavailableView(
                        "No visits yet",
                        systemImage: "house",
                        description: Text("Record a visit with the + button. It is saved on this device and sent at the next sync.")
                    )
                }
            }
            .navigationTitle("Visits")
            .navigationDestination(for: Visit.self) { visit in
                VisitDetailView(notebook: notebook, visit: visit, people: model.people(of: visit))
            }
            .toolbar {
                ToolbarItem(placement: .primaryAction) {
                    Menu {
                        Button("Record a visit", systemImage: "house") { recordingVisit = true }
                        Button("Raise a concern", systemImage: "exclamationmark.triangle") { raisingConcern = true }
                    } label: {
                        Label("New", systemImage: "plus")
                    }
                }
            }
            .sheet(isPresented: $recordingVisit) {
                RecordVisitView(notebook: notebook)
            }
            .sheet(isPresented: $raisingConcern) {
                RaiseConcernView(notebook: notebook)
            }
            .task(id: notebook.revision) {
                await model.reload()
            }
            .refreshable {
                await model.reload()
            }
        }
    }
}

/// One line of the visit list.
struct VisitRow: View {
    let visit: Visit
    let people: [PersonRef]

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(visit.kind.label).font(.headline)
                Spacer()
                if visit.marking == .officialSensitive { MarkingBadge(marking: visit.marking) }
            }
            Text(people.map(\.name).joined(separator: ", "))
                .font(.subheadline)
            HStack {
                Text(visit.start.formatted(date: .abbreviated, time: .shortened))
                Text("·")
                Text(visit.outcome.label)
            }
            .font(.caption)
            .foregroundStyle(.secondary)
        }
        .padding(.vertical, 2)
    }
}

/// One visit in full.
struct VisitDetailView: View {
    let notebook: OpenNotebook
    let visit: Visit
    let people: [PersonRef]

    var body: some View {
        Form {
            Section {
                LabeledContent("Kind", value: visit.kind.label)
                LabeledContent("Prompted by", value: visit.promptedBy.label)
                LabeledContent("Outcome", value: visit.outcome.label)
                LabeledContent("Marking") { MarkingBadge(marking: visit.marking) }
            }
            Section("When and where") {
                LabeledContent("Start", value: visit.start.formatted(date: .abbreviated, time: .shortened))
                LabeledContent("End", value: visit.end.formatted(date: .omitted, time: .shortened))
                LabeledContent("Place", value: visit.place)
                if let followUp = visit.followUp {
                    LabeledContent("Follow-up", value: CalendarDate.display(followUp))
                }
            }
            Section("Narrative") {
                Text(visit.narrative)
                    .textSelection(.disabled)
            }
            Section {
                ForEach(people) { person in
                    NavigationLink {
                        ChronologyView(notebook: notebook, person: person)
                    } label: {
                        Label(person.name, systemImage: "person")
                    }
                }
            } header: {
                Text("Young people")
            } footer: {
                Text("Opening a chronology asks why you are looking; the reason is recorded in the audit trail.")
            }
        }
        .navigationTitle(visit.kind.label)
        .navigationBarTitleDisplayMode(.inline)
    }
}
