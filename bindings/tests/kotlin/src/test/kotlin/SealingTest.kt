// Why this file exists: JVM tests of how the Android demo keeps secrets at rest
// (android-demo/state): the database key made once and kept only sealed, drafts sealed (no
// plaintext on disk), drafts that no longer open dropped rather than crashing, sealed autosave
// and restore of a form, and the draft codecs.

import java.io.File
import java.nio.file.Files
import java.time.Instant
import java.util.concurrent.ConcurrentHashMap
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import uk.police.pocketbook.core.ConcernCategory
import uk.police.pocketbook.core.PromptedBy
import uk.police.pocketbook.core.Risk
import uk.police.pocketbook.core.SupportGiven
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.demo.state.ChildRef
import uk.police.pocketbook.demo.state.ConcernForm
import uk.police.pocketbook.demo.state.ConcernFormCodec
import uk.police.pocketbook.demo.state.DatabaseKey
import uk.police.pocketbook.demo.state.DraftEditor
import uk.police.pocketbook.demo.state.DraftVault
import uk.police.pocketbook.demo.state.KeyLostException
import uk.police.pocketbook.demo.state.Seal
import uk.police.pocketbook.demo.state.SealBrokenException
import uk.police.pocketbook.demo.state.SealedDraftVault
import uk.police.pocketbook.demo.state.SealedFile
import uk.police.pocketbook.demo.state.ThriveEntry
import uk.police.pocketbook.demo.state.ThrivePart
import uk.police.pocketbook.demo.state.VisitForm
import uk.police.pocketbook.demo.state.VisitFormCodec
import uk.police.pocketbook.demo.state.readable

/** A software AES key standing in for the Android Keystore key. */
fun softwareKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

/** True when [needle] occurs in [haystack]. */
fun contains(haystack: ByteArray, needle: ByteArray): Boolean =
    (0..haystack.size - needle.size).any { i -> needle.indices.all { haystack[i + it] == needle[it] } }

/** A vault in memory, counting writes. */
class MemoryVault : DraftVault {
    val blobs = ConcurrentHashMap<String, ByteArray>()
    @Volatile var writes = 0
    override fun read(slot: String) = blobs[slot]
    override fun write(slot: String, bytes: ByteArray) {
        writes++
        blobs[slot] = bytes
    }
    override fun delete(slot: String) {
        blobs.remove(slot)
    }
    override fun clear() = blobs.clear()
}

val fullVisit = VisitForm(
    child = ChildRef("0191f3c4-0000-7000-8000-000000000001", "Zoë O'Brien"),
    kind = VisitKind.FOOD_PARCEL,
    promptedBy = PromptedBy.SCHOOL,
    start = Instant.parse("2025-01-02T10:00:00Z"),
    end = Instant.parse("2025-01-02T10:30:00Z"),
    place = "Flat 3, Example Road",
    present = "mother, aunt",
    supportGiven = setOf(SupportGiven.FOOD, SupportGiven.SAFETY_ADVICE),
    narrative = "Food parcel delivered.\nLine two = with: odd #chars \\ and ünïcode",
    followUp = "2025-01-09",
)

class SealingTest {
    private val dir: File = Files.createTempDirectory("pocketbook-sealing").toFile()

    @AfterEach
    fun cleanUp() {
        dir.deleteRecursively()
    }

    @Test
    fun `sealed blobs open only with the same key and context`() {
        val key = softwareKey()
        val sealed = Seal.seal(key, "secret".toByteArray(), "ctx")
        assertArrayEquals("secret".toByteArray(), Seal.open(key, sealed, "ctx"))
        assertThrows<SealBrokenException> { Seal.open(key, sealed, "other") }
        assertThrows<SealBrokenException> { Seal.open(softwareKey(), sealed, "ctx") }
        sealed[sealed.size - 1] = (sealed[sealed.size - 1].toInt() xor 1).toByte()
        assertThrows<SealBrokenException> { Seal.open(key, sealed, "ctx") }
        assertThrows<SealBrokenException> { Seal.open(key, byteArrayOf(1, 12, 0), "ctx") }
    }

