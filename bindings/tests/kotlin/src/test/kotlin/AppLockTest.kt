// Why this file exists: JVM tests of the Android demo's app lock (android-demo/state): it starts
// locked, locks after the idle timeout measured on an injected clock, and unlocks only when the
// device-credential callback passes.

import java.util.concurrent.atomic.AtomicLong
import kotlin.time.Duration.Companion.minutes
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import uk.police.pocketbook.demo.state.AppLock
import uk.police.pocketbook.demo.state.IdleClock

/** A clock the test moves by hand. */
class FakeIdleClock : IdleClock {
    private val now = AtomicLong(1_000_000)
    override fun nowMillis(): Long = now.get()
    fun advanceMinutes(minutes: Long) {
        now.addAndGet(minutes * 60_000)
    }
}

class AppLockTest {
    private val clock = FakeIdleClock()
    private val lock = AppLock(clock, 5.minutes)

    @Test
    fun `starts locked and unlocks only when the device credential passes`() = runBlocking<Unit> {
        assertTrue(lock.locked.value)
        assertFalse(lock.unlock { false })
        assertTrue(lock.locked.value)
        assertFalse(lock.unlock { error("prompt failed") })
        assertTrue(lock.locked.value)
        var asked = 0
        assertTrue(lock.unlock { asked++; true })
        assertFalse(lock.locked.value)
        assertTrue(lock.unlock { asked++; true })
        assertEquals(1, asked, "an unlocked app does not prompt again")
    }

    @Test
    fun `locks after the idle timeout and activity postpones it`() = runBlocking<Unit> {
        lock.unlock { true }
        clock.advanceMinutes(4)
        assertFalse(lock.checkIdle())
        lock.onUserActivity()
        clock.advanceMinutes(4)
        assertFalse(lock.checkIdle(), "activity restarted the idle period")
        clock.advanceMinutes(1)
        assertTrue(lock.checkIdle())
        assertTrue(lock.locked.value)
        lock.onUserActivity()
        assertTrue(lock.locked.value, "activity does not unlock")
        assertTrue(lock.unlock { true })
        assertFalse(lock.checkIdle(), "unlocking restarts the idle period")
        lock.lock()
        assertTrue(lock.locked.value)
    }
}
