// Why this file exists: the inactivity lock needs to know when the officer last touched the
// app, and SwiftUI has no app-wide touch hook. This installs a gesture recognizer on the app's
// window that sees every touch, never claims one and never delays one. (Keystrokes go to the
// keyboard's own window; the forms report typing through their autosave instead.)

import SwiftUI
import UIKit
import UIKit.UIGestureRecognizerSubclass

/// An invisible view that reports every touch anywhere in its window.
struct ActivityMonitor: UIViewRepresentable {
    /// Called on the main thread at the start of every touch.
    let onActivity: () -> Void

    func makeUIView(context: Context) -> MonitorView {
        MonitorView(onActivity: onActivity)
    }

    func updateUIView(_ view: MonitorView, context: Context) {
        view.onActivity = onActivity
    }

    /// Attaches the touch observer to whichever window the view lands in.
    final class MonitorView: UIView {
        var onActivity: () -> Void
        private let observer: TouchObserver

        init(onActivity: @escaping () -> Void) {
            self.onActivity = onActivity
            observer = TouchObserver(target: nil, action: nil)
            super.init(frame: .zero)
            isUserInteractionEnabled = false
            observer.cancelsTouchesInView = false
            observer.delaysTouchesBegan = false
            observer.delaysTouchesEnded = false
            observer.onTouch = { [weak self] in self?.onActivity() }
        }

        required init?(coder: NSCoder) {
            nil
        }

        override func didMoveToWindow() {
            super.didMoveToWindow()
            observer.view?.removeGestureRecognizer(observer)
            window?.addGestureRecognizer(observer)
        }
    }
}

/// A gesture recognizer that notes a touch and immediately steps aside.
final class TouchObserver: UIGestureRecognizer {
    /// Called when a touch begins.
    var onTouch: (() -> Void)?

    override func touchesBegan(_ touches: Set<UITouch>, with event: UIEvent) {
        super.touchesBegan(touches, with: event)
        onTouch?()
        state = .failed
    }

    override func canPrevent(_ preventedGestureRecognizer: UIGestureRecognizer) -> Bool {
        false
    }

    override func canBePrevented(by preventingGestureRecognizer: UIGestureRecognizer) -> Bool {
        false
    }
}
