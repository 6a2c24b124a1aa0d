// Why this file exists: the Gradle build of the Android demo shell: the app module and the plain
// Kotlin state module it depends on (which the JVM tests in bindings/tests/kotlin also compile).

pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "pocketbook-android-demo"
include(":app", ":state")
