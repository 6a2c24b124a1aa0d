// Why this file exists: the notebook once unlocked and enrolled — three tabs: Visits (the
// list, recording a visit, raising a concern), Young people (search, add, chronology) and Sync
// (sync with progress, refused changes, conflict review, the device).

import SwiftUI

/// The notebook's tabs.
struct HomeView: View {
    let notebook: OpenNotebook
    /// Erases this device's notebook (asked for on the Sync tab).
    let erase: () async -> Void

    var body: some View {
        TabView {
            VisitListView(notebook: notebook)
                .tabItem { Label("Visits", systemImage: "list.bullet.rectangle") }
            YoungPeopleView(notebook: notebook)
                .tabItem { Label("Young people", systemImage: "person.2") }
            SyncView(notebook: notebook, erase: erase)
                .tabItem { Label("Sync", systemImage: "arrow.triangle.2.circlepath") }
        }
    }
}
