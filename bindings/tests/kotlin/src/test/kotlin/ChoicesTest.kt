// Why this file exists: JVM tests of the demo's pickers: a value the core reads as UNKNOWN
// (written by a newer app or server) is never offered for choosing.

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test
import uk.police.pocketbook.core.ConcernCategory
import uk.police.pocketbook.core.VisitKind
import uk.police.pocketbook.demo.state.choosable

class ChoicesTest {
    @Test
    fun `pickers offer every value but UNKNOWN, in order`() {
        val kinds = choosable(VisitKind.entries)
        assertFalse(VisitKind.UNKNOWN in kinds)
        assertEquals(VisitKind.entries.size - 1, kinds.size)
        assertEquals(VisitKind.entries.first(), kinds.first())
        assertFalse(ConcernCategory.UNKNOWN in choosable(ConcernCategory.entries))
    }
}
