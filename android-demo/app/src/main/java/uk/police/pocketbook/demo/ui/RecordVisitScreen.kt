// Why this file exists: the record-visit form. Every change goes to the view model, which seals
// it as a draft; errors appear under the field the core named; on save it returns to the list.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import uk.police.pocketbook.core.PromptedBy
import uk.police.pocketbook.core.SupportGiven
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.core.VisitOutcome
import uk.police.pocketbook.demo.state.ChildSearch
import uk.police.pocketbook.demo.state.RecordVisitViewModel

private val SHIFTS = listOf("−15 min" to -15L, "+15 min" to 15L)

/** Record a visit. */
@Composable
fun RecordVisitScreen(vm: RecordVisitViewModel, children: ChildSearch, onDone: () -> Unit) {
    val s by vm.state.collectAsStateWithLifecycle()
    LaunchedEffect(s.savedRecordId) {
        if (s.savedRecordId != null) {
            vm.acknowledgeSaved()
            onDone()
        }
    }
    ScreenFrame(title = "Record visit", onBack = onDone) { padding ->
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
            if (s.restored) Text("Your unfinished visit was restored.")
            if (s.draftNotSaved) ErrorText("The draft could not be saved on this phone just now.")
            ProblemBanner(s.problem)
            ChildPicker(children, f.child, { c -> vm.edit { it.copy(child = c) } }, errors["young_person_ids"])
            EnumPicker("Kind", f.kind, VisitKind.entries, { k -> vm.edit { it.copy(kind = k) } }, errors["kind"])
            EnumPicker("Prompted by", f.promptedBy, PromptedBy.entries, { p -> vm.edit { it.copy(promptedBy = p) } }, errors["prompted_by"])
            TimeRow("Started", f.start, vm::startNow, SHIFTS, vm::shiftStart, errors["start"])
            TimeRow("Ended", f.end, vm::endNow, SHIFTS, vm::shiftEnd, errors["end"])
            Field("Place (address or ward)", f.place, { t -> vm.edit { it.copy(place = t) } }, errors["place"])
            Field("Who was present (comma separated)", f.present, { t -> vm.edit { it.copy(present = t) } }, errors["present"])
            EnumPicker("Outcome", f.outcome, VisitOutcome.entries, { o -> vm.edit { it.copy(outcome = o) } }, errors["outcome"])
            EnumChecklist("Support given", f.supportGiven, SupportGiven.entries) { g ->
                vm.edit { it.copy(supportGiven = if (g in it.supportGiven) it.supportGiven - g else it.supportGiven + g) }
            }
            Field(
                "What happened", f.narrative, { t -> vm.edit { it.copy(narrative = t) } }, errors["narrative"],
                singleLine = false, minLines = 5,
            )
            Field("Follow-up date (YYYY-MM-DD)", f.followUp, { t -> vm.edit { it.copy(followUp = t) } }, errors["follow_up"])
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(vertical = 16.dp)) {
                Button(onClick = { vm.submit() }, enabled = !s.busy) { Text(if (s.busy) "Saving…" else "Save visit") }
                TextButton(onClick = {
                    vm.discard()
                    onDone()
                }) { Text("Discard") }
            }
        }
    }
}
