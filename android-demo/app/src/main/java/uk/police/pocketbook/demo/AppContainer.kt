// Why this file exists: the app's composition root on Android. It opens the encrypted store off
// the main thread with the Keystore-sealed key (NotebookFiles in the state module does the work),
// builds the PocketbookAppState the screens observe, flushes drafts when the app goes to the
// background, and resets the notebook when the server revokes the device or the key is lost.

package uk.police.pocketbook.demo

import android.app.Application
import android.os.Build
import android.os.SystemClock
import java.io.File
import java.security.GeneralSecurityException
import java.time.Clock
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import uk.police.pocketbook.core.Pocketbook
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.demo.state.IdleClock
import uk.police.pocketbook.demo.state.KeyLostException
import uk.police.pocketbook.demo.state.NotebookFiles
import uk.police.pocketbook.demo.state.PocketbookAppState
import uk.police.pocketbook.demo.state.toProblem

/** Where app start-up stands. */
sealed interface Startup {
    /** Opening the store (migrations run here). */
    data object Opening : Startup

    /** The store is open; [notice] is shown once on the enrolment screen (e.g. after revocation). */
    data class Ready(val state: PocketbookAppState, val notice: String? = null) : Startup

    /** The key cannot be recovered: offer to erase the notebook and start again. */
    data object KeyLost : Startup

    /** The store could not be opened now; [message] says why, and the officer may try again. */
    data class Failed(val message: String) : Startup
}

/** Holds the open store and its state for the life of the process. */
class AppContainer(private val app: Application) {
    private val keys = KeystoreKeys(app)
    private val files = NotebookFiles(File(app.noBackupFilesDir, "pocketbook"), keys::wrappingKey)
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate)
    private val _startup = MutableStateFlow<Startup>(Startup.Opening)
    private var core: Pocketbook? = null

    /** Start-up state; the activity draws from it. */
    val startup: StateFlow<Startup> = _startup.asStateFlow()

    /** Opens the store (at process start, and again when the officer retries after [Startup.Failed]). */
    fun start() {
        scope.launch {
            _startup.value = Startup.Opening
            _startup.value = open(notice = null)
        }
    }

    /** Seals the drafts now: the app is going to the background and may be killed. */
    fun onBackground() {
        val ready = _startup.value as? Startup.Ready ?: return
        scope.launch { ready.state.flushDrafts() }
    }

    /** Erases the notebook (database, sealed key, drafts, Keystore key) and opens a fresh one. */
    fun reset(notice: String? = null) {
        scope.launch {
            (_startup.value as? Startup.Ready)?.state?.close()
            _startup.value = Startup.Opening
            withContext(Dispatchers.IO) {
                core?.close()
                core = null
                files.erase()
                keys.delete()
            }
            _startup.value = open(notice)
        }
    }

    private suspend fun open(notice: String?): Startup = withContext(Dispatchers.IO) {
        try {
            val opened = files.open(deviceName = Build.MODEL)
            core = opened
            Startup.Ready(
                PocketbookAppState(
                    core = opened,
                    drafts = files.drafts,
                    clock = Clock.systemDefaultZone(),
                    // Keeps counting in deep sleep, unlike System.nanoTime.
                    idleClock = IdleClock { SystemClock.elapsedRealtime() },
                    scope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate),
                    io = Dispatchers.IO,
                    onRevoked = { reset(notice = "This device was revoked and its notebook erased.") },
                ),
                notice,
            )
        } catch (e: KeyLostException) {
            Startup.KeyLost
        } catch (e: PocketbookException) {
            Startup.Failed(e.toProblem().message)
        } catch (e: GeneralSecurityException) {
            // The Keystore refused for now (busy, or the device is locked): not a lost key.
            Startup.Failed("The secure key store is not available right now. Unlock the phone and try again.")
        }
    }
}
