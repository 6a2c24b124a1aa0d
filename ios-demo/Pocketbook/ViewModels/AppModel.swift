// Why this file exists: the app's life cycle is a small state machine — locked, unlocking,
// enrolling, ready, and the ways out of it (inactivity, the background, a revoked device, an
// expired lease, a lost key). AppModel owns that machine, the one open notebook, the app lock
// and the privacy shield, so no screen has to know about any of them.

import Foundation
import Observation
import SwiftUI
import UIKit

/// Where the app is.
enum AppPhase {
    /// The store is closed; `message` says why, if there is something to say.
    case locked(message: String?)
    /// Authenticating and opening the store.
    case unlocking
    /// A store exists but its key is gone: it can only be erased.
    case keyLost
    /// Open, but not enrolled yet.
    case enrolment(OpenNotebook)
    /// Open, but the lease ran out: needs a new code.
    case reauthentication(OpenNotebook)
    /// Open and enrolled: the notebook screens.
    case ready(OpenNotebook)
    /// The server revoked this device; everything has been erased.
    case revoked
    /// Something went wrong opening the store.
    case failed(String)
}

/// The app's root view model.
@MainActor
@Observable
final class AppModel {
    /// Where the app is; RootView shows the matching screen.
    private(set) var phase: AppPhase = .locked(message: nil)

    private let keys: DatabaseKeyStore
    private let location: StoreLocation
    private let appLock: AppLock
    private let shield: PrivacyShield

    init() {
        keys = DatabaseKeyStore()
        location = StoreLocation()
        appLock = AppLock()
        shield = PrivacyShield()
        appLock.onTimeout = { [weak self] in
            self?.lock(message: "Locked after a few minutes without use.")
        }
    }

    // MARK: Unlocking

    /// Asks the device owner to authenticate, then opens the store.
    func unlock() async {
        guard case .locked = phase else { return }
        phase = .unlocking
        do {
            try await appLock.authenticate()
        } catch AppLockError.cancelled {
            phase = .locked(message: nil)
            return
        } catch AppLockError.noPasscode {
            phase = .locked(message: "Set a device passcode to use Pocketbook: without one, nothing on this phone is protected.")
            return
        } catch {
            phase = .locked(message: "Unlocking failed. Try again.")
            return
        }
        await openNotebook()
    }

    private func openNotebook() async {
        let opener = StoreOpener(keys: keys, location: location, deviceName: "Pocketbook iOS demo (\(UIDevice.current.model))")
        let opened: OpenedStore
        do {
            opened = try await Task.detached(priority: .userInitiated) { try opener.open() }.value
        } catch StoreOpenError.keyLost {
            phase = .keyLost
            return
        } catch StoreOpenError.core(let error) {
            phase = .failed(error.userMessage)
            return
        } catch {
            phase = .failed("The notebook's secure storage could not be prepared. Restart the phone and try again.")
            return
        }

        let notebook = OpenNotebook(opened: opened)
        // Locked (backgrounded) while opening: close again at once.
        guard case .unlocking = phase else {
            notebook.close()
            return
        }
        notebook.onAccessLost = { [weak self, weak notebook] loss in
            guard let self, let notebook else { return }
            self.accessLost(loss, notebook: notebook)
        }
        notebook.onActivity = { [weak self] in
            self?.noteActivity()
        }
        appLock.startWatching()

        do {
            try await notebook.refreshSession()
            guard case .unlocking = phase else { return notebook.close() }
            phase = .ready(notebook)
        } catch PocketbookError.NotEnrolled {
            guard case .unlocking = phase else { return notebook.close() }
            phase = .enrolment(notebook)
        } catch PocketbookError.LeaseExpired {
            guard case .unlocking = phase else { return notebook.close() }
            phase = .reauthentication(notebook)
        } catch PocketbookError.DeviceRevoked {
            revoked(notebook)
        } catch {
            notebook.close()
            appLock.stopWatching()
            phase = .failed((error as? PocketbookError)?.userMessage ?? "The notebook could not be opened.")
        }
    }

    // MARK: Locking

    /// Closes the store and shows the lock screen.
    func lock(message: String? = nil) {
        appLock.stopWatching()
        switch phase {
        case .locked, .revoked:
            return
        case let .enrolment(notebook), let .reauthentication(notebook), let .ready(notebook):
            notebook.close()
        case .unlocking, .keyLost, .failed:
            break
        }
        phase = .locked(message: message)
    }

    /// The officer touched or typed something.
    func noteActivity() {
        appLock.noteActivity()
    }

    /// Covers the app whenever it is not active and locks it when it goes to the background.
    func scenePhaseChanged(_ scenePhase: ScenePhase) {
        switch scenePhase {
        case .active:
            shield.hide()
            appLock.noteActivity()
        case .inactive:
            shield.show()
        case .background:
            shield.show()
            lock()
        @unknown default:
            shield.show()
        }
    }

    // MARK: Enrolment and loss of access

    /// Enrolment (or reauthentication) succeeded.
    func enrolled(_ notebook: OpenNotebook) {
        phase = .ready(notebook)
    }

    private func accessLost(_ loss: AccessLoss, notebook: OpenNotebook) {
        switch loss {
        case .revoked:
            revoked(notebook)
        case .leaseExpired:
            phase = .reauthentication(notebook)
        case .notEnrolled:
            phase = .enrolment(notebook)
        }
    }

    /// The core has erased the store; remove the drafts and the key too.
    private func revoked(_ notebook: OpenNotebook) {
        notebook.close()
        appLock.stopWatching()
        phase = .revoked
        let keys = self.keys, location = self.location
        Task.detached(priority: .userInitiated) {
            try? location.eraseAll()
            try? keys.deleteKey()
        }
    }

    /// Erases this device's notebook at the officer's request (unsynced work is lost).
    func eraseDevice(_ notebook: OpenNotebook) async {
        _ = try? await notebook.call { try $0.wipe() }
        notebook.close()
        appLock.stopWatching()
        phase = .locked(message: "This device's notebook has been erased.")
        await eraseFilesAndKey()
    }

    /// Erases a store whose key is lost, so a new one can be made.
    func eraseAfterKeyLoss() async {
        await eraseFilesAndKey()
        phase = .locked(message: "Erased. Unlock to start a new notebook.")
    }

    /// Back to the lock screen (after a revocation or a failure).
    func startAgain() {
        phase = .locked(message: nil)
    }

    private func eraseFilesAndKey() async {
        let keys = self.keys, location = self.location
        await Task.detached(priority: .userInitiated) {
            try? location.eraseAll()
            try? keys.deleteKey()
        }.value
    }
}
