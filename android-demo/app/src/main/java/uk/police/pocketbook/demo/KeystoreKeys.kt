// Why this file exists: the one platform key of the app, an AES-256-GCM key generated inside the
// AndroidKeyStore (StrongBox when the device has one). It never leaves the secure hardware: the
// app only asks the Keystore to seal and open with it. It seals the database key (32 random bytes
// made once) and the drafts; the raw database key is never written to disk. It is deleted with
// the notebook on reset or revocation. It is deliberately not limited to an unlocked device
// (setUnlockedDeviceRequired): drafts are sealed in onStop, which runs as the power button locks
// the phone, and a draft that cannot be saved then is worse than the small gain; the app lock and
// the device's own encryption cover a locked phone.

package uk.police.pocketbook.demo

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/** The app's wrapping key in the AndroidKeyStore. Calls touch the Keystore: keep them off the UI thread. */
class KeystoreKeys(private val context: Context) {
    /** The wrapping key, generated on first use. */
    @Synchronized
    fun wrappingKey(): SecretKey {
        val store = keyStore()
        (store.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val strongBox = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        return if (strongBox) {
            try {
                generate(strongBox = true)
            } catch (e: StrongBoxUnavailableException) {
                generate(strongBox = false)
            }
        } else {
            generate(strongBox = false)
        }
    }

    /** Deletes the wrapping key: everything it sealed becomes unreadable. */
    @Synchronized
    fun delete() {
        val store = keyStore()
        if (store.containsAlias(ALIAS)) store.deleteEntry(ALIAS)
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun generate(strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            // The Keystore picks every IV itself; the app cannot reuse one.
            .setRandomizedEncryptionRequired(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(strongBox)
            }
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
            .apply { init(spec) }
            .generateKey()
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "pocketbook-wrap-v1"
    }
}
