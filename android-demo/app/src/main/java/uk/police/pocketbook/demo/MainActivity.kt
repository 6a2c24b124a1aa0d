// Why this file exists: the one activity. It blocks screenshots, screen recording and the Recents
// thumbnail (FLAG_SECURE, before any content is drawn), feeds user activity to the app lock and
// runs its idle check while visible, seals drafts when the app goes to the background, and hosts
// the Compose screens.

package uk.police.pocketbook.demo

import android.os.Build
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.compose.setContent
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.lifecycleScope
import androidx.lifecycle.repeatOnLifecycle
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.launch
import uk.police.pocketbook.demo.ui.AppRoot
import uk.police.pocketbook.demo.ui.PocketbookTheme

/** Hosts the app; a FragmentActivity because BiometricPrompt needs one. */
class MainActivity : FragmentActivity() {
    private val container: AppContainer get() = (application as PocketbookApplication).container
    private lateinit var credential: DeviceCredentialPrompt

    override fun onCreate(savedInstanceState: Bundle?) {
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        super.onCreate(savedInstanceState)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) setRecentsScreenshotEnabled(false)
        credential = DeviceCredentialPrompt(this)
        setContent {
            PocketbookTheme {
                AppRoot(container, credential)
            }
        }
        lifecycleScope.launch {
            repeatOnLifecycle(Lifecycle.State.RESUMED) {
                container.startup.collectLatest { startup ->
                    if (startup is Startup.Ready) startup.state.lock.watch()
                }
            }
        }
    }

    override fun onUserInteraction() {
        super.onUserInteraction()
        (container.startup.value as? Startup.Ready)?.state?.lock?.onUserActivity()
    }

    override fun onStop() {
        super.onStop()
        container.onBackground()
    }
}
