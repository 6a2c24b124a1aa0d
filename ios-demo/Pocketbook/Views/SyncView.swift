// Why this file exists: the Sync tab — one button to sync, live progress from the core's
// observer, what the last sync did, changes the server refused, the way to conflict review,
// and the device itself (who it belongs to, and erasing it).

import SwiftUI

/// The Sync tab.
struct SyncView: View {
    let notebook: OpenNotebook
    let erase: () async -> Void
    @State private var model: SyncViewModel
    @State private var confirmingErase = false

    init(notebook: OpenNotebook, erase: @escaping () async -> Void) {
        self.notebook = notebook
        self.erase = erase
        _model = State(initialValue: SyncViewModel(notebook: notebook))
    }

    var body: some View {
        NavigationStack {
            Form {
                syncSection
                ErrorSection(message: model.errorMessage)
                if let report = model.lastReport {
                    reportSection(report)
                }
                if let status = model.status {
                    statusSection(status)
                    if !status.rejected.isEmpty {
                        rejectedSection(status.rejected)
                    }
                }
                deviceSection
            }
            .navigationTitle("Sync")
            .navigationDestination(for: String.self) { _ in
                ConflictReviewView(notebook: notebook)
            }
            .task(id: notebook.revision) {
                await model.reload()
            }
            .confirmationDialog("Erase this device's notebook?", isPresented: $confirmingErase, titleVisibility: .visible) {
                Button("Erase", role: .destructive) {
                    Task { await erase() }
                }
            } message: {
                Text("Everything on this device is deleted, including changes not yet synced and drafts. Records already synced stay on the server.")
            }
        }
    }

    private var syncSection: some View {
        Section {
            Button {
                Task { await model.sync() }
            } label: {
                Label("Sync now", systemImage: "arrow.triangle.2.circlepath")
            }
            .disabled(model.isSyncing)
            if let progress = model.progress {
                VStack(alignment: .leading, spacing: 6) {
                    Text(progress.label)
                    if let fraction = progress.fraction {
                        ProgressView(value: fraction)
                        Text(verbatim: "\(progress.done) of \(progress.total)")
                            .font(.caption)
                            .foregroundStyle(.secondary)
                    } else {
                        ProgressView()
                    }
                }
            }
        } footer: {
            Text("Sends what you recorded on this device, then receives your team's changes.")
        }
    }

    private func reportSection(_ report: SyncReport) -> some View {
        Section("Last sync") {
            LabeledContent("Sent", value: "\(report.pushed)")
            if report.merged > 0 { LabeledContent("Merged with others' edits", value: "\(report.merged)") }
            if report.rejected > 0 { LabeledContent("Refused", value: "\(report.rejected)") }
            LabeledContent("Received", value: "\(report.pulled)")
            if report.removed > 0 { LabeledContent("Left your scope", value: "\(report.removed)") }
            if report.conflicts > 0 { LabeledContent("New conflicts", value: "\(report.conflicts)") }
            LabeledContent(
                "Data",
                value: "\(bytes(report.bytesSent)) up, \(bytes(report.bytesReceived)) down"
            )
            LabeledContent("Took", value: String(format: "%.1f s", Double(report.durationMs) / 1000))
        }
    }

    private func statusSection(_ status: SyncStatus) -> some View {
        Section("Status") {
            LabeledContent("Waiting to send", value: "\(status.pending)")
            if status.openConflicts > 0 {
                NavigationLink(value: "conflicts") {
                    LabeledContent("Conflicts to review", value: "\(status.openConflicts)")
                }
            } else {
                LabeledContent("Conflicts to review", value: "None")
            }
            LabeledContent("Last sync", value: status.lastSyncAt?.formatted(date: .abbreviated, time: .shortened) ?? "Never")
            LabeledContent("Sync before", value: status.leaseExpiresAt.formatted(date: .abbreviated, time: .shortened))
            LabeledContent("Server", value: status.serverUrl)
        }
    }

    private func rejectedSection(_ rejected: [RejectedChange]) -> some View {
        Section {
            ForEach(rejected, id: \.seq) { change in
                VStack(alignment: .leading, spacing: 2) {
                    Text("\(change.entity.label) · \(change.code)")
                        .font(.subheadline.weight(.semibold))
                    Text(change.message)
                        .font(.caption)
                        .foregroundStyle(.secondary)
                }
            }
        } header: {
            Text("Refused by the server")
        } footer: {
            Text("These changes are kept in the server's quarantine for a supervisor; they do not hold up the rest.")
        }
    }

    private var deviceSection: some View {
        Section("This device") {
            if let session = model.session {
                LabeledContent("Officer", value: "\(session.officerName) (\(session.shoulderNumber))")
                LabeledContent("Role", value: session.role.label)
                LabeledContent("Device id", value: String(session.deviceId.prefix(8)))
            }
            Button("Erase this device…", role: .destructive) {
                confirmingErase = true
            }
        }
    }

    private func bytes(_ count: UInt64) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(clamping: count), countStyle: .file)
    }
}
