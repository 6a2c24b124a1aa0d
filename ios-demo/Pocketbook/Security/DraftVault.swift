// Why this file exists: a half-written visit or concern must survive the app being locked or
// killed, but must never be written in plaintext (not to UserDefaults, not to @SceneStorage,
// not to a plain file). Drafts are sealed with AES-GCM under a key derived from the store key
// and written with complete file protection into the backup-excluded store directory.

import CryptoKit
import Foundation

/// Encrypted autosave for unfinished forms, one slot per form.
///
/// An actor, so the small file reads and writes happen off the main thread. A draft that
/// cannot be opened (another key, a damaged file) is deleted and treated as absent.
actor DraftVault {
    /// Sealing produced no combined box (cannot happen with the default 12-byte nonce).
    struct SealError: Error {}

    /// Which form a draft belongs to.
    enum Slot: String, Sendable, CaseIterable {
        /// The record-visit form.
        case visit
        /// The raise-concern form.
        case concern
    }

    private let directory: URL
    private let key: SymmetricKey

    /// A vault in `directory`, sealing with `key` (see `deriveKey(fromStoreKey:)`).
    init(directory: URL, key: SymmetricKey) {
        self.directory = directory
        self.key = key
    }

    /// The drafts key: HKDF-SHA256 of the store key with its own label, so the store key itself
    /// is never used for anything but the store.
    static func deriveKey(fromStoreKey storeKey: Data) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: storeKey),
            salt: Data("uk.police.pocketbook.drafts".utf8),
            info: Data("AES-GCM-256 v1".utf8),
            outputByteCount: 32
        )
    }

    /// Seals `value` and writes it to its slot, replacing any earlier draft.
    func save<T: Encodable & Sendable>(_ value: T, in slot: Slot) throws {
        let plain = try JSONEncoder().encode(value)
        let sealed = try AES.GCM.seal(plain, using: key, authenticating: Data(slot.rawValue.utf8))
        guard let combined = sealed.combined else { throw SealError() }
        try FileManager.default.createDirectory(
            at: directory,
            withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.complete]
        )
        try combined.write(to: url(of: slot), options: [.atomic, .completeFileProtection])
    }

    /// The draft in `slot`, or nil when there is none or it cannot be opened.
    func load<T: Decodable & Sendable>(_ type: T.Type, from slot: Slot) -> T? {
        guard let combined = try? Data(contentsOf: url(of: slot)) else { return nil }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(slot.rawValue.utf8))
            return try JSONDecoder().decode(T.self, from: plain)
        } catch {
            discard(slot)
            return nil
        }
    }

    /// Deletes the draft in `slot`.
    func discard(_ slot: Slot) {
        try? FileManager.default.removeItem(at: url(of: slot))
    }

    /// Deletes every draft.
    func discardAll() {
        for slot in Slot.allCases { discard(slot) }
    }

    private func url(of slot: Slot) -> URL {
        directory.appending(path: "\(slot.rawValue).draft", directoryHint: .notDirectory)
    }
}
