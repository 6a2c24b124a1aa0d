// Why this file exists: it maps the app's phase (AppModel) to a screen, and holds the small
// screens around the notebook itself: the lock screen, the lost-key and revoked notices, and
// the failure notice. The notebook screens start at HomeView.

import SwiftUI

/// Shows the screen for the app's current phase.
struct RootView: View {
    let app: AppModel

    var body: some View {
        switch app.phase {
        case let .locked(message):
            LockView(message: message) {
                Task { await app.unlock() }
            }
        case .unlocking:
            ProgressView("Unlocking…")
        case .keyLost:
            KeyLostView {
                Task { await app.eraseAfterKeyLoss() }
            }
        case let .enrolment(notebook):
            EnrolmentView(notebook: notebook, mode: .enrol) {
                app.enrolled(notebook)
            }
        case let .reauthentication(notebook):
            EnrolmentView(notebook: notebook, mode: .reauthenticate) {
                app.enrolled(notebook)
            }
        case let .ready(notebook):
            HomeView(notebook: notebook) {
                await app.eraseDevice(notebook)
            }
        case .revoked:
            NoticeView(
                symbol: "xmark.shield",
                title: "Device revoked",
                message: "Your force has revoked this device. Its notebook, drafts and key have been erased. Speak to your force's IT team to enrol again.",
                action: "Start again"
            ) {
                app.startAgain()
            }
        case let .failed(message):
            NoticeView(symbol: "exclamationmark.triangle", title: "Could not open the notebook", message: message, action: "Try again") {
                app.startAgain()
            }
        }
    }
}

/// The lock screen.
struct LockView: View {
    let message: String?
    let unlock: () -> Void

    var body: some View {
        VStack(spacing: 20) {
            Spacer()
            Image(systemName: "lock.shield")
                .font(.system(size: 64))
                .foregroundStyle(.tint)
            Text("Pocketbook")
                .font(.largeTitle.weight(.semibold))
            Text("Your notebook is encrypted on this device.")
                .foregroundStyle(.secondary)
            if let message {
                Text(message)
                    .multilineTextAlignment(.center)
                    .foregroundStyle(.secondary)
                    .padding(.horizontal)
            }
            Spacer()
            Button(action: unlock) {
                Label("Unlock", systemImage: "faceid")
                    .frame(maxWidth: .infinity)
            }
            .buttonStyle(.borderedProminent)
            .controlSize(.large)
            .padding(.horizontal, 32)
            .padding(.bottom, 40)
        }
    }
}

/// A store exists but its key does not: explain, and offer the only way on.
struct KeyLostView: View {
    private let erase: () -> Void
    @State private var confirming = false

    init(erase: @escaping () -> Void) {
        self.erase = erase
    }

    var body: some View {
        NoticeView(
            symbol: "key.slash",
            title: "This notebook cannot be opened",
            message: "The key for the notebook on this phone is missing — for example after restoring a backup onto a new phone. Keys never leave the phone they were made on. Anything not yet synced cannot be recovered. Erase it to start a new notebook, then enrol again.",
            action: "Erase and start again"
        ) {
            confirming = true
        }
        .confirmationDialog("Erase the notebook on this phone?", isPresented: $confirming, titleVisibility: .visible) {
            Button("Erase", role: .destructive, action: erase)
        }
    }
}

/// A full-screen notice with one action.
struct NoticeView: View {
    let symbol: String
    let title: String
    let message: String
    let action: String
    let perform: () -> Void

    var body: some View {
        VStack(spacing: 16) {
            Spacer()
            Image(systemName: symbol)
                .font(.system(size: 56))
                .foregroundStyle(.secondary)
            Text(title)
                .font(.title2.weight(.semibold))
                .multilineTextAlignment(.center)
            Text(message)
                .multilineTextAlignment(.center)
                .foregroundStyle(.secondary)
            Spacer()
            Button(action, action: perform)
                .buttonStyle(.borderedProminent)
                .controlSize(.large)
                .padding(.bottom, 40)
        }
        .padding(.horizontal, 24)
    }
}
