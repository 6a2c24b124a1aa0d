// Why this file exists: when two people edited the same field offline, the server keeps one value
// and makes a conflict of the other. The conflict-review screen lists them, shows both values
// readably, and resolves each by keeping the current value or putting the losing one back
// (resolveConflict). The list reloads itself when the core reports a change.

package uk.police.pocketbook.demo.state

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
import uk.police.pocketbook.core.Conflict
import uk.police.pocketbook.core.ConflictChoice
import uk.police.pocketbook.core.DataChange
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface

/** One conflict as the screen shows it. */
data class ConflictRow(
    /** The conflict. */
    val conflict: Conflict,
    /** The value kept, readable. */
    val current: String,
    /** The value that lost, readable. */
    val losing: String,
)

/** What the conflict-review screen shows. */
data class ConflictsState(
    /** True until the first load finishes. */
    val loading: Boolean = true,
    /** Open conflicts. */
    val conflicts: List<ConflictRow> = emptyList(),
    /** Conflicts being resolved now. */
    val resolving: Set<String> = emptySet(),
    /** A failure to show. */
    val problem: Problem? = null,
)

/** Conflict review. */
class ConflictsViewModel(
    private val core: PocketbookInterface,
    events: CoreEvents,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    private val _state = MutableStateFlow(ConflictsState())

    /** The screen's state. */
    val state: StateFlow<ConflictsState> = _state.asStateFlow()

    init {
        scope.launch(io) {
            events.changes.onSubscription { emit(DataChange.LOCAL) }.conflate().collect { load() }
        }
    }

    /** Resolves conflict [id] with [choice]; the list reloads when the core reports the change. */
    fun resolve(id: String, choice: ConflictChoice): Job = scope.launch(io) {
        _state.update { it.copy(resolving = it.resolving + id, problem = null) }
        try {
            core.resolveConflict(id, choice)
        } catch (e: PocketbookException) {
            _state.update { it.copy(problem = e.toProblem()) }
        } finally {
            _state.update { it.copy(resolving = it.resolving - id) }
        }
        load()
    }

    /** Reloads now. */
    fun refresh(): Job = scope.launch(io) { load() }

    private fun load() {
        try {
            val rows = core.conflicts().map { ConflictRow(it, readable(it.winningValue), readable(it.losingValue)) }
            _state.update { it.copy(loading = false, conflicts = rows) }
        } catch (e: PocketbookException) {
            _state.update { it.copy(loading = false, problem = e.toProblem()) }
        }
    }
}

/**
 * A conflict value (JSON text) as an officer reads it: a JSON string without its quotes and
 * escapes, `null` as "(empty)", anything else (numbers, lists) as it is.
 */
fun readable(json: String): String {
    val t = json.trim()
    if (t == "null") return "(empty)"
    if (t.length < 2 || !t.startsWith('"') || !t.endsWith('"')) return t
    val out = StringBuilder()
    var i = 1
    while (i < t.length - 1) {
        val c = t[i]
        if (c != '\\' || i + 1 >= t.length - 1) {
            out.append(c)
            i++
            continue
        }
        when (val e = t[i + 1]) {
            'n' -> out.append('\n')
            't' -> out.append('\t')
            'r' -> out.append('\r')
            'b' -> out.append('\b')
            'f' -> out.append('\u000C')
            'u' -> {
                val hex = t.substring(i + 2, minOf(i + 6, t.length - 1))
                val code = hex.takeIf { it.length == 4 }?.toIntOrNull(16)
                if (code == null) return t
                out.append(code.toChar())
                i += 4
            }
            else -> out.append(e) // \" \\ \/
        }
        i += 2
    }
    return out.toString()
}
