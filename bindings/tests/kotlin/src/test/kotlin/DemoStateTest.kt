// Why this file exists: the Android demo's view models (android-demo/state) exercised on the JVM
// against the real core and a live pocketbook-server, the way the app uses them: enrol, add a
// child, record a visit whose draft survives a simulated process death, raise a concern, read the
// chronology only after giving a reason, sync with progress, review and resolve a conflict, and
// hear about a revoked device.

import java.io.File
import java.nio.file.Files
import java.time.Clock
import java.time.temporal.ChronoUnit
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicBoolean
import javax.crypto.SecretKey
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uk.police.pocketbook.core.ChronologyKind
import uk.police.pocketbook.core.ConcernCategory
import uk.police.pocketbook.core.ConflictChoice
import uk.police.pocketbook.core.Pocketbook
import uk.police.pocketbook.core.PromptedBy
import uk.police.pocketbook.core.Risk
import uk.police.pocketbook.core.SyncPhase
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.core.VisitOutcome
import uk.police.pocketbook.core.VisitUpdate
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.ChronologyState
import uk.police.pocketbook.demo.state.EnrolmentState
import uk.police.pocketbook.demo.state.KeyLostException
import uk.police.pocketbook.demo.state.NotebookFiles
import uk.police.pocketbook.demo.state.PocketbookAppState
import uk.police.pocketbook.demo.state.Problem
import uk.police.pocketbook.demo.state.RecordVisitViewModel
import uk.police.pocketbook.demo.state.SyncProgress
import uk.police.pocketbook.demo.state.ThriveEntry
import uk.police.pocketbook.demo.state.ThrivePart

/** Waits (up to 10 s) for the state to satisfy [predicate]. */
suspend fun <T> StateFlow<T>.await(predicate: (T) -> Boolean): T = withTimeout(10_000) { first(predicate) }

/** One officer's phone: the notebook's files, the open store and the app's state over it. */
class Phone(dir: File, name: String, private val wrap: SecretKey = softwareKey()) {
    val files = NotebookFiles(File(dir, name), { wrap })
    val revoked = AtomicBoolean(false)
    lateinit var core: Pocketbook
    lateinit var app: PocketbookAppState

    init {
        start(name)
    }

    /** Opens the store and builds the state, as the app does at process start. */
    fun start(name: String = "phone") {
        core = files.open(name)
        app = PocketbookAppState(
            core = core, drafts = files.drafts, clock = Clock.systemUTC(), idleClock = FakeIdleClock(),
            scope = CoroutineScope(SupervisorJob() + Dispatchers.Default), io = Dispatchers.IO,
            autosaveDelay = 50.milliseconds, startLocked = false, onRevoked = { revoked.set(true) },
        )
    }

    /** The process dies: state and store are dropped without any goodbye. */
    fun kill() {
        app.close()
        core.close()
    }

    suspend fun enroll(server: Server, officer: String) {
        app.enrolment.enroll(server.url, server.code(officer)).join()
        assertTrue(app.enrolment.state.value is EnrolmentState.Enrolled, "${app.enrolment.state.value}")
    }

    suspend fun addChild(first: String, last: String): ChildRef {
        app.children.add(first, last, "2012-04-03", null).join()
        return checkNotNull(app.children.state.value.added)
    }
}

class DemoStateTest {
    private lateinit var dir: File
    private lateinit var server: Server
    private val phones = mutableListOf<Phone>()

    @BeforeEach
    fun start() {
        dir = Files.createTempDirectory("pocketbook-demo").toFile()
        server = Server(dir)
    }

    @AfterEach
    fun stop() {
        phones.forEach { runCatching { it.kill() } }
        server.stop()
        dir.deleteRecursively()
    }

    private fun phone(name: String) = Phone(dir, name).also { phones += it }

