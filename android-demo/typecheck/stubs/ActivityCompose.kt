// Why this file exists: a type-checking stand-in for androidx.activity:activity-compose (see
// Activity.kt). Used only by android-demo/typecheck, never shipped.
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.activity.compose

import androidx.activity.ComponentActivity
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionContext

/** Stand-in for the real setContent. */
fun ComponentActivity.setContent(parent: CompositionContext? = null, content: @Composable () -> Unit) {}

/** Stand-in for the real BackHandler. */
@Composable
fun BackHandler(enabled: Boolean = true, onBack: () -> Unit) {}
