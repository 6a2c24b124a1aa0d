// Why this file exists: a notebook of safeguarding records must not stay open on a phone left on
// a desk. The app locks after a period without user activity and unlocks only when the device's
// own credential (PIN, pattern, password or strong biometric) is confirmed. Time comes from an
// injected monotonic clock so the rule is tested without waiting, and so changing the wall clock
// cannot keep the app open. Plain Kotlin: no Android imports.

package uk.police.pocketbook.demo.state

import java.util.concurrent.atomic.AtomicLong
import kotlin.coroutines.cancellation.CancellationException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Monotonic milliseconds that keep counting while the device sleeps. On Android pass
 * `SystemClock::elapsedRealtime` (not `System.nanoTime`, which stops in deep sleep).
 */
fun interface IdleClock {
    /** Milliseconds since some fixed point; never goes backwards. */
    fun nowMillis(): Long
}

/**
 * Asks the officer to confirm the device credential. On Android this is a `BiometricPrompt`
 * allowing the device PIN/pattern/password; true only when the officer passed it.
 */
fun interface DeviceCredential {
    /** Shows the prompt and suspends until the officer passes (true) or gives up (false). */
    suspend fun confirm(): Boolean
}

/**
 * Locks the app after [timeout] without user activity.
 *
 * The app calls [onUserActivity] on every touch, [checkIdle] when it comes to the foreground
 * (and [watch] runs it periodically while visible), and [unlock] from the lock screen.
 * It starts locked, so a cold start asks for the credential too.
 */
class AppLock(
    private val clock: IdleClock,
    /** How long the app may sit idle before it locks. */
    val timeout: Duration,
    startLocked: Boolean = true,
) {
    private val _locked = MutableStateFlow(startLocked)
    private val lastActivity = AtomicLong(clock.nowMillis())

    /** True while the app is locked: screens must show nothing but the lock screen. */
    val locked: StateFlow<Boolean> = _locked.asStateFlow()

    /** Records user activity; postpones the lock. Ignored while locked. */
    fun onUserActivity() {
        if (!_locked.value) lastActivity.set(clock.nowMillis())
    }

    /** Locks if the app has been idle for [timeout] or longer; returns whether it is locked. */
    fun checkIdle(): Boolean {
        if (!_locked.value && clock.nowMillis() - lastActivity.get() >= timeout.inWholeMilliseconds) {
            _locked.value = true
        }
        return _locked.value
    }

    /** Locks now (the officer pressed "lock", or the screen went off). */
    fun lock() {
        _locked.value = true
    }

    /**
     * Asks [credential] and unlocks only if the officer passes it. A prompt that fails or
     * throws leaves the app locked. Returns whether the app is unlocked.
     */
    suspend fun unlock(credential: DeviceCredential): Boolean {
        if (!_locked.value) return true
        val passed = try {
            credential.confirm()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            false
        }
        if (passed) {
            lastActivity.set(clock.nowMillis())
            _locked.value = false
        }
        return passed
    }

    /** Runs [checkIdle] every [period] until cancelled (run it while the app is visible). */
    suspend fun watch(period: Duration = 15.seconds) {
        while (true) {
            checkIdle()
            delay(period)
        }
    }
}
