// Why this file exists: the encrypted store needs a 32-byte raw key that never sits on disk in
// plaintext and never leaves the device. It is made once with SecRandomCopyBytes and kept in
// the Keychain as WhenUnlockedThisDeviceOnly: readable only while the phone is unlocked, never
// synced to iCloud Keychain and never restored onto another device from a backup.

import Foundation
import Security

/// What went wrong with the key.
enum KeyStoreError: Error, Equatable {
    /// The system random generator failed.
    case randomFailed(OSStatus)
    /// A Keychain call failed with this status.
    case keychain(OSStatus)
    /// The stored item is not a 32-byte key.
    case malformedKey
}

/// The store key in the Keychain.
///
/// Keychain calls may block briefly: call these off the main thread.
struct DatabaseKeyStore: Sendable {
    /// The core wants exactly 32 bytes (a raw SQLCipher key, no KDF).
    static let keyLength = 32

    private let service = "uk.police.pocketbook.demo.store-key"
    private let account = "notebook.db"

    /// The key, or nil when none has been made yet.
    func existingKey() throws -> Data? {
        var query = baseQuery
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let key = item as? Data, key.count == Self.keyLength else {
                throw KeyStoreError.malformedKey
            }
            return key
        case errSecItemNotFound:
            return nil
        default:
            throw KeyStoreError.keychain(status)
        }
    }

    /// Makes a new random key and stores it. If another caller stored one first, returns that.
    func createKey() throws -> Data {
        var bytes = [UInt8](repeating: 0, count: Self.keyLength)
        let random = bytes.withUnsafeMutableBytes { buffer -> OSStatus in
            guard let base = buffer.baseAddress else { return errSecAllocate }
            return SecRandomCopyBytes(kSecRandomDefault, Self.keyLength, base)
        }
        guard random == errSecSuccess else { throw KeyStoreError.randomFailed(random) }
        let key = Data(bytes)
        // Best effort: Swift may have copied the bytes elsewhere; the Keychain copy is the one
        // that matters.
        for index in bytes.indices { bytes[index] = 0 }

        var attributes = baseQuery
        attributes[kSecValueData as String] = key
        attributes[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        let status = SecItemAdd(attributes as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            return key
        case errSecDuplicateItem:
            if let existing = try existingKey() { return existing }
            throw KeyStoreError.keychain(status)
        default:
            throw KeyStoreError.keychain(status)
        }
    }

    /// Deletes the key (after a wipe or a revocation). Deleting a missing key is not an error.
    func deleteKey() throws {
        let status = SecItemDelete(baseQuery as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeyStoreError.keychain(status)
        }
    }

    /// The attributes that identify the item: a generic password that is never synchronised.
    private var baseQuery: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecAttrSynchronizable as String: false,
        ]
    }
}
