// Why this file exists: a child's chronology. It first asks why the officer is looking (the core
// logs the reason with a Consult), then lists visits, concerns, addenda and actions by when they
// happened. Leaving the screen or locking the app drops the entries.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.ChronologyState
import uk.police.pocketbook.demo.state.ChronologyViewModel
import uk.police.pocketbook.demo.state.Problem

/** A child's chronology, behind a reason. */
@Composable
fun ChronologyScreen(vm: ChronologyViewModel, child: ChildRef, onBack: () -> Unit) {
    LaunchedEffect(child) { vm.open(child) }
    DisposableEffect(vm) { onDispose { vm.close() } }
    val s by vm.state.collectAsStateWithLifecycle()
    ScreenFrame(title = "Chronology: ${child.name}", onBack = onBack) { padding ->
        when (val state = s) {
            ChronologyState.Closed, is ChronologyState.Loading -> Centered { CircularProgressIndicator() }
            is ChronologyState.AskingReason -> ReasonForm(vm, state, Modifier.padding(padding))
            is ChronologyState.Showing -> LazyColumn(
                contentPadding = padding,
                modifier = Modifier.padding(horizontal = 16.dp),
                verticalArrangement = Arrangement.spacedBy(8.dp),
            ) {
                item { Text("Reason recorded: ${state.reason}", style = MaterialTheme.typography.bodySmall) }
                if (state.entries.isEmpty()) item { Text("Nothing recorded yet.") }
                items(state.entries, key = { "${it.kind}-${it.recordId}" }) { entry ->
                    Card(Modifier.fillMaxWidth()) {
                        Column(Modifier.padding(12.dp)) {
                            Text("${formatTime(entry.happenedAt)} · ${humanize(entry.kind)}", style = MaterialTheme.typography.bodySmall)
                            Text(entry.title, style = MaterialTheme.typography.titleMedium)
                            Text(entry.detail)
                        }
                    }
                }
            }
        }
    }
}

@Composable
private fun ReasonForm(vm: ChronologyViewModel, state: ChronologyState.AskingReason, modifier: Modifier) {
    var reason by remember { mutableStateOf("") }
    Column(modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text("Why are you looking at ${state.child.name}'s chronology? Your reason is recorded with your name.")
        vm.suggestedReasons.forEach { suggestion ->
            OutlinedButton(onClick = { reason = suggestion }) { Text(suggestion) }
        }
        Field("Reason", reason, { reason = it }, error = (state.problem as? Problem.Invalid)?.reason)
        if (state.problem != null && state.problem !is Problem.Invalid) ProblemBanner(state.problem)
        Button(onClick = { vm.show(reason) }) { Text("Show chronology") }
    }
}
