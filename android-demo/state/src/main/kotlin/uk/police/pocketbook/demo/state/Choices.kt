// Why this file exists: every enumeration the core reads off the wire has an UNKNOWN value, for
// a value a newer app or server wrote that this build cannot name. It is for showing, never for
// choosing (the core refuses a draft that holds it), so pickers offer only the other values.

package uk.police.pocketbook.demo.state

/** The values of [entries] an officer may choose: every one but `UNKNOWN`. */
fun <E : Enum<E>> choosable(entries: List<E>): List<E> = entries.filter { it.name != "UNKNOWN" }
