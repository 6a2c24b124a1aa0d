// Why this file exists: where the notebook's files live and how the store is opened with the
// sealed key, in one place the JVM tests exercise (first open makes the key, later opens unseal
// it, a lost platform key is reported, erase removes everything). The Android app passes its
// no-backup directory and the Keystore key; nothing here imports Android. Opening runs the
// store's migrations and touches the disk: call it from a background thread.

package uk.police.pocketbook.demo.state

import java.io.File
import javax.crypto.SecretKey
import uk.police.pocketbook.core.OpenConfig
import uk.police.pocketbook.core.Pocketbook
import uk.police.pocketbook.core.PocketbookException

/**
 * The files of one notebook in [dir]: the encrypted database (with its WAL and SHM files), the
 * sealed database key and the sealed drafts. [wrapKey] is the platform key that seals the
 * database key and the drafts (AndroidKeyStore on a device, a software key in tests).
 */
class NotebookFiles(
    /** App-private directory, excluded from backup (Android: `Context.noBackupFilesDir`). */
    val dir: File,
    wrapKey: () -> SecretKey,
) {
    /** The encrypted SQLite database. */
    val database: File = File(dir, "pocketbook.db")

    /** The database key, sealed. */
    val key: DatabaseKey = DatabaseKey(SealedFile(File(dir, "db-key.sealed"), "pocketbook-db-key-v1", wrapKey))

    /** Drafts in progress, sealed. */
    val drafts: DraftVault = SealedDraftVault(File(dir, "drafts"), wrapKey)

    /**
     * Opens (creating on first use) the encrypted store. The raw key is zeroed as soon as the
     * core has it. Throws [KeyLostException] when the key cannot be recovered or does not open
     * an existing database; other failures are the core's [PocketbookException].
     */
    fun open(deviceName: String): Pocketbook {
        if (database.exists() && !key.exists()) throw KeyLostException()
        val raw = key.getOrCreate()
        try {
            return Pocketbook.open(OpenConfig(database.path, raw, deviceName))
        } catch (e: PocketbookException.WrongKey) {
            throw KeyLostException(e)
        } finally {
            raw.fill(0)
        }
    }

    /**
     * Erases the notebook: database files, sealed key and drafts. Close the store first. After
     * the core's `wipe()` or a revocation only the key and drafts remain, and this removes them.
     */
    fun erase() {
        for (suffix in listOf("", "-wal", "-shm", "-journal")) File(dir, database.name + suffix).delete()
        key.destroy()
        drafts.clear()
    }
}
