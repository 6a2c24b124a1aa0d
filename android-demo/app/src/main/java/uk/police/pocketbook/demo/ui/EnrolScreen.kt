// Why this file exists: the first screen on a new device: the server address and the one-time
// code from an admin. The view model does the call; this only collects the two fields.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import uk.police.pocketbook.demo.state.EnrolmentState
import uk.police.pocketbook.demo.state.EnrolmentViewModel

/** Enrolment with a one-time code. */
@Composable
fun EnrolScreen(vm: EnrolmentViewModel, state: EnrolmentState, notice: String?) {
    var server by rememberSaveable { mutableStateOf("https://") }
    var code by remember { mutableStateOf("") } // a one-time secret: not kept in saved state
    val busy = state is EnrolmentState.Enrolling
    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("Enrol this device", style = MaterialTheme.typography.headlineSmall)
        if (notice != null) Text(notice)
        Text("Enter your force's Pocketbook server and the one-time code your admin gave you.")
        Field("Server address", server, { server = it }, enabled = !busy)
        Field("Enrolment code", code, { code = it }, enabled = !busy)
        ProblemBanner((state as? EnrolmentState.NotEnrolled)?.problem)
        if (busy) CircularProgressIndicator() else Button(onClick = { vm.enroll(server, code) }) { Text("Enrol") }
    }
}
