// Why this file exists: a type-checking stand-in for androidx.fragment's FragmentActivity (see
// Activity.kt). Used only by android-demo/typecheck, never shipped.
@file:Suppress("unused")

package androidx.fragment.app

/** Stand-in for androidx.fragment.app.FragmentActivity. */
open class FragmentActivity : androidx.activity.ComponentActivity()
