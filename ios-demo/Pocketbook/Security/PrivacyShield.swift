// Why this file exists: iOS photographs the screen for the app switcher when the app leaves
// the foreground, and that snapshot must not show a child's name or a concern. An overlay in
// the SwiftUI view tree is not enough (sheets are presented above it), so the shield is a
// separate window above everything, shown whenever the scene is not active.

import SwiftUI
import UIKit

/// A window that covers the whole app while it is inactive or in the background.
@MainActor
final class PrivacyShield {
    private var window: UIWindow?

    /// Covers the app (idempotent).
    func show() {
        guard window == nil, let scene = Self.windowScene() else { return }
        let cover = UIWindow(windowScene: scene)
        cover.windowLevel = .alert + 1
        cover.rootViewController = UIHostingController(rootView: PrivacyCoverView())
        cover.isHidden = false
        window = cover
    }

    /// Uncovers the app (idempotent).
    func hide() {
        window?.isHidden = true
        window = nil
    }

    private static func windowScene() -> UIWindowScene? {
        let scenes = UIApplication.shared.connectedScenes.compactMap { $0 as? UIWindowScene }
        return scenes.first { $0.activationState == .foregroundActive }
            ?? scenes.first { $0.activationState == .foregroundInactive }
            ?? scenes.first
    }
}
