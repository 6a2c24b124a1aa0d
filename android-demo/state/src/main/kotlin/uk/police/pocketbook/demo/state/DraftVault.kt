// Why this file exists: a visit or concern in progress must survive the app being killed, but a
// draft holds the same personal data as the record, so it must not be written in the clear.
// The core's API has no place for unfinished records (a draft is not a valid record, and writing
// one would create an outbox entry, an audit event and a sync), so drafts live in memory in the
// view model and are persisted through this interface, whose implementation seals each draft
// with AES-GCM under the platform key. File IO: call from a background thread.

package uk.police.pocketbook.demo.state

import java.io.File
import javax.crypto.SecretKey

/** Encrypted storage for drafts, one blob per slot ("visit", "concern"). */
interface DraftVault {
    /** The stored draft for [slot], or null when there is none or it can no longer be opened. */
    fun read(slot: String): ByteArray?

    /** Stores [bytes] as the draft for [slot], replacing any earlier one. */
    fun write(slot: String, bytes: ByteArray)

    /** Deletes the draft for [slot]. */
    fun delete(slot: String)

    /** Deletes every draft (on sign-out, revocation or reset). */
    fun clear()
}

/**
 * A [DraftVault] of sealed files in [dir] (app-private, excluded from backup), sealed under
 * [key] with the slot name bound in. A draft that no longer opens (the key was reset, the file
 * was damaged or tampered with) is deleted and reads as absent: a lost draft, never a crash.
 */
class SealedDraftVault(private val dir: File, private val key: () -> SecretKey) : DraftVault {
    private fun file(slot: String): SealedFile {
        require(SLOT.matches(slot)) { "draft slot names are lower-case words" }
        return SealedFile(File(dir, "$slot.draft"), "pocketbook-draft-v1:$slot", key)
    }

    override fun read(slot: String): ByteArray? {
        val f = file(slot)
        return try {
            f.read()
        } catch (e: SealBrokenException) {
            f.delete()
            null
        }
    }

    override fun write(slot: String, bytes: ByteArray) = file(slot).write(bytes)

    override fun delete(slot: String) = file(slot).delete()

    override fun clear() {
        dir.listFiles()?.forEach { it.delete() }
    }

    private companion object {
        val SLOT = Regex("[a-z][a-z-]*")
    }
}
