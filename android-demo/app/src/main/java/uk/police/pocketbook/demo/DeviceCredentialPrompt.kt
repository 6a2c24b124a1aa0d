// Why this file exists: the app lock (in the state module) unlocks only when the officer passes
// the device's own credential. This is that check on Android: a BiometricPrompt that accepts a
// strong biometric or the device PIN, pattern or password. The prompt is created in the
// activity's onCreate (as BiometricPrompt requires) and reused for every unlock.

package uk.police.pocketbook.demo

import android.os.Build
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_WEAK
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import uk.police.pocketbook.demo.state.DeviceCredential

/** The device-credential check behind the app lock. Create it in `onCreate`. */
class DeviceCredentialPrompt(activity: FragmentActivity) : DeviceCredential {
    // Strong biometric or device credential; before Android 11 that pair is not supported, and
    // weak biometric or device credential is the closest allowed combination.
    private val authenticators =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) BIOMETRIC_STRONG or DEVICE_CREDENTIAL
        else BIOMETRIC_WEAK or DEVICE_CREDENTIAL
    private val manager = BiometricManager.from(activity)
    private var pending: CompletableDeferred<Boolean>? = null

    private val prompt = BiometricPrompt(
        activity,
        ContextCompat.getMainExecutor(activity),
        object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                pending?.complete(true)
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                pending?.complete(false)
            }
            // onAuthenticationFailed is one wrong attempt; the prompt stays up for another.
        },
    )

    /** True when the device has a screen lock to ask for; without one the notebook stays locked. */
    fun available(): Boolean = manager.canAuthenticate(authenticators) == BiometricManager.BIOMETRIC_SUCCESS

    override suspend fun confirm(): Boolean = withContext(Dispatchers.Main) {
        if (!available()) return@withContext false
        pending?.complete(false)
        val waiting = CompletableDeferred<Boolean>()
        pending = waiting
        prompt.authenticate(
            BiometricPrompt.PromptInfo.Builder()
                .setTitle("Unlock Pocketbook")
                .setSubtitle("Confirm it is you to see your notebook")
                .setAllowedAuthenticators(authenticators)
                .build(),
        )
        try {
            waiting.await()
        } catch (e: CancellationException) {
            // The lock screen left the composition (say the activity was recreated): close the
            // prompt, the new lock screen asks again.
            prompt.cancelAuthentication()
            throw e
        } finally {
            if (pending === waiting) pending = null
        }
    }
}
