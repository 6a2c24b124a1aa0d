// Why this file exists: opening the notebook is the one place where the key, the hardened
// directory and the core meet: fetch (or, for a new store, make) the Keychain key, prepare the
// protected directory, open and migrate the encrypted store, then harden the files SQLite made.
// It runs off the main thread (Keychain, disk, migrations).

import CryptoKit
import Foundation

/// Why the notebook could not be opened.
enum StoreOpenError: Error {
    /// A store exists but its key is gone or does not open it (e.g. a backup restored onto a
    /// new phone: the key never leaves the old one). Its unsynced work cannot be read.
    case keyLost
    /// Preparing the key or the directory failed.
    case setup(Error)
    /// The core refused to open the store.
    case core(PocketbookError)
}

/// An opened store, and where and with what key its drafts are sealed.
struct OpenedStore: Sendable {
    let book: Pocketbook
    let draftsDirectory: URL
    let draftKey: SymmetricKey
}

/// Opens the encrypted store with the Keychain key. Blocking: run it detached.
struct StoreOpener: Sendable {
    let keys: DatabaseKeyStore
    let location: StoreLocation
    /// Shown to the force's IT team in the device list (no personal data).
    let deviceName: String

    func open() throws -> OpenedStore {
        let key: Data
        do {
            try location.prepare()
            if let existing = try keys.existingKey() {
                key = existing
            } else if location.storeExists {
                throw StoreOpenError.keyLost
            } else {
                key = try keys.createKey()
            }
        } catch let error as StoreOpenError {
            throw error
        } catch KeyStoreError.malformedKey {
            throw StoreOpenError.keyLost
        } catch {
            throw StoreOpenError.setup(error)
        }

        let book: Pocketbook
        do {
            book = try Pocketbook.open(config: OpenConfig(
                dbPath: location.databaseURL.path(percentEncoded: false),
                key: key,
                deviceName: deviceName
            ))
        } catch PocketbookError.WrongKey {
            throw StoreOpenError.keyLost
        } catch let error as PocketbookError {
            throw StoreOpenError.core(error)
        }

        do {
            try location.harden()
        } catch {
            throw StoreOpenError.setup(error)
        }
        return OpenedStore(
            book: book,
            draftsDirectory: location.draftsDirectory,
            draftKey: DraftVault.deriveKey(fromStoreKey: key)
        )
    }
}
