// Why this file exists: sync with one tap, with progress while it runs, what it did when it ends,
// where sync stands (pending changes, open conflicts, refused changes, lease), and the new-code
// form when the lease has expired.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.core.SyncPhase
import uk.police.pocketbook.demo.state.Problem
import uk.police.pocketbook.demo.state.SyncViewModel

/** Sync. */
@Composable
fun SyncScreen(vm: SyncViewModel, onBack: () -> Unit) {
    val s by vm.state.collectAsStateWithLifecycle()
    var code by remember { mutableStateOf("") }
    LaunchedEffect(vm) { vm.refresh() }
    ScreenFrame(title = "Sync", onBack = onBack) { padding ->
        Column(
            Modifier.padding(padding).padding(16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            Button(onClick = { vm.sync() }, enabled = !s.running) { Text(if (s.running) "Syncing…" else "Sync now") }
            if (s.running) {
                val p = s.progress
                if (p != null && p.total > 0) {
                    LinearProgressIndicator(progress = { p.fraction }, modifier = Modifier.fillMaxWidth())
                    Text("${if (p.phase == SyncPhase.PUSH) "Sending" else "Receiving"}: ${p.done} of ${p.total}")
                } else {
                    LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
                    Text("Connecting…")
                }
            }
            ProblemBanner(s.problem)
            if (s.problem == Problem.LeaseExpired || s.problem == Problem.DeviceForked) {
                Field("New code from your supervisor", code, { code = it })
                Button(onClick = { vm.reauthenticate(code) }) { Text("Continue") }
            }
            s.lastReport?.let { r ->
                Text("Last sync", style = MaterialTheme.typography.titleMedium)
                Text("Sent ${r.pushed} (${r.merged} merged, ${r.rejected} refused); received ${r.pulled}; ${r.conflicts} new conflicts; ${r.durationMs} ms")
            }
            s.status?.let { st ->
                Text("Where sync stands", style = MaterialTheme.typography.titleMedium)
                Text("Waiting to send: ${st.pending}")
                Text("Open conflicts: ${st.openConflicts}")
                Text("Last sync: ${st.lastSyncAt?.let(::formatTime) ?: "never"}")
                Text("Sync before: ${formatTime(st.leaseExpiresAt)}")
                if (st.rejected.isNotEmpty()) {
                    Text("Refused by the server", style = MaterialTheme.typography.titleSmall)
                    st.rejected.forEach { r -> Text("${humanize(r.entity)} #${r.seq}: ${r.message} (${r.code})") }
                }
            }
        }
    }
}
