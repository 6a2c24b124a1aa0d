// JVM tests of the generated Kotlin bindings against a live pocketbook-server: the officer
// flow with suspend calls from a coroutine, an observer written in Kotlin, typed exceptions.

import java.io.File
import java.nio.file.Files
import java.security.SecureRandom
import java.time.Duration
import java.time.Instant
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uk.police.pocketbook.core.*

class Server(dir: File) {
    private val bin = System.getProperty("pocketbook.server")
    private val db = File(dir, "server.db").path
    val team: String = admin("team", "add", "Northfield")
    val url: String
    private val process: Process

    init {
        admin("establishment", "add", "--urn", "103254", "--name", "Northfield Academy", "--kind", "secondary")
        process = ProcessBuilder(bin, "--db", db, "serve", "--listen", "127.0.0.1:0")
            .redirectError(File(dir, "server.log"))
            .start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("server did not start")
        url = line.removePrefix("listening on ").trim()
    }

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin, "--db", db) + args).start()
        val out = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor() == 0) { "admin ${args.toList()} failed" }
        return out
    }

    fun officer(name: String, role: String = "officer") =
        admin("officer", "add", "--name", name, "--number", "1", "--role", role, "--team", team)

    fun code(officer: String) = admin("code", "--officer", officer)

    fun stop() {
        process.destroy()
        process.waitFor()
    }
}

class Recorder : PocketbookObserver {
    val changes = mutableListOf<DataChange>()
    val progress = mutableListOf<SyncPhase>()
    override fun dataChanged(change: DataChange) { synchronized(this) { changes.add(change) } }
    override fun syncProgress(phase: SyncPhase, done: ULong, total: ULong) {
        synchronized(this) { progress.add(phase) }
    }
}

class OfficerFlowTest {
    private lateinit var dir: File
    private lateinit var server: Server

    @BeforeEach
    fun start() {
        dir = Files.createTempDirectory("pocketbook-jvm").toFile()
        server = Server(dir)
    }

    @AfterEach
    fun stop() {
        server.stop()
        dir.deleteRecursively()
    }

    private fun key() = ByteArray(32).also { SecureRandom().nextBytes(it) }

    private fun open(name: String, key: ByteArray = key()) =
        Pocketbook.open(OpenConfig(File(dir, "$name.db").path, key, name))

    private fun element(what: String) = ThriveElement(what, "because $what")

    private fun visitDraft(child: String, narrative: String): VisitDraft {
        val start = Instant.now().minus(Duration.ofHours(3))
        return VisitDraft(
            VisitKind.WELFARE_CHECK, PromptedBy.SCHOOL, listOf(child), start,
            start.plus(Duration.ofMinutes(30)), "Home address", listOf("mother"),
            VisitOutcome.ADVICE_GIVEN, listOf(SupportGiven.FOOD), narrative, null,
        )
    }

    @Test
    fun `officer flow with suspend calls and a Kotlin observer`() = runBlocking {
        val alice = server.officer("Alice")
        val sue = server.officer("Sue", "supervisor")
        val a = open("alice")
        val s = open("sue")
        assertEquals(alice, a.enroll(server.url, server.code(alice)).officerId)
        s.enroll(server.url, server.code(sue))
        val school = a.establishments().first().id

        val recorder = Recorder()
        val handle = a.observe(recorder)
        val child = a.addYoungPerson(
            YoungPersonDraft("Amira", "Example", "2012-04-03", null, school, 9u, listOf()),
        ).id
        val visit = a.recordVisit(visitDraft(child, "Food parcel delivered."))
        val concern = a.raiseConcern(
            ConcernDraft(
                youngPersonIds = listOf(child), happenedAt = Instant.now().minus(Duration.ofDays(1)),
                category = ConcernCategory.NEGLECT, subCategories = listOf(ConcernCategory.MISSING),
                account = "No food at weekends.", childsWords = "We wait for Monday.",
                riskText = "Ongoing neglect", actionText = "DSL told",
                thrive = Thrive(element("threat"), element("harm"), element("risk"), element("investigation"),
                    element("vulnerability"), element("engagement")),
                risk = Risk.MEDIUM, assignedLead = sue, marking = null,
            ),
        )
        assertEquals(sue, concern.assignedLead)
        assertEquals(listOf(ConcernCategory.MISSING), concern.subCategories)
        assertEquals(listOf(DataChange.LOCAL, DataChange.LOCAL, DataChange.LOCAL), recorder.changes)
        assertEquals(
            listOf(Entity.YOUNG_PERSON to MutationKind.CREATE, Entity.VISIT to MutationKind.CREATE,
                Entity.CONCERN to MutationKind.CREATE),
            a.pendingChanges().map { it.entity to it.kind },
        )
        val report = a.sync()
        assertEquals(3uL, report.pushed)
        assertTrue(recorder.progress.contains(SyncPhase.PUSH))
        assertTrue(recorder.changes.contains(DataChange.SYNCED))

        s.sync()
        assertEquals("Food parcel delivered.", s.visit(visit.id).narrative)
        assertEquals(Marking.OFFICIAL_SENSITIVE, s.concern(concern.id).marking)

        a.updateVisit(visit.id, VisitUpdate(narrative = "Alice's note"))
        s.updateVisit(visit.id, VisitUpdate(narrative = "Sue's note"))
        a.sync(); s.sync(); a.sync()
        assertEquals("Sue's note", a.visit(visit.id).narrative)
        assertEquals(Entity.VISIT, a.conflicts().single().entity)
        // The supervisor corrects the concern's child with a reason, kept as an addendum; a
        // visit is deleted only with a reason.
        val sibling = s.addYoungPerson(YoungPersonDraft("Sami", "Example", "2014-02-01", null, school, 7u, listOf())).id
        val corrected = s.correctConcernChild(concern.id, listOf(sibling), "Wrong sibling selected")
        assertEquals(listOf(sibling), corrected.youngPersonIds)
        assertTrue(s.addenda(concern.id).single().text.contains("Wrong sibling selected"))
        val err = assertThrows<PocketbookException.InvalidInput> { s.deleteVisit(visit.id, " ") }
        assertEquals("reason", err.field)
        s.deleteVisit(visit.id, "Recorded twice")
        assertTrue(s.visits(null).none { it.id == visit.id })
        handle.stop()
        val seen = recorder.changes.size
        a.addYoungPerson(YoungPersonDraft("B", "C", null, AgeBand.FROM11_TO13, null, null, listOf()))
        assertEquals(seen, recorder.changes.size)
    }

    @Test
    fun `typed exceptions`() = runBlocking {
        val alice = server.officer("Alice")
        val key = key()
        val book = open("alice", key)
        assertThrows<PocketbookException.NotEnrolled> {
            book.addYoungPerson(YoungPersonDraft("A", "B", "2012-01-01", null, null, null, listOf()))
        }
        assertThrows<PocketbookException.WrongKey> { open("alice") }
        book.enroll(server.url, server.code(alice))
        val child = book.addYoungPerson(YoungPersonDraft("A", "B", "2012-01-01", null, null, null, listOf())).id
        val bad = visitDraft(child, "x").let { it.copy(end = it.start.minus(Duration.ofMinutes(1))) }
        val err = assertThrows<PocketbookException.InvalidInput> { book.recordVisit(bad) }
        assertEquals("end", err.field)
        book.sync()
        server.admin("device", "revoke", book.session().deviceId)
        assertThrows<PocketbookException.DeviceRevoked> { runBlocking { book.sync() } }
        Unit
    }
}
