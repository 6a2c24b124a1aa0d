// Why this file exists: the few building blocks every form and list uses (text field, enum
// picker, time setter, child picker, error banners), kept here so the screens stay short. They
// only draw state and forward events; all logic is in the state module.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.RowScope
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.Checkbox
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import uk.police.pocketbook.core.AgeBand
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.ChildSearch
import uk.police.pocketbook.demo.state.Problem
import uk.police.pocketbook.demo.state.choosable

private val ACRONYMS = setOf("MASH", "CSE", "SEND", "PPN", "DSL", "CAMHS", "CEOP", "FGM", "HBA", "NFA", "ASB", "VAWG")
private val TIME: DateTimeFormatter = DateTimeFormatter.ofPattern("EEE d MMM yyyy, HH:mm").withZone(ZoneId.systemDefault())

/** An enum constant as words: WELFARE_CHECK → "Welfare check", MASH stays "MASH". */
fun humanize(value: Enum<*>): String =
    value.name.split('_').mapIndexed { i, word ->
        when {
            word in ACRONYMS -> word
            i == 0 -> word.lowercase().replaceFirstChar { it.uppercase() }
            else -> word.lowercase()
        }
    }.joinToString(" ")

/** An instant in the device's time zone. */
fun formatTime(instant: Instant): String = TIME.format(instant)

/** Red text under a field. */
@Composable
fun ErrorText(message: String) {
    Text(message, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
}

/** A failure that is not about one field. */
@Composable
fun ProblemBanner(problem: Problem?) {
    if (problem == null) return
    Card(
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer),
        modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp),
    ) {
        Text(problem.message, modifier = Modifier.padding(12.dp))
    }
}

/** A centred block (spinners, messages). */
@Composable
fun Centered(content: @Composable () -> Unit) {
    Box(Modifier.fillMaxSize().padding(24.dp), contentAlignment = Alignment.Center) { content() }
}

/**
 * A text field whose text is held locally, so typing never waits for the view model's state to
 * come back; it follows the view model when the value changes elsewhere (a restored draft, a
 * cleared form).
 */
@Composable
fun Field(
    label: String,
    value: String,
    onChange: (String) -> Unit,
    error: String? = null,
    singleLine: Boolean = true,
    minLines: Int = 1,
    enabled: Boolean = true,
) {
    var text by remember { mutableStateOf(value) }
    LaunchedEffect(value) {
        if (value != text) text = value
    }
    OutlinedTextField(
        value = text,
        onValueChange = {
            text = it
            onChange(it)
        },
        label = { Text(label) },
        isError = error != null,
        supportingText = if (error != null) { { Text(error) } } else null,
        singleLine = singleLine,
        minLines = if (singleLine) 1 else minLines,
        enabled = enabled,
        modifier = Modifier.fillMaxWidth().padding(vertical = 2.dp),
    )
}

/** Chooses one constant of an enum from a menu. */
@Composable
fun <E : Enum<E>> EnumPicker(label: String, value: E?, values: List<E>, onPick: (E) -> Unit, error: String? = null) {
    var open by remember { mutableStateOf(false) }
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Box {
            OutlinedButton(onClick = { open = true }) {
                Text("$label: ${value?.let { humanize(it) } ?: "choose"}")
            }
            DropdownMenu(expanded = open, onDismissRequest = { open = false }) {
                choosable(values).forEach { v ->
                    DropdownMenuItem(
                        text = { Text(humanize(v)) },
                        onClick = {
                            open = false
                            onPick(v)
                        },
                    )
                }
            }
        }
        if (error != null) ErrorText(error)
    }
}

/** Chooses any number of constants of an enum. */
@Composable
fun <E : Enum<E>> EnumChecklist(label: String, selected: Set<E>, values: List<E>, onToggle: (E) -> Unit) {
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Text(label, style = MaterialTheme.typography.titleSmall)
        choosable(values).forEach { v ->
            Row(verticalAlignment = Alignment.CenterVertically) {
                Checkbox(checked = v in selected, onCheckedChange = { onToggle(v) })
                Text(humanize(v))
            }
        }
    }
}

/** Shows a time and sets it with "now" and shift buttons ([steps]: label to minutes). */
@Composable
fun TimeRow(
    label: String,
    value: Instant?,
    onNow: () -> Unit,
    steps: List<Pair<String, Long>>,
    onShift: (Long) -> Unit,
    error: String? = null,
) {
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Text("$label: ${value?.let(::formatTime) ?: "not set"}")
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = onNow) { Text("Now") }
            steps.forEach { (text, minutes) ->
                OutlinedButton(onClick = { onShift(minutes) }) { Text(text) }
            }
        }
        if (error != null) ErrorText(error)
    }
}

/**
 * Finds a young person by name, or adds one, and hands the choice to [onPick]. Shows [selected]
 * when one is chosen.
 */
@Composable
fun ChildPicker(
    search: ChildSearch,
    selected: ChildRef?,
    onPick: (ChildRef) -> Unit,
    error: String? = null,
    title: String = "Young person",
) {
    val state by search.state.collectAsStateWithLifecycle()
    var adding by remember { mutableStateOf(false) }
    var first by remember { mutableStateOf("") }
    var last by remember { mutableStateOf("") }
    var dob by remember { mutableStateOf("") }
    var band by remember { mutableStateOf<AgeBand?>(null) }
    LaunchedEffect(state.added) {
        state.added?.let {
            search.acknowledgeAdded()
            adding = false
            onPick(it)
        }
    }
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        Text(
            if (selected != null) "$title: ${selected.name}" else "$title: none chosen",
            style = MaterialTheme.typography.titleSmall,
        )
        if (error != null) ErrorText(error)
        Field("Find by name", state.query, { search.search(it) })
        state.results.forEach { child ->
            Text(
                child.name,
                modifier = Modifier
                    .fillMaxWidth()
                    .clickable { onPick(child) }
                    .padding(vertical = 10.dp, horizontal = 8.dp),
            )
        }
        ProblemBanner(state.problem)
        if (!adding) {
            TextButton(onClick = { adding = true }) { Text("Add a young person") }
        } else {
            Field("First name", first, { first = it })
            Field("Last name", last, { last = it })
            Field("Date of birth (YYYY-MM-DD)", dob, { dob = it })
            if (dob.isBlank()) EnumPicker("Age band", band, AgeBand.entries, { band = it })
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = { search.add(first, last, dob, band) }) { Text("Add") }
                TextButton(onClick = { adding = false }) { Text("Cancel") }
            }
        }
    }
}

/** A screen with a top bar (title, optional back, actions) around [content]. */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ScreenFrame(
    title: String,
    onBack: (() -> Unit)? = null,
    actions: @Composable RowScope.() -> Unit = {},
    floating: @Composable () -> Unit = {},
    content: @Composable (PaddingValues) -> Unit,
) {
    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text(title) },
                navigationIcon = { if (onBack != null) TextButton(onClick = onBack) { Text("Back") } },
                actions = actions,
            )
        },
        floatingActionButton = floating,
        content = content,
    )
}
