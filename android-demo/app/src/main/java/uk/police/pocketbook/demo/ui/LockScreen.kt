// Why this file exists: the only thing drawn while the app is locked. It asks for the device
// credential straight away and offers a button to ask again; a phone without a screen lock cannot
// open the notebook at all.

package uk.police.pocketbook.demo.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import uk.police.pocketbook.demo.DeviceCredentialPrompt
import uk.police.pocketbook.demo.state.AppLock

/** The lock screen. */
@Composable
fun LockScreen(lock: AppLock, credential: DeviceCredentialPrompt) {
    val scope = rememberCoroutineScope()
    val available = remember { credential.available() }
    LaunchedEffect(Unit) {
        if (available) lock.unlock(credential)
    }
    Centered {
        Column(verticalArrangement = Arrangement.spacedBy(16.dp)) {
            Text("Pocketbook is locked", style = MaterialTheme.typography.headlineSmall)
            if (available) {
                Button(onClick = { scope.launch { lock.unlock(credential) } }) { Text("Unlock") }
            } else {
                Text("Set a screen lock (PIN, pattern or password) in Settings to use Pocketbook.")
            }
        }
    }
}
