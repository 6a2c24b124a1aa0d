// Why this file exists: the app's state logic (view models, app lock, sealed drafts and key) as a
// plain Kotlin/JVM module with no Android dependency, so the same sources are compiled and tested
// on the JVM by bindings/tests/kotlin (Maven). It compiles together with the Kotlin bindings that
// scripts/build-native.sh generates into src/generated/kotlin (build output, not committed).

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.kotlin.jvm)
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
    sourceSets.named("main") {
        kotlin.srcDir("src/generated/kotlin")
    }
}

dependencies {
    api(libs.kotlinx.coroutines.core)
    // The generated bindings call JNA. The app supplies JNA's Android build (the @aar, with its
    // native dispatch library for each ABI); a JVM user supplies the jar.
    compileOnly(libs.jna)
}

val generatedBindings = layout.projectDirectory.dir("src/generated/kotlin/uk/police/pocketbook/core")
tasks.named("compileKotlin") {
    doFirst {
        check(generatedBindings.asFile.isDirectory) {
            "The Kotlin bindings are missing: run android-demo/scripts/build-native.sh first."
        }
    }
}
