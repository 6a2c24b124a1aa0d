// Why this file exists: the home screen lists the officer's visits, most recent first, with the
// names of the children visited and how many changes wait to be synced. It reloads itself when
// the core reports a change (a record written here, or a sync), so the screen never polls.

package uk.police.pocketbook.demo.state

import java.time.Instant
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import uk.police.pocketbook.core.DataChange
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.core.VisitOutcome

/** One line of the visit list. */
data class VisitRow(
    /** Visit id. */
    val id: String,
    /** When it started. */
    val start: Instant,
    /** Kind. */
    val kind: VisitKind,
    /** Outcome. */
    val outcome: VisitOutcome,
    /** Place. */
    val place: String,
    /** The children visited (tap one for their chronology). */
    val children: List<ChildRef>,
)

/** What the visit list shows. */
data class VisitListState(
    /** True until the first load finishes. */
    val loading: Boolean = true,
    /** Visits, most recent first. */
    val visits: List<VisitRow> = emptyList(),
    /** Changes waiting to be pushed. */
    val pendingChanges: Int = 0,
    /**
     * A failure to show. While the lease has lapsed the list holds only the visits recorded
     * since, and this is [Problem.LeaseExpired] ("ask for a new code").
     */
    val problem: Problem? = null,
)

/** The visit list, kept current by the core's change events. */
class VisitListViewModel(
    private val core: PocketbookInterface,
    events: CoreEvents,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    private val _state = MutableStateFlow(VisitListState())

    /** The screen's state. */
    val state: StateFlow<VisitListState> = _state.asStateFlow()

    init {
        scope.launch(io) {
            events.changes
                .onSubscription { emit(DataChange.LOCAL) } // first load, once subscribed
                .conflate()
                .collect { load() }
        }
    }

    /** Reloads now (pull-to-refresh, or after unlocking). */
    fun refresh(): Job = scope.launch(io) { load() }

    private fun load() {
        try {
            val names = HashMap<String, ChildRef>()
            fun child(id: String): ChildRef = names.getOrPut(id) {
                try {
                    ChildRef.of(core.youngPerson(id))
                } catch (e: PocketbookException.NotFound) {
                    ChildRef(id, "Unknown young person")
                } catch (e: PocketbookException.LeaseExpired) {
                    ChildRef(id, "Young person (hidden until you reauthenticate)")
                }
            }
            // While the lease has lapsed the core lists only visits recorded since; the outbox
            // itself is hidden, but its size is still known.
            val rows = core.visits(null).map { v ->
                VisitRow(v.id, v.start, v.kind, v.outcome, v.place, v.youngPersonIds.map(::child))
            }
            val (pending, lapsed) = try {
                core.pendingChanges().size to null
            } catch (e: PocketbookException.LeaseExpired) {
                core.syncStatus().pending.toInt() to e.toProblem()
            }
            _state.value = VisitListState(
                loading = false, visits = rows, pendingChanges = pending, problem = lapsed,
            )
        } catch (e: PocketbookException) {
            _state.update { it.copy(loading = false, problem = e.toProblem()) }
        }
    }
}
