// Why this file exists: one place that turns the core's typed errors into something a screen
// can show and branch on, so no screen inspects exceptions and no message carries personal data
// (the core's messages name fields and kinds only).

package uk.police.pocketbook.demo.state

import uk.police.pocketbook.core.PocketbookException

/** A failure a screen shows and acts on, made only from the core's typed errors. */
sealed interface Problem {
    /** Words to show the officer; never personal data. */
    val message: String

    /** The core refused a field; nothing was written. [field] is the core's (snake_case) name. */
    data class Invalid(val field: String, val reason: String) : Problem {
        override val message: String get() = reason
    }

    /** The record is not on this device (deleted, or moved out of this officer's scope). */
    data object NotFound : Problem {
        override val message = "That record is no longer on this device."
    }

    /** The device has no officer session yet: enrol first. */
    data object NotEnrolled : Problem {
        override val message = "This device is not enrolled yet."
    }

    /** The key does not open the store (see [KeyLostException] for what the app does). */
    data object WrongKey : Problem {
        override val message = "The notebook's key does not open it."
    }

    /** The store failed (disk full, damaged file, a newer schema). */
    data class Storage(val reason: String) : Problem {
        override val message: String get() = "The notebook could not be read or written ($reason)."
    }

    /** The server could not be reached or answered with an error; local work is safe. */
    data class Offline(val reason: String) : Problem {
        override val message: String
            get() = "Could not sync ($reason). Your work is kept on this device; try again later."
    }

    /** The server does not accept this device's credentials. */
    data object Unauthorized : Problem {
        override val message = "The server did not accept this device. Enrol again."
    }

    /** The server revoked this device; the core has erased its data. */
    data object DeviceRevoked : Problem {
        override val message = "This device was revoked and its notebook erased."
    }

    /** The server refused (an unknown or used enrolment code, another officer's store). */
    data class Forbidden(val reason: String) : Problem {
        override val message: String get() = "Refused: $reason."
    }

    /** The lease lapsed without a sync: records stay hidden until a new code is entered. */
    data object LeaseExpired : Problem {
        override val message = "This device has not synced for too long. Enter a new code from your supervisor."
    }

    /** The server needs a newer app. */
    data object UpgradeRequired : Problem {
        override val message = "The server needs a newer version of this app."
    }

    /** This notebook is a copy of another device's: it now has its own device id, keeps every
     *  change, and sends them once a new code enrols it. */
    data object DeviceForked : Problem {
        override val message = "This notebook was copied from another device. Enter a new code from your supervisor to send its changes."
    }
}

/** Maps the core's one error type to a [Problem], variant for variant. */
fun PocketbookException.toProblem(): Problem = when (this) {
    is PocketbookException.InvalidInput -> Problem.Invalid(field, reason)
    is PocketbookException.NotFound -> Problem.NotFound
    is PocketbookException.NotEnrolled -> Problem.NotEnrolled
    is PocketbookException.WrongKey -> Problem.WrongKey
    is PocketbookException.Storage -> Problem.Storage(reason)
    is PocketbookException.Network -> Problem.Offline(reason)
    is PocketbookException.Unauthorized -> Problem.Unauthorized
    is PocketbookException.DeviceRevoked -> Problem.DeviceRevoked
    is PocketbookException.Forbidden -> Problem.Forbidden(reason)
    is PocketbookException.LeaseExpired -> Problem.LeaseExpired
    is PocketbookException.UpgradeRequired -> Problem.UpgradeRequired
    is PocketbookException.DeviceForked -> Problem.DeviceForked
}
