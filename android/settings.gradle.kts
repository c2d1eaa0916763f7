// The Ruhu Android library as a standalone Gradle build (open android/ in Android Studio), or
// as a module of an app's build:
//
//     // the app's settings.gradle.kts
//     include(":ruhu")
//     project(":ruhu").projectDir = file("../ruhu/android")
//
// The module's build file requests its plugins without versions: in a standalone build the
// versions below apply; inside an app's build the app's own AGP and Kotlin plugin versions do.
// None of this was resolved or built on the machine that wrote it (no Android SDK, NDK or
// Gradle there); see README.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
    plugins {
        id("com.android.library") version "8.7.3"
        id("org.jetbrains.kotlin.android") version "2.1.0"
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "ruhu-android"
