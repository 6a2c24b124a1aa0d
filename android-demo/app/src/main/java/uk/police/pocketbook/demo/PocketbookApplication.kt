// Why this file exists: the Application holds the AppContainer so the open store and the screens'
// state outlive activity recreation (rotation, dark mode), and starts opening the store as early
// as possible.

package uk.police.pocketbook.demo

import android.app.Application

/** The demo's Application: owns the [AppContainer]. */
class PocketbookApplication : Application() {
    /** The open notebook and its state. */
    lateinit var container: AppContainer
        private set

    override fun onCreate() {
        super.onCreate()
        container = AppContainer(this).also { it.start() }
    }
}
