// Why this file exists: the record-visit and raise-concern screens share one behaviour: a form
// held in a StateFlow, restored from the sealed draft when the screen's state is created (so a
// visit half-typed before the app was killed comes back), saved on every change after a short
// pause, saved at once when the app goes to the background ([flush]), and deleted when the record
// is written. The core is the only judge of validity: its InvalidInput is shown under the field
// it names, and the draft is kept.

package uk.police.pocketbook.demo.state

import java.io.ByteArrayInputStream
import java.io.ByteArrayOutputStream
import java.time.Instant
import java.util.Properties
import kotlin.time.Duration
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.FlowPreview
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.flow.debounce
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import uk.police.pocketbook.core.PocketbookException

/** Turns a form into bytes for the [DraftVault] and back; unknown or missing fields read as blank. */
interface FormCodec<F> {
    /** The form as bytes (sealed by the vault before it touches the disk). */
    fun encode(form: F): ByteArray

    /** The form from [encode]'s bytes, tolerant of drafts written by an older app version. */
    fun decode(bytes: ByteArray): F
}

/** Fields the form itself says are missing, before the core is asked; keys are the core's field names. */
class FormIncomplete(val fields: Map<String, String>) : Exception("form incomplete")

/** What an editing screen shows. */
data class EditorState<F>(
    /** False until the draft (if any) has been restored; the screen shows a spinner until then. */
    val ready: Boolean = false,
    /** The form. */
    val form: F,
    /** True when the form came back from a saved draft. */
    val restored: Boolean = false,
    /** Errors under fields, keyed by the core's field name ("end", "narrative", "thrive.harm"). */
    val fieldErrors: Map<String, String> = emptyMap(),
    /** A failure that is not about one field. */
    val problem: Problem? = null,
    /** True while the record is being written. */
    val busy: Boolean = false,
    /** The id of the record just written; the screen navigates away when it appears. */
    val savedRecordId: String? = null,
    /** True when the last attempt to seal the draft failed (it is retried on the next change or flush). */
    val draftNotSaved: Boolean = false,
)

/**
 * Form state with sealed autosave, for one draft [slot]. [blank] is the empty form: a form equal
 * to it is "no draft" and deletes the stored one. Edits made before [EditorState.ready] are
 * ignored (the restored draft would overwrite them).
 */
