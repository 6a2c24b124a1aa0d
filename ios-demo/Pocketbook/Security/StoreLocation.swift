// Why this file exists: it decides where the encrypted store and the encrypted drafts live and
// hardens that place: Application Support (not Documents, so never shown in the Files app),
// complete data protection on the directory and every file in it (the database and its -wal
// and -shm files included), and excluded from iCloud and Finder backups.

import Foundation

/// The directory holding the store (`notebook.db` and its -wal/-shm files) and the drafts.
///
/// Every method does file IO: call them off the main thread.
struct StoreLocation: Sendable {
    /// The directory (Application Support/Pocketbook).
    let directory: URL

    /// The default location in the app's Application Support directory.
    init(directory: URL = URL.applicationSupportDirectory.appending(path: "Pocketbook", directoryHint: .isDirectory)) {
        self.directory = directory
    }

    /// The database file the core opens.
    var databaseURL: URL {
        directory.appending(path: "notebook.db", directoryHint: .notDirectory)
    }

    /// Where the encrypted drafts go.
    var draftsDirectory: URL {
        directory.appending(path: "Drafts", directoryHint: .isDirectory)
    }

    /// Whether a store has been created here.
    var storeExists: Bool {
        FileManager.default.fileExists(atPath: databaseURL.path(percentEncoded: false))
    }

    /// Creates the directories with complete protection and hardens what is already there.
    func prepare() throws {
        let files = FileManager.default
        for dir in [directory, draftsDirectory] {
            try files.createDirectory(
                at: dir,
                withIntermediateDirectories: true,
                attributes: [.protectionKey: FileProtectionType.complete]
            )
        }
        try harden()
    }

    /// Applies complete protection to the directory and everything in it, and excludes the
    /// directory (with its contents) from backup. Call again after the store is opened, so the
    /// -wal and -shm files SQLite has just made are covered too. (New files are complete anyway:
    /// the app's default-data-protection entitlement says so.)
    func harden() throws {
        let files = FileManager.default
        var items = [directory]
        if let walker = files.enumerator(at: directory, includingPropertiesForKeys: nil) {
            for case let url as URL in walker {
                items.append(url)
            }
        }
        for url in items {
            try files.setAttributes(
                [.protectionKey: FileProtectionType.complete],
                ofItemAtPath: url.path(percentEncoded: false)
            )
        }
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        var dir = directory
        try dir.setResourceValues(values)
    }

    /// Deletes the directory and everything in it (after a wipe, a revocation or a lost key).
    func eraseAll() throws {
        let files = FileManager.default
        if files.fileExists(atPath: directory.path(percentEncoded: false)) {
            try files.removeItem(at: directory)
        }
    }
}