    @Test
    fun `the database key is made once and kept only sealed`() {
        val wrap = softwareKey()
        val file = File(dir, "db-key.sealed")
        val key = DatabaseKey(SealedFile(file, "db", { wrap }))
        assertFalse(key.exists())
        val first = key.getOrCreate()
        assertEquals(32, first.size)
        assertTrue(key.exists())
        assertFalse(contains(file.readBytes(), first), "the raw key is never on disk")
        assertArrayEquals(first, DatabaseKey(SealedFile(file, "db", { wrap })).getOrCreate())
        assertThrows<KeyLostException> { DatabaseKey(SealedFile(file, "db", { softwareKey() })).getOrCreate() }
        key.destroy()
        assertFalse(file.exists())
    }

    @Test
    fun `drafts are sealed on disk and a draft that no longer opens is dropped`() {
        val wrap = softwareKey()
        val vault = SealedDraftVault(dir, { wrap })
        val bytes = VisitFormCodec.encode(fullVisit)
        vault.write("visit", bytes)
        val onDisk = File(dir, "visit.draft").readBytes()
        assertFalse(contains(onDisk, "Food parcel".toByteArray()))
        assertFalse(contains(onDisk, "Example Road".toByteArray()))
        assertArrayEquals(bytes, vault.read("visit"))
        assertNull(SealedDraftVault(dir, { softwareKey() }).read("visit"))
        assertFalse(File(dir, "visit.draft").exists(), "an unreadable draft is deleted")
        assertNull(vault.read("visit"))
        assertThrows<IllegalArgumentException> { vault.write("../escape", bytes) }
    }

    @Test
    fun `draft codecs round-trip and tolerate fields from other versions`() {
        assertEquals(fullVisit, VisitFormCodec.decode(VisitFormCodec.encode(fullVisit)))
        assertEquals(VisitForm(), VisitFormCodec.decode(VisitFormCodec.encode(VisitForm())))
        val concern = ConcernForm(
            child = ChildRef("id", "A B"), happenedAt = Instant.parse("2025-01-01T09:00:00Z"),
            category = ConcernCategory.NEGLECT, account = "No food at weekends.", childsWords = "We wait.",
            riskText = "Ongoing", actionText = "DSL told", risk = Risk.MEDIUM, sensitive = false,
        ).withThrive(ThrivePart.HARM, ThriveEntry("hungry", "no food"))
        assertEquals(concern, ConcernFormCodec.decode(ConcernFormCodec.encode(concern)))
        val future = "kind=TELEPORT\nnarrative=kept\nnew_field=x\n".toByteArray()
        assertEquals(VisitForm(narrative = "kept"), VisitFormCodec.decode(future))
    }

    @Test
    fun `conflict values read as text`() {
        assertEquals("Sue's note", readable("\"Sue's note\""))
        assertEquals("a \"quote\"\nnext é", readable("\"a \\\"quote\\\"\\nnext \\u00e9\""))
        assertEquals("(empty)", readable("null"))
        assertEquals("[\"FOOD\"]", readable("[\"FOOD\"]"))
        assertEquals("3", readable("3"))
    }

    @Test
    fun `a form autosaves after a pause, is restored by a new editor, and a blank form deletes it`() = runBlocking<Unit> {
        val vault = MemoryVault()
        fun editor(scope: CoroutineScope) = DraftEditor(
            scope, Dispatchers.IO, vault, "visit", VisitFormCodec, VisitForm(), 150.milliseconds,
        )
        val first = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val a = editor(first)
        a.awaitReady()
        assertFalse(a.state.value.restored)
        a.edit { it.copy(narrative = "N") }
        a.edit { it.copy(narrative = "Na") }
        a.edit { it.copy(narrative = "Nar") }
        withTimeout(5_000) { while (vault.read("visit") == null) delay(5) }
        delay(200)
        assertEquals(1, vault.writes, "keystrokes within the pause are saved once")
        first.cancel() // the process dies

        val second = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val b = editor(second)
        b.awaitReady()
        assertTrue(b.state.value.restored)
        assertEquals("Nar", b.state.value.form.narrative)
        b.edit { it.copy(narrative = "") }
        b.flush()
        assertNull(vault.read("visit"), "an emptied form leaves no draft")
        second.cancel()
    }
}