@OptIn(FlowPreview::class)
class DraftEditor<F : Any>(
    private val scope: CoroutineScope,
    private val io: CoroutineDispatcher,
    private val vault: DraftVault,
    private val slot: String,
    private val codec: FormCodec<F>,
    private val blank: F,
    private val autosaveDelay: Duration,
) {
    private val _state = MutableStateFlow(EditorState(form = blank))
    private val restoredOnce = CompletableDeferred<Unit>()
    private val persistLock = Mutex()
    private var persisted: F = blank

    /** The screen's state. */
    val state: StateFlow<EditorState<F>> = _state.asStateFlow()

    init {
        scope.launch(io) {
            val saved = try {
                vault.read(slot)?.let(codec::decode)
            } catch (e: Exception) {
                null // a draft from an incompatible version is dropped, never a crash
            }
            persistLock.withLock { persisted = saved ?: blank }
            _state.update { it.copy(ready = true, form = saved ?: blank, restored = saved != null) }
            restoredOnce.complete(Unit)
            _state.map { it.form }
                .distinctUntilChanged()
                .debounce(autosaveDelay)
                .collectLatest { persist(it) }
        }
    }

    /** Suspends until the stored draft has been restored. */
    suspend fun awaitReady() = restoredOnce.await()

    /** Applies [change] to the form (from the UI thread); autosaved after a short pause. */
    fun edit(change: (F) -> F) {
        _state.update {
            if (!it.ready || it.busy) it else it.copy(form = change(it.form), savedRecordId = null)
        }
    }

    /** Saves the form now if it changed (call when the app goes to the background). */
    suspend fun flush() {
        awaitReady()
        withContext(io) { persist(_state.value.form) }
    }

    /** The screen has acted on [EditorState.savedRecordId] (navigated away); forget it. */
    fun acknowledgeSaved() {
        _state.update { it.copy(savedRecordId = null) }
    }

    /** Drops the form and its stored draft. */
    fun discard(): Job = scope.launch(io) {
        awaitReady()
        _state.update { it.copy(form = blank, restored = false, fieldErrors = emptyMap(), problem = null) }
        persist(blank)
    }

    /**
     * Writes the record with [write] (a core call returning the new record's id) off the UI
     * thread. On success the draft is deleted and the form cleared; on a refusal the form and
     * draft are kept and the error shown.
     */
    fun submit(write: (F) -> String): Job = scope.launch(io) {
        awaitReady()
        var form: F? = null
        _state.update {
            form = null // update may run this more than once: only the attempt that wins counts
            if (it.busy) {
                it
            } else {
                form = it.form
                it.copy(busy = true, fieldErrors = emptyMap(), problem = null)
            }
        }
        val submitted = form ?: return@launch // a submit is already running
        try {
            val id = write(submitted)
            // Clear the form first, then the draft: the autosave's last value is then the blank
            // form too, so a save already under way cannot bring the submitted draft back.
            _state.update {
                it.copy(
                    busy = false, restored = false, savedRecordId = id,
                    form = if (it.form == submitted) blank else it.form,
                )
            }
            persist(blank)
        } catch (e: FormIncomplete) {
            _state.update { it.copy(busy = false, fieldErrors = e.fields) }
        } catch (e: PocketbookException) {
            val problem = e.toProblem()
            _state.update {
                if (problem is Problem.Invalid) {
                    it.copy(busy = false, fieldErrors = mapOf(problem.field to problem.reason))
                } else {
                    it.copy(busy = false, problem = problem)
                }
            }
        }
    }

    private suspend fun persist(form: F) = persistLock.withLock {
        // A form that is no longer the current one is stale (an autosave overtaken by a submit
        // or discard): writing it would bring back a draft that was just deleted.
        if (form == persisted || form != _state.value.form) return@withLock
        try {
            if (form == blank) vault.delete(slot) else vault.write(slot, codec.encode(form))
            persisted = form
            _state.update { if (it.draftNotSaved) it.copy(draftNotSaved = false) else it }
        } catch (e: Exception) {
            // The form stays in memory; a later change or flush tries again. Never a crash.
            _state.update { it.copy(draftNotSaved = true) }
        }
    }
}

/**
 * A draft's fields as text properties: simple, and tolerant of fields being added or removed
 * between app versions. Only ever stored sealed, through a [DraftVault].
 */
class DraftFields private constructor(private val properties: Properties) {
    /** An empty set of fields. */
    constructor() : this(Properties())

    /** Sets [name] to [value]; null removes it. */
    fun put(name: String, value: String?) {
        if (value == null) properties.remove(name) else properties.setProperty(name, value)
    }

    /** The text of [name], or "" when absent. */
    fun text(name: String): String = properties.getProperty(name) ?: ""

    /** The text of [name], or null when absent. */
    fun textOrNull(name: String): String? = properties.getProperty(name)

    /** The instant in [name], or null when absent or unreadable. */
    fun instant(name: String): Instant? =
        textOrNull(name)?.let { runCatching { Instant.parse(it) }.getOrNull() }

    /** The bytes to seal. */
    fun toBytes(): ByteArray = ByteArrayOutputStream().also { properties.store(it, null) }.toByteArray()

    /** Reading and enum helpers. */
    companion object {
        /** Fields from [toBytes]'s output. */
        fun parse(bytes: ByteArray): DraftFields =
            DraftFields(Properties().apply { load(ByteArrayInputStream(bytes)) })
    }
}

/** The enum constant named by field [name], or null when absent or unknown to this version. */
inline fun <reified E : Enum<E>> DraftFields.enumOrNull(name: String): E? =
    textOrNull(name)?.let { n -> enumValues<E>().firstOrNull { it.name == n } }

/** The set of enum constants in field [name] (comma separated); unknown names are skipped. */
inline fun <reified E : Enum<E>> DraftFields.enumSet(name: String): Set<E> =
    text(name).split(',').mapNotNull { n -> enumValues<E>().firstOrNull { it.name == n } }.toSet()

/** Stores [values] in field [name], comma separated, in a stable order. */
fun <E : Enum<E>> DraftFields.putEnums(name: String, values: Set<E>) =
    put(name, values.sortedBy { it.ordinal }.joinToString(",") { it.name }.ifEmpty { null })
