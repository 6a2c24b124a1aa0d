// Why this file exists: before anything else the device must be enrolled with the force's server
// using a one-time code from an admin. This holds the enrolment screen's state: whether the store
// has a session, the enrol call (async, off the UI thread), and the errors an officer can act on
// (a used or unknown code is Forbidden, no signal is Offline).

package uk.police.pocketbook.demo.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import uk.police.pocketbook.core.PocketbookException
import uk.police.pocketbook.core.PocketbookInterface
import uk.police.pocketbook.core.Session

/** Where enrolment stands. */
sealed interface EnrolmentState {
    /** Reading the session. */
    data object Checking : EnrolmentState

    /** Not enrolled: show the enrolment form (with the last failure, if any). */
    data class NotEnrolled(val problem: Problem? = null) : EnrolmentState

    /** Talking to the server. */
    data object Enrolling : EnrolmentState

    /** Enrolled: the rest of the app is available. */
    data class Enrolled(val session: Session) : EnrolmentState
}

/** The enrolment gate in front of the app. */
class EnrolmentViewModel(
    private val core: PocketbookInterface,
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
) {
    private val _state = MutableStateFlow<EnrolmentState>(EnrolmentState.Checking)

    /** The gate's state. */
    val state: StateFlow<EnrolmentState> = _state.asStateFlow()

    init {
        check()
    }

    /** Reads the session again. */
    fun check(): Job = scope.launch(io) {
        _state.value = try {
            EnrolmentState.Enrolled(core.session())
        } catch (e: PocketbookException.NotEnrolled) {
            EnrolmentState.NotEnrolled()
        } catch (e: PocketbookException) {
            EnrolmentState.NotEnrolled(e.toProblem())
        }
    }

    /** Enrols with [serverUrl] using the one-time [code]. */
    fun enroll(serverUrl: String, code: String): Job = scope.launch(io) {
        if (serverUrl.isBlank() || code.isBlank()) {
            _state.value = EnrolmentState.NotEnrolled(Problem.Invalid("code", "Enter the server address and the code"))
            return@launch
        }
        _state.value = EnrolmentState.Enrolling
        _state.value = try {
            EnrolmentState.Enrolled(core.enroll(serverUrl.trim(), code.trim()))
        } catch (e: PocketbookException) {
            EnrolmentState.NotEnrolled(e.toProblem())
        }
    }
}