    private fun fillVisit(vm: RecordVisitViewModel, child: ChildRef) {
        vm.edit {
            it.copy(
                child = child, kind = VisitKind.WELFARE_CHECK, promptedBy = PromptedBy.SCHOOL,
                place = "Home address", present = "mother", outcome = VisitOutcome.ADVICE_GIVEN,
                narrative = "Food parcel delivered.",
            )
        }
        vm.startNow()
        vm.shiftStart(-60)
        vm.endNow()
        vm.shiftEnd(-30)
    }

    @Test
    fun `a visit draft survives process death, keeps its draft when refused and is saved once valid`() = runBlocking<Unit> {
        val alice = phone("alice")
        alice.enroll(server, server.officer("Alice"))
        val child = alice.addChild("Amira", "Example")
        val vm = alice.app.recordVisit
        vm.awaitReady()
        fillVisit(vm, child)
        vm.flush()
        val draft = File(alice.files.dir, "drafts/visit.draft")
        assertTrue(draft.isFile)
        assertFalse(contains(draft.readBytes(), "Food parcel".toByteArray()), "drafts are sealed")
        val typed = vm.state.value.form

        alice.kill()
        alice.start()
        val restored = alice.app.recordVisit
        restored.awaitReady()
        assertTrue(restored.state.value.restored)
        assertEquals(typed, restored.state.value.form)

        // End before start: the core refuses and names the field; nothing is lost.
        restored.edit { it.copy(end = it.start!!.minus(1, ChronoUnit.MINUTES)) }
        restored.submit().join()
        assertEquals(setOf("end"), restored.state.value.fieldErrors.keys)
        assertEquals(null, restored.state.value.savedRecordId)
        restored.flush()
        assertTrue(draft.isFile)

        restored.edit { it.copy(end = typed.end) }
        restored.submit().join()
        val id = checkNotNull(restored.state.value.savedRecordId)
        assertFalse(draft.exists(), "the draft is deleted once the visit is written")
        assertEquals(null, restored.state.value.form.child)
        val list = alice.app.visits.state.await { s -> s.visits.any { it.id == id } }
        assertEquals(listOf("Amira Example"), list.visits.single().children.map { it.name })
        assertEquals(2, list.pendingChanges, "the young person and the visit wait to be pushed")

        // Missing choices are named before the core is asked.
        restored.edit { it.copy(narrative = "half typed") }
        restored.submit().join()
        assertEquals(setOf("kind", "prompted_by", "start", "end", "outcome"), restored.state.value.fieldErrors.keys)
    }

    @Test
    fun `a concern needs every THRIVE rationale and its chronology needs a reason`() = runBlocking<Unit> {
        val alice = phone("alice")
        alice.enroll(server, server.officer("Alice"))
        val child = alice.addChild("Bea", "Example")
        val vm = alice.app.raiseConcern
        vm.awaitReady()
        vm.edit {
            it.copy(
                child = child, category = ConcernCategory.NEGLECT, account = "No food at weekends.",
                childsWords = "We wait for Monday.", riskText = "Ongoing neglect", actionText = "DSL told",
                risk = Risk.MEDIUM,
            )
        }
        vm.happenedNow()
        vm.shiftHappened(-24 * 60)
        for (part in ThrivePart.entries.filter { it != ThrivePart.HARM }) {
            vm.editThrive(part) { ThriveEntry("${part.key} finding", "because ${part.key}") }
        }
        vm.submit().join()
        assertEquals(setOf("thrive.harm"), vm.state.value.fieldErrors.keys)
        vm.editThrive(ThrivePart.HARM) { it.copy(rationale = "no food") }
        vm.submit().join()
        val concernId = checkNotNull(vm.state.value.savedRecordId)

        val chronology = alice.app.chronology
        chronology.open(child)
        assertEquals(ChronologyState.AskingReason(child), chronology.state.value)
        chronology.show("  ").join()
        val refused = chronology.state.value as ChronologyState.AskingReason
        assertEquals("reason", (refused.problem as Problem.Invalid).field)
        chronology.show(chronology.suggestedReasons.first()).join()
        val shown = chronology.state.value as ChronologyState.Showing
        assertEquals(listOf(concernId), shown.entries.map { it.recordId })
        assertEquals(ChronologyKind.CONCERN, shown.entries.single().kind)

        alice.app.lock.lock()
        chronology.state.await { it == ChronologyState.AskingReason(child) }
    }

