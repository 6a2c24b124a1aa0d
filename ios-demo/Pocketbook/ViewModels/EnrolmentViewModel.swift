// Why this file exists: a new device must be enrolled with the force's server (server address
// plus a one-time code from an admin), and a device whose lease ran out must reauthenticate
// with a new code. This is the state of that one screen, in both modes.

import Foundation
import Observation

/// The enrolment (or reauthentication) screen.
@MainActor
@Observable
final class EnrolmentViewModel {
    /// Which of the two the screen does.
    enum Mode {
        /// First enrolment: server address and code.
        case enrol
        /// After the lease ran out: a new code for the same server; unsynced work is kept.
        case reauthenticate
    }

    let mode: Mode
    /// The server's address, e.g. https://pocketbook.force.example.
    var serverURL = "https://"
    /// The one-time code the admin issued.
    var code = ""
    /// Optional: a certificate authority (PEM) for a server with a private certificate.
    var certificatePEM = ""
    private(set) var isWorking = false
    private(set) var errorMessage: String? = nil

    private let notebook: OpenNotebook
    private let onDone: () -> Void

    init(notebook: OpenNotebook, mode: Mode, onDone: @escaping () -> Void) {
        self.notebook = notebook
        self.mode = mode
        self.onDone = onDone
        if let server = notebook.session?.serverUrl {
            serverURL = server
        }
    }

    /// Whether the form can be sent.
    var canSubmit: Bool {
        guard !isWorking, !code.trimmed.isEmpty else { return false }
        switch mode {
        case .enrol:
            guard let url = URL(string: serverURL.trimmed), let scheme = url.scheme, url.host != nil else {
                return false
            }
            return scheme == "https" || scheme == "http"
        case .reauthenticate:
            return true
        }
    }

    /// Enrols or reauthenticates; on success hands over to the notebook screens.
    func submit() async {
        guard canSubmit else { return }
        isWorking = true
        errorMessage = nil
        defer { isWorking = false }
        let code = self.code.trimmed
        let server = serverURL.trimmed
        let pem = certificatePEM.trimmed
        do {
            if !pem.isEmpty {
                try await notebook.call { try $0.trustCertificate(pem: pem) }
            }
            switch mode {
            case .enrol:
                try await notebook.enroll(serverURL: server, code: code)
            case .reauthenticate:
                try await notebook.reauthenticate(code: code)
            }
            self.code = ""
            onDone()
        } catch {
            errorMessage = notebook.describe(error)
        }
    }
}
