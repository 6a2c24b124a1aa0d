// Why this file exists: a child's chronology is the most sensitive view in the app, and every
// look at it is a Consult the core logs with a reason (DPA 2018 s62). So the screen asks for the
// reason first and only then calls chronology(id, reason); the entries are held only while shown
// and are dropped when the app locks, so unlocking needs a fresh reason (and a fresh log entry).

package uk.police.pocketbook.demo.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import uk.police.pocketbook.core.ChronologyEntry
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface

/** What the chronology screen shows. */
sealed interface ChronologyState {
    /** No child chosen. */
    data object Closed : ChronologyState

    /** The reason must be given before anything is shown. */
    data class AskingReason(val child: ChildRef, val problem: Problem? = null) : ChronologyState

    /** The core is reading (and logging the Consult). */
    data class Loading(val child: ChildRef) : ChronologyState

    /** The chronology, oldest first by when things happened. */
    data class Showing(val child: ChildRef, val reason: String, val entries: List<ChronologyEntry>) : ChronologyState
}

/** A child's chronology, shown only after a reason is given. */
class ChronologyViewModel(
    private val core: PocketbookInterface,
    lock: AppLock,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    private val _state = MutableStateFlow<ChronologyState>(ChronologyState.Closed)

    /** The screen's state. */
    val state: StateFlow<ChronologyState> = _state.asStateFlow()

    /** Reasons officers commonly give; the screen offers them as shortcuts to typing. */
    val suggestedReasons: List<String> = listOf(
        "Preparing for a visit",
        "Responding to a new concern",
        "Strategy meeting or MASH enquiry",
        "Supervisor review",
    )

    init {
        scope.launch {
            lock.locked.filter { it }.collect { hide() }
        }
    }

    /** Opens [child]'s chronology: asks for the reason first. */
    fun open(child: ChildRef) {
        _state.value = ChronologyState.AskingReason(child)
    }

    /**
     * Shows the chronology for [reason]; a blank reason is refused here (the core would refuse it
     * too). The core logs the Consult with the reason.
     */
    fun show(reason: String): Job = scope.launch(io) {
        val asking = _state.value as? ChronologyState.AskingReason ?: return@launch
        val child = asking.child
        if (reason.isBlank()) {
            _state.value = asking.copy(problem = Problem.Invalid("reason", "Give a reason for looking"))
            return@launch
        }
        val loading = ChronologyState.Loading(child)
        if (!_state.compareAndSet(asking, loading)) return@launch
        val next = try {
            ChronologyState.Showing(child, reason.trim(), core.chronology(child.id, reason.trim()))
        } catch (e: PocketbookException) {
            ChronologyState.AskingReason(child, e.toProblem())
        }
        // Only if nothing happened meanwhile: a lock while loading must not let entries appear.
        _state.compareAndSet(loading, next)
    }

    /** Hides the entries; looking again needs a reason again. */
    fun hide() {
        _state.update {
            when (it) {
                is ChronologyState.Showing -> ChronologyState.AskingReason(it.child)
                is ChronologyState.Loading -> ChronologyState.AskingReason(it.child)
                else -> it
            }
        }
    }

    /** Leaves the screen. */
    fun close() {
        _state.value = ChronologyState.Closed
    }
}
