// Why this file exists: conflict review: each field where two edits collided, the value kept and
// the one that lost, and a choice to keep the current value or put the other one back.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.core.ConflictChoice
import uk.police.pocketbook.demo.state.ConflictsViewModel

/** Conflict review. */
@Composable
fun ConflictsScreen(vm: ConflictsViewModel, onBack: () -> Unit) {
    val s by vm.state.collectAsStateWithLifecycle()
    ScreenFrame(title = "Conflicts", onBack = onBack) { padding ->
        LazyColumn(
            contentPadding = padding,
            modifier = Modifier.padding(horizontal = 16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item { ProblemBanner(s.problem) }
            if (!s.loading && s.conflicts.isEmpty()) item { Text("No conflicts.") }
            items(s.conflicts, key = { it.conflict.id }) { row ->
                val id = row.conflict.id
                val busy = id in s.resolving
                Card(Modifier.fillMaxWidth()) {
                    Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
                        Text("${humanize(row.conflict.entity)}: ${row.conflict.field}", style = MaterialTheme.typography.titleMedium)
                        Text("Kept: ${row.current}")
                        Text("Other edit: ${row.losing}")
                        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                            OutlinedButton(onClick = { vm.resolve(id, ConflictChoice.KEEP_CURRENT) }, enabled = !busy) {
                                Text("Keep")
                            }
                            Button(onClick = { vm.resolve(id, ConflictChoice.TAKE_LOSING) }, enabled = !busy) {
                                Text("Use the other edit")
                            }
                        }
                    }
                }
            }
        }
    }
}
