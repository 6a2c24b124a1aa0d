// Why this file exists: the screen a new device starts on (server address and one-time code)
// and the one a device returns to when its lease has run out (a new code; unsynced work kept).

import SwiftUI

/// Enrolment or reauthentication.
struct EnrolmentView: View {
    @State private var model: EnrolmentViewModel

    init(notebook: OpenNotebook, mode: EnrolmentViewModel.Mode, onDone: @escaping () -> Void) {
        _model = State(initialValue: EnrolmentViewModel(notebook: notebook, mode: mode, onDone: onDone))
    }

    var body: some View {
        NavigationStack {
            Form {
                Section {
                    Text(intro)
                        .foregroundStyle(.secondary)
                }
                if model.mode == .enrol {
                    Section("Server") {
                        TextField("https://pocketbook.force.example", text: $model.serverURL)
                            .keyboardType(.URL)
                            .textContentType(.URL)
                            .textInputAutocapitalization(.never)
                            .autocorrectionDisabled()
                    }
                }
                Section("One-time code") {
                    TextField("ABCD-EFGH-JKLM", text: $model.code)
                        .textInputAutocapitalization(.characters)
                        .autocorrectionDisabled()
                        .font(.body.monospaced())
                }
                if model.mode == .enrol {
                    Section {
                        DisclosureGroup("Private certificate authority") {
                            TextField("-----BEGIN CERTIFICATE-----", text: $model.certificatePEM, axis: .vertical)
                                .lineLimit(3...8)
                                .font(.caption.monospaced())
                                .textInputAutocapitalization(.never)
                                .autocorrectionDisabled()
                        }
                    } footer: {
                        Text("Only if your force's server uses a certificate from its own authority.")
                    }
                }
                ErrorSection(message: model.errorMessage)
                Section {
                    Button {
                        Task { await model.submit() }
                    } label: {
                        HStack {
                            Text(model.mode == .enrol ? "Enrol this device" : "Reauthenticate")
                            Spacer()
                            if model.isWorking { ProgressView() }
                        }
                    }
                    .disabled(!model.canSubmit)
                }
            }
            .navigationTitle(model.mode == .enrol ? "Enrol" : "Sync overdue")
        }
    }

    private var intro: String {
        switch model.mode {
        case .enrol:
            "Enter your force's Pocketbook server and the one-time code your administrator gave you. The code links this device to you and your team."
        case .reauthenticate:
            "This device has not synced within its lease, so records are hidden until you enter a new code from your administrator. Nothing you recorded has been lost."
        }
    }
}
