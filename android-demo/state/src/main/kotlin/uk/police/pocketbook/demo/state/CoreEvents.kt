// Why this file exists: the core fires data-changed and sync-progress events (after each saved
// change) to every foreign observer; this registers one observer and fans the events out as
// flows, so every view model can react without registering its own. Callbacks arrive on whichever thread made the
// change (a store call's thread, or a tokio worker during sync): they only try-emit, never block.

package uk.police.pocketbook.demo.state

import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import uk.police.pocketbook.core.DataChange
import uk.police.pocketbook.core.ObserverHandle
import uk.police.pocketbook.core.PocketbookInterface
import uk.police.pocketbook.core.PocketbookObserver
import uk.police.pocketbook.core.SyncPhase

/** One step of a running sync: [done] of [total] items of [phase] (push, then pull). */
data class SyncProgress(val phase: SyncPhase, val done: Long, val total: Long) {
    /** Progress as a fraction in 0..1 (0 when the total is not known yet). */
    val fraction: Float get() = if (total <= 0) 0f else (done.toFloat() / total).coerceIn(0f, 1f)
}

/**
 * The core's events as flows. Make one per open store and [close] it with the store; closing
 * stops delivery (the core drops the observer).
 */
class CoreEvents(core: PocketbookInterface) : AutoCloseable {
    private val _changes = MutableSharedFlow<DataChange>(
        extraBufferCapacity = 64,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )
    private val _progress = MutableSharedFlow<SyncProgress>(
        extraBufferCapacity = 64,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )

    /**
     * Records changed: on this device ([DataChange.LOCAL]), by sync or enrolment
     * ([DataChange.SYNCED]), or became visible again after a new code ([DataChange.REAUTHENTICATED]).
     */
    val changes: SharedFlow<DataChange> = _changes.asSharedFlow()

    /** Progress of a running sync. */
    val progress: SharedFlow<SyncProgress> = _progress.asSharedFlow()

    private val handle: ObserverHandle = core.observe(object : PocketbookObserver {
        override fun dataChanged(change: DataChange) {
            _changes.tryEmit(change)
        }

        override fun syncProgress(phase: SyncPhase, done: ULong, total: ULong) {
            _progress.tryEmit(SyncProgress(phase, done.toLong(), total.toLong()))
        }
    })

    /** Stops delivery. */
    override fun close() {
        handle.stop()
        handle.close()
    }
}
