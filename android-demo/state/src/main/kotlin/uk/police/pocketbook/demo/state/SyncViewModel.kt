// Why this file exists: the sync screen runs one sync at a time (push, then pull), shows its
// progress from the core's observer events and the report when it ends, and lists where sync
// stands (pending changes, open conflicts, changes the server refused). It also turns the two
// server answers that change the app's state into actions: a revoked device (the core has already
// erased the store; the app must delete the key) and an expired lease (ask for a new code).

package uk.police.pocketbook.demo.state

import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface
import uk.police.pocketbook.core.SyncReport
import uk.police.pocketbook.core.SyncStatus

/** What the sync screen shows. */
data class SyncState(
    /** True while a sync runs. */
    val running: Boolean = false,
    /** The latest progress of the running sync. */
    val progress: SyncProgress? = null,
    /** The report of the last sync this session. */
    val lastReport: SyncReport? = null,
    /** Where sync stands (null until read, or before enrolment). */
    val status: SyncStatus? = null,
    /** A failure to show; [Problem.LeaseExpired] means "ask for a new code". */
    val problem: Problem? = null,
)

/** Runs syncs and reports where sync stands. */
class SyncViewModel(
    private val core: PocketbookInterface,
    events: CoreEvents,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    /** Called once the server has revoked this device (the core has erased the store). */
    private val onRevoked: () -> Unit,
) {
    private val _state = MutableStateFlow(SyncState())
    private val running = AtomicBoolean(false)

    /** The screen's state. */
    val state: StateFlow<SyncState> = _state.asStateFlow()

    init {
        scope.launch {
            events.progress.collect { p -> _state.update { if (it.running) it.copy(progress = p) else it } }
        }
        scope.launch(io) {
            events.changes.collect { readStatus() }
        }
    }

    /** Starts a sync unless one is running; the returned job ends with it. */
    fun sync(): Job = scope.launch(io) {
        if (!running.compareAndSet(false, true)) return@launch
        _state.update { it.copy(running = true, progress = null, problem = null) }
        try {
            val report = core.sync()
            _state.update { it.copy(running = false, lastReport = report) }
            readStatus()
        } catch (e: PocketbookException) {
            _state.update { it.copy(running = false, problem = e.toProblem()) }
            if (e is PocketbookException.DeviceRevoked) onRevoked()
        } finally {
            running.set(false)
            _state.update { it.copy(running = false) }
        }
    }

    /** Enrols again with a new code after [Problem.LeaseExpired], keeping device id and unsynced work. */
    fun reauthenticate(code: String): Job = scope.launch(io) {
        try {
            core.reauthenticate(code.trim())
            _state.update { it.copy(problem = null) }
            readStatus()
        } catch (e: PocketbookException) {
            _state.update { it.copy(problem = e.toProblem()) }
            if (e is PocketbookException.DeviceRevoked) onRevoked()
        }
    }

    /** Reads where sync stands now. */
    fun refresh(): Job = scope.launch(io) { readStatus() }

    private fun readStatus() {
        try {
            val status = core.syncStatus()
            _state.update { it.copy(status = status) }
        } catch (e: PocketbookException.NotEnrolled) {
            _state.update { it.copy(status = null) }
        } catch (e: PocketbookException) {
            _state.update { it.copy(problem = e.toProblem()) }
        }
    }
}