    @Test
    fun `sync reports progress and a conflict is reviewed and resolved`() = runBlocking<Unit> {
        val alice = phone("alice")
        val sue = phone("sue")
        alice.enroll(server, server.officer("Alice"))
        sue.enroll(server, server.officer("Sue", "supervisor"))
        val child = alice.addChild("Cal", "Example")
        val record = alice.app.recordVisit
        record.awaitReady()
        fillVisit(record, child)
        record.submit().join()
        val visit = checkNotNull(record.state.value.savedRecordId)

        val progress = CopyOnWriteArrayList<SyncProgress>()
        val listening = launch(Dispatchers.Default) { alice.app.events.progress.collect { progress += it } }
        alice.app.sync.sync().join()
        val synced = alice.app.sync.state.value
        assertEquals(null, synced.problem)
        assertEquals(2uL, synced.lastReport!!.pushed)
        assertFalse(synced.running)
        alice.app.sync.state.await { it.status?.pending == 0uL }
        alice.app.visits.state.await { it.pendingChanges == 0 }
        withTimeout(5_000) { while (progress.none { it.phase == SyncPhase.PUSH }) kotlinx.coroutines.delay(10) }
        listening.cancel()

        sue.app.sync.sync().join()
        alice.core.updateVisit(visit, VisitUpdate(narrative = "Alice's note"))
        sue.core.updateVisit(visit, VisitUpdate(narrative = "Sue's note"))
        alice.app.sync.sync().join()
        sue.app.sync.sync().join()
        alice.app.sync.sync().join()
        assertEquals(1uL, alice.app.sync.state.value.lastReport!!.conflicts)

        val conflicts = alice.app.conflicts.state.await { it.conflicts.size == 1 }
        val row = conflicts.conflicts.single()
        assertEquals("narrative", row.conflict.field)
        assertEquals("Sue's note", row.current)
        assertEquals("Alice's note", row.losing)
        alice.app.conflicts.resolve(row.conflict.id, ConflictChoice.TAKE_LOSING).join()
        alice.app.conflicts.state.await { it.conflicts.isEmpty() && it.resolving.isEmpty() }
        assertEquals("Alice's note", alice.core.visit(visit).narrative)
    }

    @Test
    fun `enrolment refuses a bad code and a revoked device is handed back for erasure`() = runBlocking<Unit> {
        val alice = phone("alice")
        val officer = server.officer("Alice")
        alice.app.enrolment.state.await { it is EnrolmentState.NotEnrolled }
        alice.app.enrolment.enroll(server.url, "NOT-A-CODE").join()
        val refused = alice.app.enrolment.state.value as EnrolmentState.NotEnrolled
        assertTrue(refused.problem is Problem.Forbidden, "${refused.problem}")
        alice.enroll(server, officer)

        alice.app.sync.sync().join()
        server.admin("device", "revoke", alice.core.session().deviceId)
        alice.app.sync.sync().join()
        assertEquals(Problem.DeviceRevoked, alice.app.sync.state.value.problem)
        assertTrue(alice.revoked.get())
        alice.kill()
        alice.files.erase()
        assertEquals(emptyList<String>(), alice.files.dir.list()!!.filter { !File(alice.files.dir, it).isDirectory })
    }

    @Test
    fun `the notebook opens again with its sealed key and a lost platform key is reported`() {
        val files = NotebookFiles(File(dir, "n"), { softwareKey() }) // a new platform key every time
        files.open("phone").close() // first open: key made and sealed
        assertThrows<KeyLostException> { files.open("phone") }
        files.erase()
        files.open("phone").close() // a fresh notebook after the reset

        val wrap = softwareKey()
        val kept = NotebookFiles(File(dir, "k"), { wrap })
        kept.open("phone").close()
        kept.open("phone").close()
        kept.key.destroy()
        assertThrows<KeyLostException> { kept.open("phone") }
    }
}
