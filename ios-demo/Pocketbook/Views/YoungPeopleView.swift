// Why this file exists: the Young people tab (find a child by name, add one, open their
// chronology) and the picker the visit and concern forms use to choose who the record is about.
// Both run the same search view model.

import SwiftUI

/// The Young people tab.
struct YoungPeopleView: View {
    let notebook: OpenNotebook
    @State private var model: YoungPeopleViewModel
    @State private var adding = false

    init(notebook: OpenNotebook) {
        self.notebook = notebook
        _model = State(initialValue: YoungPeopleViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            List {
                ErrorSection(message: model.errorMessage)
                ForEach(model.people) { person in
                    NavigationLink {
                        ChronologyView(notebook: notebook, person: PersonRef(person))
                    } label: {
                        YoungPersonRow(person: person)
                    }
                }
            }
            .overlay {
                if model.hasLoaded && model.people.isEmpty && model.errorMessage == nil {
                    if model.query.trimmed.isEmpty {
                        ContentUnavailableView(
                            "No young people yet",
                            systemImage: "person.2",
                            description: Text("Add one with the + button, or sync to receive your team's.")
                        )
                    } else {
                        ContentUnavailableView.search(text: model.query)
                    }
                }
            }
            .searchable(text: $model.query, prompt: "Name")
            .autocorrectionDisabled()
            .navigationTitle("Young people")
            .toolbar {
                ToolbarItem(placement: .primaryAction) {
                    Button("Add", systemImage: "person.badge.plus") { adding = true }
                }
            }
            .sheet(isPresented: $adding) {
                AddYoungPersonView(notebook: notebook) { _ in }
            }
            .task(id: "\(model.query)#\(notebook.revision)") {
                await model.searchAfterPause()
            }
        }
    }
}

/// One young person in a list.
struct YoungPersonRow: View {
    let person: YoungPerson

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            Text("\(person.firstName) \(person.lastName)")
            HStack(spacing: 6) {
                if let dob = person.dateOfBirth {
                    Text("Born \(CalendarDate.display(dob))")
                }
                if let year = person.yearGroup {
                    Text(verbatim: year == 0 ? "Reception" : "Year \(year)")
                }
            }
            .font(.caption)
            .foregroundStyle(.secondary)
            if !person.flags.isEmpty {
                Text(person.flags.map(\.label).joined(separator: " · "))
                    .font(.caption2)
                    .foregroundStyle(.orange)
            }
        }
    }
}

/// Chooses the young people a visit or concern is about.
struct YoungPersonPicker: View {
    let notebook: OpenNotebook
    @Binding var selection: [PersonRef]
    @State private var model: YoungPeopleViewModel
    @State private var adding = false
    @Environment(\.dismiss) private var dismiss

    init(notebook: OpenNotebook, selection: Binding<[PersonRef]>) {
        self.notebook = notebook
        _selection = selection
        _model = State(initialValue: YoungPeopleViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            List {
                if !selection.isEmpty {
                    Section("Chosen") {
                        ForEach(selection) { person in
                            Text(person.name)
                        }
                        .onDelete { selection.remove(atOffsets: $0) }
                    }
                }
                ErrorSection(message: model.errorMessage)
                Section("On this device") {
                    ForEach(model.people) { person in
                        let ref = PersonRef(person)
                        Button {
                            toggle(ref)
                        } label: {
                            HStack {
                                YoungPersonRow(person: person)
                                Spacer()
                                if selection.contains(where: { $0.id == ref.id }) {
                                    Image(systemName: "checkmark").foregroundStyle(.tint)
                                }
                            }
                        }
                        .buttonStyle(.plain)
                    }
                }
            }
            .searchable(text: $model.query, prompt: "Name")
            .autocorrectionDisabled()
            .navigationTitle("Young people")
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .confirmationAction) {
                    Button("Done") { dismiss() }
                }
                ToolbarItem(placement: .primaryAction) {
                    Button("Add", systemImage: "person.badge.plus") { adding = true }
                }
            }
            .sheet(isPresented: $adding) {
                AddYoungPersonView(notebook: notebook) { added in
                    if !selection.contains(where: { $0.id == added.id }) {
                        selection.append(added)
                    }
                }
            }
            .task(id: "\(model.query)#\(notebook.revision)") {
                await model.searchAfterPause()
            }
        }
    }

    private func toggle(_ person: PersonRef) {
        if let index = selection.firstIndex(where: { $0.id == person.id }) {
            selection.remove(at: index)
        } else {
            selection.append(person)
        }
    }
}

/// The young people on a form, with the button that opens the picker.
struct ChosenPeopleSection: View {
    let notebook: OpenNotebook
    @Binding var people: [PersonRef]
    @State private var picking = false

    init(notebook: OpenNotebook, people: Binding<[PersonRef]>) {
        self.notebook = notebook
        _people = people
    }

    var body: some View {
        Section("Young people") {
            ForEach(people) { person in
                Label(person.name, systemImage: "person")
            }
            .onDelete { people.remove(atOffsets: $0) }
            Button(people.isEmpty ? "Choose…" : "Change…") { picking = true }
                .sheet(isPresented: $picking) {
                    YoungPersonPicker(notebook: notebook, selection: $people)
                }
        }
    }
}
