// Why this file exists: the record-visit and raise-concern forms as plain data (what the officer
// has typed so far, possibly incomplete), how each becomes the core's draft type, and how each is
// encoded for the sealed draft store. The form checks only what the FFI types cannot express as
// missing (a choice not yet made, a date typed in the wrong shape); every rule about records is
// the core's.

package uk.police.pocketbook.demo.state

import java.time.Instant
import java.time.LocalDate
import java.time.format.DateTimeParseException
import uk.police.pocketbook.core.ConcernCategory
import uk.police.pocketbook.core.ConcernDraft
import uk.police.pocketbook.core.Marking
import uk.police.pocketbook.core.PromptedBy
import uk.police.pocketbook.core.Risk
import uk.police.pocketbook.core.SupportGiven
import uk.police.pocketbook.core.Thrive
import uk.police.pocketbook.core.ThriveElement
import uk.police.pocketbook.core.VisitDraft
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.core.VisitOutcome
import uk.police.pocketbook.core.YoungPerson

/** A young person chosen on a form: the id the core needs and the name the screen shows. */
data class ChildRef(val id: String, val name: String) {
    /** Helpers. */
    companion object {
        /** The reference to [person]. */
        fun of(person: YoungPerson) = ChildRef(person.id, "${person.firstName} ${person.lastName}")
    }
}

/** A visit being recorded. Null choices have not been made yet. */
data class VisitForm(
    /** The young person visited. */
    val child: ChildRef? = null,
    /** Kind of visit. */
    val kind: VisitKind? = null,
    /** Who prompted it. */
    val promptedBy: PromptedBy? = null,
    /** When it started. */
    val start: Instant? = null,
    /** When it ended. */
    val end: Instant? = null,
    /** Address or ward. */
    val place: String = "",
    /** Who was present, comma separated. */
    val present: String = "",
    /** How it ended. */
    val outcome: VisitOutcome? = null,
    /** Support given. */
    val supportGiven: Set<SupportGiven> = emptySet(),
    /** What happened. */
    val narrative: String = "",
    /** Follow-up date as typed (YYYY-MM-DD), or blank. */
    val followUp: String = "",
) {
    /** The core's draft, or [FormIncomplete] naming the choices still to make. */
    fun toDraft(): VisitDraft {
        val missing = linkedMapOf<String, String>()
        if (kind == null) missing["kind"] = "Choose the kind of visit"
        if (promptedBy == null) missing["prompted_by"] = "Say who prompted the visit"
        if (start == null) missing["start"] = "Set when the visit started"
        if (end == null) missing["end"] = "Set when the visit ended"
        if (outcome == null) missing["outcome"] = "Choose the outcome"
        val followUpDate = followUp.trim().ifEmpty { null }
        if (followUpDate != null && !isIsoDate(followUpDate)) missing["follow_up"] = "Use the form YYYY-MM-DD"
        if (missing.isNotEmpty()) throw FormIncomplete(missing)
        return VisitDraft(
            kind = kind!!,
            promptedBy = promptedBy!!,
            youngPersonIds = listOfNotNull(child?.id),
            start = start!!,
            end = end!!,
            place = place.trim(),
            present = present.split(',').map { it.trim() }.filter { it.isNotEmpty() },
            outcome = outcome!!,
            supportGiven = supportGiven.sortedBy { it.ordinal },
            narrative = narrative.trim(),
            followUp = followUpDate,
        )
    }
}

/** The six THRIVE elements, with the names the core uses in its errors ("thrive.harm"). */
enum class ThrivePart(
    /** The core's name for the element. */
    val key: String,
) {
    /** Threat. */
    THREAT("threat"),

    /** Harm. */
    HARM("harm"),

    /** Risk. */
    RISK("risk"),

    /** Investigation. */
    INVESTIGATION("investigation"),

    /** Vulnerability. */
    VULNERABILITY("vulnerability"),

    /** Engagement. */
    ENGAGEMENT("engagement"),
}

/** One THRIVE element as typed. */
data class ThriveEntry(
    /** The finding. */
    val finding: String = "",
    /** Why (the core requires one for every element). */
    val rationale: String = "",
)

