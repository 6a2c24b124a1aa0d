// Why this file exists: a type-checking stand-in for androidx.core's ContextCompat (see
// Activity.kt). Used only by android-demo/typecheck, never shipped.
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.core.content

import android.content.Context
import java.util.concurrent.Executor

/** Stand-in for androidx.core.content.ContextCompat. */
object ContextCompat {
    /** Stand-in. */
    @JvmStatic
    fun getMainExecutor(context: Context): Executor = TODO("type-checking stub")
}
