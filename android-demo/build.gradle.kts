// Why this file exists: declares the plugins once (with the versions in gradle/libs.versions.toml)
// so the modules apply them without versions.

plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.kotlin.android) apply false
    alias(libs.plugins.kotlin.jvm) apply false
    alias(libs.plugins.kotlin.compose) apply false
}