/** A concern being raised. */
data class ConcernForm(
    /** The young person it is about. */
    val child: ChildRef? = null,
    /** When it happened (may be earlier than now: backdated entries sort by this). */
    val happenedAt: Instant? = null,
    /** Main category. */
    val category: ConcernCategory? = null,
    /** What happened. */
    val account: String = "",
    /** The child's own words, if any. */
    val childsWords: String = "",
    /** The risk in words. */
    val riskText: String = "",
    /** Action taken or proposed. */
    val actionText: String = "",
    /** THRIVE elements typed so far; absent means blank. */
    val thrive: Map<ThrivePart, ThriveEntry> = emptyMap(),
    /** Risk level. */
    val risk: Risk? = null,
    /** OFFICIAL-SENSITIVE (the default for concerns) or OFFICIAL. */
    val sensitive: Boolean = true,
) {
    /** The THRIVE element [part] (blank if not typed). */
    fun thrive(part: ThrivePart): ThriveEntry = thrive[part] ?: ThriveEntry()

    /** This form with THRIVE element [part] set; blank elements are dropped so a cleared form is blank. */
    fun withThrive(part: ThrivePart, entry: ThriveEntry): ConcernForm =
        copy(thrive = if (entry == ThriveEntry()) thrive - part else thrive + (part to entry))

    /** The core's draft, or [FormIncomplete] naming the choices still to make. */
    fun toDraft(): ConcernDraft {
        val missing = linkedMapOf<String, String>()
        if (happenedAt == null) missing["happened_at"] = "Set when it happened"
        if (category == null) missing["category"] = "Choose a category"
        if (missing.isNotEmpty()) throw FormIncomplete(missing)
        fun element(part: ThrivePart) = thrive(part).let { ThriveElement(it.finding.trim(), it.rationale.trim()) }
        return ConcernDraft(
            youngPersonIds = listOfNotNull(child?.id),
            happenedAt = happenedAt!!,
            category = category!!,
            account = account.trim(),
            childsWords = childsWords.trim().ifEmpty { null },
            riskText = riskText.trim(),
            actionText = actionText.trim(),
            thrive = Thrive(
                element(ThrivePart.THREAT), element(ThrivePart.HARM), element(ThrivePart.RISK),
                element(ThrivePart.INVESTIGATION), element(ThrivePart.VULNERABILITY),
                element(ThrivePart.ENGAGEMENT),
            ),
            risk = risk,
            marking = if (sensitive) Marking.OFFICIAL_SENSITIVE else Marking.OFFICIAL,
        )
    }
}

private fun isIsoDate(text: String): Boolean = try {
    LocalDate.parse(text)
    true
} catch (e: DateTimeParseException) {
    false
}

private fun DraftFields.putChild(child: ChildRef?) {
    put("child.id", child?.id)
    put("child.name", child?.name)
}

private fun DraftFields.child(): ChildRef? =
    textOrNull("child.id")?.let { ChildRef(it, text("child.name")) }

/** Encodes a [VisitForm] for the sealed draft store. */
object VisitFormCodec : FormCodec<VisitForm> {
    override fun encode(form: VisitForm): ByteArray = DraftFields().apply {
        putChild(form.child)
        put("kind", form.kind?.name)
        put("prompted_by", form.promptedBy?.name)
        put("start", form.start?.toString())
        put("end", form.end?.toString())
        put("place", form.place)
        put("present", form.present)
        put("outcome", form.outcome?.name)
        putEnums("support_given", form.supportGiven)
        put("narrative", form.narrative)
        put("follow_up", form.followUp)
    }.toBytes()

    override fun decode(bytes: ByteArray): VisitForm = DraftFields.parse(bytes).run {
        VisitForm(
            child = child(),
            kind = enumOrNull<VisitKind>("kind"),
            promptedBy = enumOrNull<PromptedBy>("prompted_by"),
            start = instant("start"),
            end = instant("end"),
            place = text("place"),
            present = text("present"),
            outcome = enumOrNull<VisitOutcome>("outcome"),
            supportGiven = enumSet<SupportGiven>("support_given"),
            narrative = text("narrative"),
            followUp = text("follow_up"),
        )
    }
}

/** Encodes a [ConcernForm] for the sealed draft store. */
object ConcernFormCodec : FormCodec<ConcernForm> {
    override fun encode(form: ConcernForm): ByteArray = DraftFields().apply {
        putChild(form.child)
        put("happened_at", form.happenedAt?.toString())
        put("category", form.category?.name)
        put("account", form.account)
        put("childs_words", form.childsWords)
        put("risk_text", form.riskText)
        put("action_text", form.actionText)
        for ((part, entry) in form.thrive) {
            put("thrive.${part.key}.finding", entry.finding)
            put("thrive.${part.key}.rationale", entry.rationale)
        }
        put("risk", form.risk?.name)
        put("sensitive", form.sensitive.toString())
    }.toBytes()

    override fun decode(bytes: ByteArray): ConcernForm = DraftFields.parse(bytes).run {
        var form = ConcernForm(
            child = child(),
            happenedAt = instant("happened_at"),
            category = enumOrNull<ConcernCategory>("category"),
            account = text("account"),
            childsWords = text("childs_words"),
            riskText = text("risk_text"),
            actionText = text("action_text"),
            risk = enumOrNull<Risk>("risk"),
            sensitive = textOrNull("sensitive") != "false",
        )
        for (part in ThrivePart.entries) {
            form = form.withThrive(
                part,
                ThriveEntry(text("thrive.${part.key}.finding"), text("thrive.${part.key}.rationale")),
            )
        }
        form
    }
}
