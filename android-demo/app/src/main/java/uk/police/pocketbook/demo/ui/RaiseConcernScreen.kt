// Why this file exists: the raise-concern form: the account (immutable once submitted), the
// child's words, risk and action, the six THRIVE elements each with a rationale, the risk level
// and the marking. Sealed as a draft on every change; errors under the fields the core names.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.core.ConcernCategory
import uk.police.pocketbook.core.Risk
import uk.police.pocketbook.demo.state.ChildSearch
import uk.police.pocketbook.demo.state.RaiseConcernViewModel
import uk.police.pocketbook.demo.state.ThrivePart

private val HAPPENED_SHIFTS = listOf("−1 h" to -60L, "−1 day" to -24L * 60)

/** Raise a concern. */
@Composable
fun RaiseConcernScreen(vm: RaiseConcernViewModel, children: ChildSearch, onDone: () -> Unit) {
    val s by vm.state.collectAsStateWithLifecycle()
    LaunchedEffect(s.savedRecordId) {
        if (s.savedRecordId != null) {
            vm.acknowledgeSaved()
            onDone()
        }
    }
    ScreenFrame(title = "Raise concern", onBack = onDone) { padding ->
        if (!s.ready) {
            Centered { CircularProgressIndicator() }
            return@ScreenFrame
        }
        val f = s.form
        val errors = s.fieldErrors
        Column(
            Modifier.padding(padding).padding(horizontal = 16.dp).verticalScroll(rememberScrollState()),
            verticalArrangement = Arrangement.spacedBy(4.dp),
        ) {
            if (s.restored) Text("Your unfinished concern was restored.")
            if (s.draftNotSaved) ErrorText("The draft could not be saved on this phone just now.")
            ProblemBanner(s.problem)
            ChildPicker(children, f.child, { c -> vm.edit { it.copy(child = c) } }, errors["young_person_ids"])
            TimeRow("Happened", f.happenedAt, vm::happenedNow, HAPPENED_SHIFTS, vm::shiftHappened, errors["happened_at"])
            EnumPicker("Category", f.category, ConcernCategory.entries, { c -> vm.edit { it.copy(category = c) } }, errors["category"])
            Field("What happened", f.account, { t -> vm.edit { it.copy(account = t) } }, errors["account"], singleLine = false, minLines = 4)
            Field("The child's own words", f.childsWords, { t -> vm.edit { it.copy(childsWords = t) } }, errors["childs_words"], singleLine = false, minLines = 2)
            Field("The risk", f.riskText, { t -> vm.edit { it.copy(riskText = t) } }, errors["risk_text"], singleLine = false, minLines = 2)
            Field("Action taken or proposed", f.actionText, { t -> vm.edit { it.copy(actionText = t) } }, errors["action_text"], singleLine = false, minLines = 2)
            Text("THRIVE", style = MaterialTheme.typography.titleMedium)
            ThrivePart.entries.forEach { part ->
                val entry = f.thrive(part)
                Text(humanize(part), style = MaterialTheme.typography.titleSmall)
                Field("Finding", entry.finding, { t -> vm.editThrive(part) { it.copy(finding = t) } })
                Field("Rationale", entry.rationale, { t -> vm.editThrive(part) { it.copy(rationale = t) } }, errors["thrive.${part.key}"])
            }
            EnumPicker("Risk", f.risk, Risk.entries, { r -> vm.edit { it.copy(risk = r) } }, errors["risk"])
            Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Switch(checked = f.sensitive, onCheckedChange = { on -> vm.edit { it.copy(sensitive = on) } })
                Text(if (f.sensitive) "OFFICIAL-SENSITIVE" else "OFFICIAL")
            }
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(vertical = 16.dp)) {
                Button(onClick = { vm.submit() }, enabled = !s.busy) { Text(if (s.busy) "Saving…" else "Raise concern") }
                TextButton(onClick = {
                    vm.discard()
                    onDone()
                }) { Text("Discard") }
            }
        }
    }
}
