// Why this file exists: the Android app module: thin Compose screens over the state module, the
// Keystore key, the device-credential prompt, and the native core (libpocketbook_ffi.so for
// arm64-v8a and x86_64, built into src/main/jniLibs by ../scripts/build-native.sh).

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "uk.police.pocketbook.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "uk.police.pocketbook.demo"
        // 26: java.time (the bindings' Instant) without desugaring, and the AndroidKeyStore AES/GCM
        // keys this app relies on (API 23+).
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk {
            abiFilters += listOf("arm64-v8a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        compose = true
    }

    packaging {
        jniLibs {
            // Keep the .so uncompressed and page-aligned in the APK; loaded in place.
            useLegacyPackaging = false
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    implementation(project(":state"))
    // JNA for Android: the AAR carries libjnidispatch.so for every ABI.
    implementation("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    implementation(libs.kotlinx.coroutines.android)
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.runtime.ktx)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.biometric)
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.foundation)
    implementation(libs.compose.material3)
    implementation(libs.compose.ui.tooling.preview)
    debugImplementation(libs.compose.ui.tooling)
}

val nativeLibrary = layout.projectDirectory.file("src/main/jniLibs/arm64-v8a/libpocketbook_ffi.so")
tasks.named("preBuild") {
    doFirst {
        check(nativeLibrary.asFile.isFile) {
            "The native core is missing: run android-demo/scripts/build-native.sh first."
        }
    }
}
