// Why this file exists: the composition root of the app's state. Given an open store and the
// platform pieces (draft vault, clocks, a coroutine scope), it builds the one CoreEvents observer,
// the app lock and every screen's view model, so the Android shell only supplies those pieces and
// draws what the state flows hold. The JVM tests build it the same way against a real store.

package uk.police.pocketbook.demo.state

import java.time.Clock
import kotlin.time.Duration
import kotlin.time.Duration.Companion.minutes
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.cancel
import uk.police.pocketbook.core.PocketbookInterface

/**
 * Everything the screens observe, for one open store.
 *
 * [scope] should use a main-thread dispatcher on Android (state flows are read by Compose);
 * every store call is made on [io]. [onRevoked] is called when the server revokes the device:
 * the core has erased the database; the app closes this state, erases the key and drafts
 * ([NotebookFiles.erase]) and returns to enrolment.
 */
class PocketbookAppState(
    /** The open store (the generated `Pocketbook`, behind its generated interface). */
    val core: PocketbookInterface,
    /** Sealed storage for drafts. */
    val drafts: DraftVault,
    clock: Clock,
    idleClock: IdleClock,
    /** The coroutine scope every view model runs in; cancelled by [close]. */
    val scope: CoroutineScope,
    io: CoroutineDispatcher,
    lockTimeout: Duration = DEFAULT_LOCK_TIMEOUT,
    autosaveDelay: Duration = DEFAULT_AUTOSAVE_DELAY,
    startLocked: Boolean = true,
    onRevoked: () -> Unit = {},
) : AutoCloseable {
    /** The core's events as flows. */
    val events = CoreEvents(core)

    /** Locks the app after [lockTimeout] idle. */
    val lock = AppLock(idleClock, lockTimeout, startLocked)

    /** Enrolment gate. */
    val enrolment = EnrolmentViewModel(core, scope, io)

    /** Home screen: the visit list. */
    val visits = VisitListViewModel(core, events, scope, io)

    /** Record-visit screen. */
    val recordVisit = RecordVisitViewModel(core, drafts, clock, scope, io, autosaveDelay)

    /** Raise-concern screen. */
    val raiseConcern = RaiseConcernViewModel(core, drafts, clock, scope, io, autosaveDelay)

    /** Child picker shared by the forms and the visit list. */
    val children = ChildSearch(core, scope, io)

    /** A child's chronology (after a reason). */
    val chronology = ChronologyViewModel(core, lock, scope, io)

    /** Sync with progress. */
    val sync = SyncViewModel(core, events, scope, io, onRevoked)

    /** Conflict review. */
    val conflicts = ConflictsViewModel(core, events, scope, io)

    /** Seals both drafts now (call when the app goes to the background). */
    suspend fun flushDrafts() {
        recordVisit.flush()
        raiseConcern.flush()
    }

    /** Stops the observer and every view model's work. The store itself is the caller's to close. */
    override fun close() {
        events.close()
        scope.cancel()
    }

    /** Defaults. */
    companion object {
        /** Lock after five idle minutes. */
        val DEFAULT_LOCK_TIMEOUT: Duration = 5.minutes
    }
}
