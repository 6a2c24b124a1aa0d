// Why this file exists: what the app switcher's snapshot (and anyone glancing while the app is
// inactive) sees instead of the notebook: the app's name and nothing else.

import SwiftUI

/// The opaque cover the privacy shield shows.
struct PrivacyCoverView: View {
    var body: some View {
        ZStack {
            Color(uiColor: .systemBackground).ignoresSafeArea()
            VStack(spacing: 12) {
                Image(systemName: "lock.shield")
                    .font(.system(size: 56))
                    .foregroundStyle(.tint)
                Text("Pocketbook")
                    .font(.title2.weight(.semibold))
            }
        }
        .accessibilityElement(children: .combine)
    }
}
