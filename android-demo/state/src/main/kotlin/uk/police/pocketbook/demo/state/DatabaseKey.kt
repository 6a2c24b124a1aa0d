// Why this file exists: the encrypted store needs a 32-byte raw key (SQLCipher, no KDF). It is
// made once from SecureRandom on first launch, sealed under the platform key (Android Keystore)
// and stored only in that sealed form; the raw bytes live in memory just long enough to open the
// store. Plain Kotlin, tested on the JVM; file IO, so call it from a background thread.

package uk.police.pocketbook.demo.state

import java.security.SecureRandom

/**
 * The store's key could not be recovered: the platform key that sealed it is gone (for example
 * the device's screen lock was removed, or the app data was restored onto another device), or the
 * store does not open with it. The records cannot be read again; the app offers to erase the
 * notebook and enrol afresh (unsynced work is lost, synced work comes back from the server).
 */
class KeyLostException(cause: Throwable? = null) :
    Exception("the notebook's key can no longer be recovered", cause)

/** The store's raw key, made once and kept only sealed in [sealed]. */
class DatabaseKey(
    private val sealed: SealedFile,
    private val random: SecureRandom = SecureRandom(),
) {
    /** True when a key was made before (its sealed blob exists). */
    fun exists(): Boolean = sealed.exists()

    /**
     * The key: unsealed if it exists, otherwise made from 32 random bytes and sealed first.
     * The caller zeroes the returned array once the store is open.
     * Throws [KeyLostException] if a sealed key exists but does not open.
     */
    fun getOrCreate(): ByteArray {
        val existing = try {
            sealed.read()
        } catch (e: SealBrokenException) {
            throw KeyLostException(e)
        }
        if (existing != null) {
            if (existing.size != KEY_BYTES) throw KeyLostException()
            return existing
        }
        val key = ByteArray(KEY_BYTES).also(random::nextBytes)
        sealed.write(key)
        return key
    }

    /** Deletes the sealed key (the app also deletes the platform key). */
    fun destroy() = sealed.delete()

    /** Key size SQLCipher takes as a raw key. */
    companion object {
        /** 256 bits. */
        const val KEY_BYTES = 32
    }
}
