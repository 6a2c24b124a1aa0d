// Why this file exists: a type-checking stand-in for androidx.activity (Google's Maven only, not
// reachable where this demo was written): ComponentActivity as a LifecycleOwner, setContent and
// BackHandler with their documented signatures. Used only by android-demo/typecheck, never shipped.
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.activity

import androidx.lifecycle.Lifecycle
import androidx.lifecycle.LifecycleOwner

/** Stand-in for androidx.activity.ComponentActivity. */
open class ComponentActivity : android.app.Activity(), LifecycleOwner {
    override val lifecycle: Lifecycle get() = TODO("type-checking stub")
}
