// Why this file exists: the database key and the officer's drafts must never be on disk in the
// clear. Both are sealed with AES-256-GCM under a key the caller holds; on Android that key is a
// non-exportable AES key in the AndroidKeyStore, so the sealed files are useless off the device.
// The sealing code is plain javax.crypto, the same on the JVM and on Android, so the JVM tests
// exercise exactly the code the app runs (with a software key in place of the Keystore one).
// File IO: call from a background thread.

package uk.police.pocketbook.demo.state

import java.io.File
import java.io.FileOutputStream
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** A sealed blob that does not open: wrong or lost key, tampering, or a damaged file. */
class SealBrokenException(message: String, cause: Throwable? = null) : Exception(message, cause)

/**
 * AES-GCM sealing. Layout: version (1 byte), IV length (1 byte), IV, ciphertext and tag.
 * The [context] string is bound in as associated data, so a blob sealed for one purpose
 * (say a draft) cannot be passed off as another (the database key).
 */
object Seal {
    private const val VERSION: Byte = 1
    private const val TAG_BITS = 128
    private const val TRANSFORMATION = "AES/GCM/NoPadding"

    /**
     * Seals [plaintext] under [key]. The cipher picks a fresh random IV itself: the Android
     * Keystore refuses caller-chosen IVs for encryption, and it is the safe default anyway.
     */
    fun seal(key: SecretKey, plaintext: ByteArray, context: String): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key)
        cipher.updateAAD(context.toByteArray(Charsets.UTF_8))
        val body = cipher.doFinal(plaintext)
        val iv = cipher.iv
        return byteArrayOf(VERSION, iv.size.toByte()) + iv + body
    }

    /**
     * Opens what [seal] made with the same key and context. A blob that is damaged, tampered
     * with or sealed under another key or context is [SealBrokenException] (permanent). Other
     * `GeneralSecurityException`s pass through: on Android they can be passing states of the
     * Keystore (unavailable for a moment), and must not be mistaken for a lost key.
     */
    fun open(key: SecretKey, sealed: ByteArray, context: String): ByteArray {
        if (sealed.size < 2 || sealed[0] != VERSION) throw SealBrokenException("unknown sealed format")
        val ivLength = sealed[1].toInt() and 0xff
        if (ivLength == 0 || sealed.size < 2 + ivLength + TAG_BITS / 8) {
            throw SealBrokenException("sealed blob is truncated")
        }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, sealed, 2, ivLength))
        cipher.updateAAD(context.toByteArray(Charsets.UTF_8))
        return try {
            cipher.doFinal(sealed, 2 + ivLength, sealed.size - 2 - ivLength)
        } catch (e: AEADBadTagException) {
            throw SealBrokenException("sealed blob does not open with this key", e)
        }
    }
}

/**
 * One file holding a sealed blob, written atomically (temporary file, sync, rename) so a crash
 * leaves the old blob or the new one, never half of either. [key] is asked for on every use, so
 * a Keystore entry deleted by a reset is never used from a stale cache.
 */
class SealedFile(
    /** Where the sealed blob lives (app-private storage). */
    val file: File,
    private val context: String,
    private val key: () -> SecretKey,
) {
    /** True when a blob is stored. */
    fun exists(): Boolean = file.isFile

    /** The opened blob, or null when there is none; throws [SealBrokenException] if it does not open. */
    fun read(): ByteArray? {
        if (!file.isFile) return null
        return Seal.open(key(), file.readBytes(), context)
    }

    /** Seals and stores [plaintext], replacing any earlier blob. */
    fun write(plaintext: ByteArray) {
        val sealed = Seal.seal(key(), plaintext, context)
        file.parentFile?.mkdirs()
        val tmp = File(file.parentFile, file.name + ".tmp")
        FileOutputStream(tmp).use { out ->
            out.write(sealed)
            out.fd.sync()
        }
        Files.move(
            tmp.toPath(), file.toPath(),
            StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE,
        )
    }

    /** Deletes the blob (and any temporary file a crash left behind). */
    fun delete() {
        file.delete()
        File(file.parentFile, file.name + ".tmp").delete()
    }
}
