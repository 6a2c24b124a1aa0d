// Why this file exists: a few small pieces recur on every screen — an error line, the marking
// badge, the "what is still missing" list, a multi-select of enum cases. Keeping them here
// keeps the screens short and consistent.

import SwiftUI

/// An error message in red, in a form or list section.
struct ErrorSection: View {
    let message: String?

    var body: some View {
        if let message {
            Section {
                Label(message, systemImage: "exclamationmark.octagon")
                    .foregroundStyle(.red)
            }
        }
    }
}

/// The protective marking, as a small badge.
struct MarkingBadge: View {
    let marking: Marking

    var body: some View {
        Text(marking.label)
            .font(.caption2.weight(.semibold))
            .padding(.horizontal, 6)
            .padding(.vertical, 2)
            .background(marking == .officialSensitive ? Color.orange.opacity(0.2) : Color.secondary.opacity(0.15))
            .clipShape(Capsule())
    }
}

/// What a form still needs, as a footer list.
struct MissingList: View {
    let items: [String]

    var body: some View {
        if !items.isEmpty {
            VStack(alignment: .leading, spacing: 4) {
                ForEach(items, id: \.self) { item in
                    Label(item, systemImage: "circle")
                }
            }
            .font(.footnote)
            .foregroundStyle(.secondary)
        }
    }
}

/// One toggle per case of a `Choice`, bound to a set.
struct ChoiceToggles<C: Choice>: View {
    let choices: [C]
    @Binding var selection: Set<C>

    var body: some View {
        ForEach(choices, id: \.self) { choice in
            Toggle(choice.label, isOn: Binding(
                get: { selection.contains(choice) },
                set: { isOn in
                    if isOn { selection.insert(choice) } else { selection.remove(choice) }
                }
            ))
        }
    }
}

/// A picker over every case of a `Choice`.
struct ChoicePicker<C: Choice>: View {
    let title: String
    @Binding var selection: C

    var body: some View {
        Picker(title, selection: $selection) {
            ForEach(C.all, id: \.self) { choice in
                Text(choice.label).tag(choice)
            }
        }
    }
}

/// A multi-line text field for notes about children: no autocorrection, so names and the
/// child's words are not learned by the keyboard.
struct NoteField: View {
    let title: String
    @Binding var text: String
    var lines: ClosedRange<Int> = 3...10

    var body: some View {
        TextField(title, text: $text, axis: .vertical)
            .lineLimit(lines)
            .autocorrectionDisabled()
            .textInputAutocapitalization(.sentences)
    }
}
