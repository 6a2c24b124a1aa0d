// Why this file exists: the view models behind the record-visit and raise-concern screens. Each
// is a sealed-autosave form (DraftEditor) plus the few actions its screen offers, writing through
// the generated bindings (recordVisit, raiseConcern) off the UI thread. Times come from the
// injected clock so tests and screens agree on "now".

package uk.police.pocketbook.demo.state

import java.time.Clock
import java.time.Instant
import java.time.temporal.ChronoUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.StateFlow
import uk.police.pocketbook.core.PocketbookInterface

/** Pause after the last keystroke before a draft is sealed and saved. */
val DEFAULT_AUTOSAVE_DELAY: Duration = 300.milliseconds

/** The record-visit screen: a [VisitForm] autosaved as the "visit" draft. */
class RecordVisitViewModel(
    private val core: PocketbookInterface,
    drafts: DraftVault,
    private val clock: Clock,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    autosaveDelay: Duration = DEFAULT_AUTOSAVE_DELAY,
) {
    private val editor = DraftEditor(scope, io, drafts, SLOT, VisitFormCodec, VisitForm(), autosaveDelay)

    /** The screen's state. */
    val state: StateFlow<EditorState<VisitForm>> = editor.state

    /** Changes the form. */
    fun edit(change: (VisitForm) -> VisitForm) = editor.edit(change)

    /** Sets the start to now (to the minute), and the end too if it is unset or earlier. */
    fun startNow() = edit { f ->
        val now = now()
        f.copy(start = now, end = f.end?.takeIf { !it.isBefore(now) })
    }

    /** Sets the end to now (to the minute). */
    fun endNow() = edit { it.copy(end = now()) }

    /** Moves the start by [minutes] (negative for earlier). */
    fun shiftStart(minutes: Long) = edit { f -> f.copy(start = (f.start ?: now()).plus(minutes, ChronoUnit.MINUTES)) }

    /** Moves the end by [minutes] (negative for earlier). */
    fun shiftEnd(minutes: Long) = edit { f -> f.copy(end = (f.end ?: now()).plus(minutes, ChronoUnit.MINUTES)) }

    /** Writes the visit; on success the draft is gone and [EditorState.savedRecordId] is set. */
    fun submit(): Job = editor.submit { core.recordVisit(it.toDraft()).id }

    /** The screen has navigated away after a save. */
    fun acknowledgeSaved() = editor.acknowledgeSaved()

    /** Drops the form and its draft. */
    fun discard(): Job = editor.discard()

    /** Saves the draft now (the app is going to the background). */
    suspend fun flush() = editor.flush()

    /** Suspends until the stored draft has been restored. */
    suspend fun awaitReady() = editor.awaitReady()

    private fun now(): Instant = clock.instant().truncatedTo(ChronoUnit.MINUTES)

    /** The draft slot. */
    companion object {
        /** Where the visit draft is sealed. */
        const val SLOT = "visit"
    }
}

/** The raise-concern screen: a [ConcernForm] autosaved as the "concern" draft. */
class RaiseConcernViewModel(
    private val core: PocketbookInterface,
    drafts: DraftVault,
    private val clock: Clock,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    autosaveDelay: Duration = DEFAULT_AUTOSAVE_DELAY,
) {
    private val editor = DraftEditor(scope, io, drafts, SLOT, ConcernFormCodec, ConcernForm(), autosaveDelay)

    /** The screen's state. */
    val state: StateFlow<EditorState<ConcernForm>> = editor.state

    /** Changes the form. */
    fun edit(change: (ConcernForm) -> ConcernForm) = editor.edit(change)

    /** Sets THRIVE element [part]. */
    fun editThrive(part: ThrivePart, change: (ThriveEntry) -> ThriveEntry) =
        edit { it.withThrive(part, change(it.thrive(part))) }

    /** Says it happened now (to the minute). */
    fun happenedNow() = edit { it.copy(happenedAt = clock.instant().truncatedTo(ChronoUnit.MINUTES)) }

    /** Moves when it happened by [minutes] (negative for earlier: a backdated entry). */
    fun shiftHappened(minutes: Long) = edit { f ->
        f.copy(happenedAt = (f.happenedAt ?: clock.instant().truncatedTo(ChronoUnit.MINUTES)).plus(minutes, ChronoUnit.MINUTES))
    }

    /** Raises the concern; on success the draft is gone and [EditorState.savedRecordId] is set. */
    fun submit(): Job = editor.submit { core.raiseConcern(it.toDraft()).id }

    /** The screen has navigated away after a save. */
    fun acknowledgeSaved() = editor.acknowledgeSaved()

    /** Drops the form and its draft. */
    fun discard(): Job = editor.discard()

    /** Saves the draft now (the app is going to the background). */
    suspend fun flush() = editor.flush()

    /** Suspends until the stored draft has been restored. */
    suspend fun awaitReady() = editor.awaitReady()

    /** The draft slot. */
    companion object {
        /** Where the concern draft is sealed. */
        const val SLOT = "concern"
    }
}
