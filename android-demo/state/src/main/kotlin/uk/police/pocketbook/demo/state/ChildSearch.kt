// Why this file exists: both forms and the visit list need to find a young person by name (to
// attach to a record, or to open their chronology), and occasionally to add one met for the
// first time. Searches go through the core (findYoungPeople) off the UI thread; only the latest
// query's answer is shown.

package uk.police.pocketbook.demo.state

import java.time.LocalDate
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import uk.police.pocketbook.core.AgeBand
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface
import uk.police.pocketbook.core.YoungPersonDraft

/** What the child picker shows. */
data class ChildSearchState(
    /** The query as typed. */
    val query: String = "",
    /** Matches for the query. */
    val results: List<ChildRef> = emptyList(),
    /** The child just added, to select on the form. */
    val added: ChildRef? = null,
    /** A failure to show. */
    val problem: Problem? = null,
)

/** Finds and adds young people. */
class ChildSearch(
    private val core: PocketbookInterface,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    private val _state = MutableStateFlow(ChildSearchState())
    private var searching: Job? = null

    /** The picker's state. */
    val state: StateFlow<ChildSearchState> = _state.asStateFlow()

    /** Searches for young people whose names contain every word of [query]. */
    fun search(query: String): Job {
        _state.update { it.copy(query = query, added = null) }
        searching?.cancel()
        return scope.launch(io) {
            val outcome = if (query.isBlank()) {
                Result.success(emptyList())
            } else {
                try {
                    Result.success(core.findYoungPeople(query.trim()).map(ChildRef::of))
                } catch (e: PocketbookException) {
                    Result.failure(e)
                }
            }
            _state.update {
                if (it.query != query) it // a newer query is on its way
                else outcome.fold(
                    { found -> it.copy(results = found, problem = null) },
                    { e -> it.copy(problem = (e as PocketbookException).toProblem()) },
                )
            }
        }.also { searching = it }
    }

    /** The picker has selected [ChildSearchState.added]; forget it so no other picker takes it. */
    fun acknowledgeAdded() {
        _state.update { it.copy(added = null) }
    }

    /**
     * Adds a young person with a date of birth (YYYY-MM-DD) or, when it is unknown, an age band;
     * the core refuses neither-nor with InvalidInput.
     */
    fun add(firstName: String, lastName: String, dateOfBirth: String?, ageBand: AgeBand?): Job = scope.launch(io) {
        val dob = dateOfBirth?.trim()?.ifEmpty { null }
        if (dob != null && runCatching { LocalDate.parse(dob) }.isFailure) {
            _state.update { it.copy(problem = Problem.Invalid("date_of_birth", "Use the form YYYY-MM-DD")) }
            return@launch
        }
        try {
            val person = core.addYoungPerson(
                YoungPersonDraft(
                    firstName = firstName.trim(),
                    lastName = lastName.trim(),
                    dateOfBirth = dob,
                    ageBand = if (dob == null) ageBand else null,
                    establishmentId = null,
                    yearGroup = null,
                    flags = emptyList(),
                ),
            )
            _state.update { it.copy(added = ChildRef.of(person), problem = null) }
        } catch (e: PocketbookException) {
            _state.update { it.copy(problem = e.toProblem()) }
        }
    }
}
