// Why this file exists: the home screen: the officer's visits (most recent first, with the
// children's names; tap a name for their chronology), unfinished drafts to continue, a child
// search, and the way to every other screen.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Card
import androidx.compose.material3.ExtendedFloatingActionButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.ConcernForm
import uk.police.pocketbook.demo.state.PocketbookAppState
import uk.police.pocketbook.demo.state.VisitForm
import uk.police.pocketbook.demo.state.VisitRow

/** The visit list. */
@Composable
fun VisitListScreen(
    state: PocketbookAppState,
    onRecordVisit: () -> Unit,
    onRaiseConcern: () -> Unit,
    onChild: (ChildRef) -> Unit,
    onSync: () -> Unit,
    onConflicts: () -> Unit,
) {
    val list by state.visits.state.collectAsStateWithLifecycle()
    val visitDraft by state.recordVisit.state.collectAsStateWithLifecycle()
    val concernDraft by state.raiseConcern.state.collectAsStateWithLifecycle()
    ScreenFrame(
        title = "Visits",
        actions = {
            TextButton(onClick = onSync) { Text(if (list.pendingChanges > 0) "Sync (${list.pendingChanges})" else "Sync") }
            TextButton(onClick = onConflicts) { Text("Conflicts") }
            TextButton(onClick = { state.lock.lock() }) { Text("Lock") }
        },
        floating = { ExtendedFloatingActionButton(onClick = onRecordVisit) { Text("Record visit") } },
    ) { padding ->
        LazyColumn(
            contentPadding = padding,
            modifier = Modifier.padding(horizontal = 16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item { ProblemBanner(list.problem) }
            if (visitDraft.form != VisitForm()) {
                item { TextButton(onClick = onRecordVisit) { Text("Continue the unfinished visit") } }
            }
            if (concernDraft.form != ConcernForm()) {
                item { TextButton(onClick = onRaiseConcern) { Text("Continue the unfinished concern") } }
            }
            item { OutlinedButton(onClick = onRaiseConcern) { Text("Raise a concern") } }
            item { ChildPicker(state.children, selected = null, onPick = onChild, title = "Chronology of") }
            if (!list.loading && list.visits.isEmpty()) {
                item { Text("No visits yet.") }
            }
            items(list.visits, key = { it.id }) { row -> VisitCard(row, onChild) }
        }
    }
}

@Composable
private fun VisitCard(row: VisitRow, onChild: (ChildRef) -> Unit) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp)) {
            Text("${humanize(row.kind)} · ${humanize(row.outcome)}", style = MaterialTheme.typography.titleMedium)
            Text(formatTime(row.start), style = MaterialTheme.typography.bodySmall)
            Text(row.place)
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                row.children.forEach { child ->
                    Text(
                        child.name,
                        color = MaterialTheme.colorScheme.primary,
                        modifier = Modifier.clickable { onChild(child) }.padding(vertical = 6.dp),
                    )
                }
            }
        }
    }
}
