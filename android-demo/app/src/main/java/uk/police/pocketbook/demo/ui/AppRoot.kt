// Why this file exists: what the activity shows, decided from state alone: start-up (opening,
// lost key, failure), then the lock screen whenever the app lock is engaged (nothing else is
// composed while locked), then enrolment, then the screens with a simple back stack.

package uk.police.pocketbook.demo.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.remember
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.demo.AppContainer
import uk.police.pocketbook.demo.DeviceCredentialPrompt
import uk.police.pocketbook.demo.Startup
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.EnrolmentState
import uk.police.pocketbook.demo.state.PocketbookAppState

/** The screens of the app. */
sealed interface Screen {
    /** Home: the visit list. */
    data object Visits : Screen

    /** Record a visit. */
    data object RecordVisit : Screen

    /** Raise a concern. */
    data object RaiseConcern : Screen

    /** A child's chronology (after a reason). */
    data class Chronology(val child: ChildRef) : Screen

    /** Sync with progress. */
    data object Sync : Screen

    /** Conflict review. */
    data object Conflicts : Screen
}

/** The root of the UI. */
@Composable
fun AppRoot(container: AppContainer, credential: DeviceCredentialPrompt) {
    val startup by container.startup.collectAsStateWithLifecycle()
    when (val s = startup) {
        Startup.Opening -> Centered { CircularProgressIndicator() }
        Startup.KeyLost -> Centered {
            Column(verticalArrangement = Arrangement.spacedBy(16.dp)) {
                Text(
                    "This notebook's key can no longer be recovered (for example the phone's " +
                        "screen lock was reset). Its records cannot be read. Erase it and enrol " +
                        "again: everything already synced comes back from the server.",
                )
                Button(onClick = { container.reset() }) { Text("Erase and start again") }
            }
        }
        is Startup.Failed -> Centered {
            Column(verticalArrangement = Arrangement.spacedBy(16.dp)) {
                Text(s.message)
                Button(onClick = { container.start() }) { Text("Try again") }
            }
        }
        is Startup.Ready -> Ready(s.state, s.notice, credential)
    }
}

@Composable
private fun Ready(state: PocketbookAppState, notice: String?, credential: DeviceCredentialPrompt) {
    // Above the lock gate, so locking and unlocking keeps the officer's place.
    val stack = remember(state) { mutableStateListOf<Screen>(Screen.Visits) }
    val locked by state.lock.locked.collectAsStateWithLifecycle()
    if (locked) {
        LockScreen(state.lock, credential)
        return
    }
    val enrolment by state.enrolment.state.collectAsStateWithLifecycle()
    when (val e = enrolment) {
        EnrolmentState.Checking -> Centered { CircularProgressIndicator() }
        is EnrolmentState.NotEnrolled, EnrolmentState.Enrolling -> EnrolScreen(state.enrolment, e, notice)
        is EnrolmentState.Enrolled -> {
            fun go(screen: Screen) {
                stack.add(screen)
            }
            fun back() {
                if (stack.size > 1) stack.removeAt(stack.lastIndex)
            }
            BackHandler(enabled = stack.size > 1) { back() }
            when (val screen = stack.last()) {
                Screen.Visits -> VisitListScreen(
                    state,
                    onRecordVisit = { go(Screen.RecordVisit) },
                    onRaiseConcern = { go(Screen.RaiseConcern) },
                    onChild = { go(Screen.Chronology(it)) },
                    onSync = { go(Screen.Sync) },
                    onConflicts = { go(Screen.Conflicts) },
                )
                Screen.RecordVisit -> RecordVisitScreen(state.recordVisit, state.children, onDone = ::back)
                Screen.RaiseConcern -> RaiseConcernScreen(state.raiseConcern, state.children, onDone = ::back)
                is Screen.Chronology -> ChronologyScreen(state.chronology, screen.child, onBack = ::back)
                Screen.Sync -> SyncScreen(state.sync, onBack = ::back)
                Screen.Conflicts -> ConflictsScreen(state.conflicts, onBack = ::back)
            }
        }
    }
}
