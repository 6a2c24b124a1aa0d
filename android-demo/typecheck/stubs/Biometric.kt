// Why this file exists: a type-checking stand-in for androidx.biometric 1.1 (see Activity.kt):
// BiometricManager and BiometricPrompt with their documented signatures. Used only by
// android-demo/typecheck, never shipped.
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.biometric

import android.content.Context
import androidx.fragment.app.FragmentActivity
import java.util.concurrent.Executor

/** Stand-in for androidx.biometric.BiometricManager. */
class BiometricManager private constructor() {
    /** Stand-in for the Authenticators constants (a Java annotation interface in the real library). */
    object Authenticators {
        const val BIOMETRIC_STRONG = 0x000F
        const val BIOMETRIC_WEAK = 0x00FF
        const val DEVICE_CREDENTIAL = 0x8000
    }

    /** Stand-in. */
    fun canAuthenticate(authenticators: Int): Int = TODO("type-checking stub")

    /** Stand-in. */
    companion object {
        const val BIOMETRIC_SUCCESS = 0

        /** Stand-in. */
        @JvmStatic
        fun from(context: Context): BiometricManager = TODO("type-checking stub")
    }
}

/** Stand-in for androidx.biometric.BiometricPrompt. */
class BiometricPrompt(activity: FragmentActivity, executor: Executor, callback: AuthenticationCallback) {
    /** Stand-in. */
    abstract class AuthenticationCallback {
        open fun onAuthenticationError(errorCode: Int, errString: CharSequence) {}
        open fun onAuthenticationSucceeded(result: AuthenticationResult) {}
        open fun onAuthenticationFailed() {}
    }

    /** Stand-in. */
    class AuthenticationResult

    /** Stand-in. */
    class PromptInfo {
        /** Stand-in. */
        class Builder {
            fun setTitle(title: CharSequence): Builder = this
            fun setSubtitle(subtitle: CharSequence?): Builder = this
            fun setAllowedAuthenticators(allowedAuthenticators: Int): Builder = this
            fun build(): PromptInfo = PromptInfo()
        }
    }

    /** Stand-in. */
    fun authenticate(info: PromptInfo) {}

    /** Stand-in. */
    fun cancelAuthentication() {}
}
