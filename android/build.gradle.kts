// Ruhu core for Android: the Rust library (cargo-ndk, four ABIs) and its uniffi Kotlin
// bindings, generated at build time by the workspace's own uniffi-bindgen.
//
//   cargoNdkBuild            build-rust.sh: release, --no-default-features -> src/main/jniLibs
//   generateRuhuBindings     Kotlin (package uniffi.ruhu_ffi) from the arm64-v8a release
//                            library -> build/generated/source/uniffi/main/kotlin
//   cargoBuildHost           desktop debug library (default features = test-support),
//                            uniffi-bindgen, sync-server and county-authority for unit tests
//   generateRuhuTestBindings Kotlin with TestAuthority (package uniffi.ruhu_ffi.testsupport)
//                            -> build/generated/source/uniffi/test/kotlin
//
// Not built on the machine that wrote it (no Android SDK, NDK or Gradle Android plugin there):
// README.md says what was built and run there and what needs Android Studio.

import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

/** The Cargo workspace; android/ sits directly below it. */
val workspaceDir: File = projectDir.parentFile
/** Android Studio started from the dock does not see the shell's PATH: try rustup's place too. */
val cargo: String = providers.environmentVariable("CARGO").orNull
    ?: File(System.getProperty("user.home"), ".cargo/bin/cargo").takeIf { it.canExecute() }?.path
    ?: "cargo"

/** Package of the shipped bindings: uniffi's default for the `ruhu_ffi` crate. */
val bindingsPackage = "uniffi.ruhu_ffi"
val bindingsDir: File = layout.buildDirectory.dir("generated/source/uniffi/main/kotlin").get().asFile

/**
 * The library the shipped bindings are generated from: the arm64-v8a release build that
 * build-rust.sh made, before cargo-ndk copied it into jniLibs (uniffi reads its metadata
 * from the symbol table, so the library must not be stripped).
 */
val bindingsSourceLibrary: File = workspaceDir.resolve("target/aarch64-linux-android/release/libruhu_ffi.so")

/** Unit tests: the desktop library with `test-support`, and bindings in their own package. */
val testBindingsPackage = "uniffi.ruhu_ffi.testsupport"
val testBindingsDir: File = layout.buildDirectory.dir("generated/source/uniffi/test/kotlin").get().asFile
val hostDebugDir: File = workspaceDir.resolve("target/debug")
val hostLibrary: File = hostDebugDir.resolve(
    System.getProperty("os.name").lowercase().let {
        when {
            it.contains("mac") -> "libruhu_ffi.dylib"
            it.contains("windows") -> "ruhu_ffi.dll"
            else -> "libruhu_ffi.so"
        }
    },
)
val hostBindgen: File = hostDebugDir.resolve("uniffi-bindgen")

/** The Rust sources whose changes make the libraries (and so the bindings) out of date. */
val rustSources = files(
    workspaceDir.resolve("Cargo.toml"),
    workspaceDir.resolve("Cargo.lock"),
    fileTree(workspaceDir.resolve("core")) { include("Cargo.toml", "src/**") },
    fileTree(workspaceDir.resolve("ffi")) { include("Cargo.toml", "src/**") },
)

val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "ruhu"
    description = "Cross-compiles ruhu-ffi (release, no test-support) for the four ABIs into src/main/jniLibs."
    // -Pruhu.skipCargo: use libraries built beforehand (e.g. by CI) and left in place.
    onlyIf { !project.hasProperty("ruhu.skipCargo") }
    workingDir = workspaceDir
    commandLine("bash", file("build-rust.sh").absolutePath)
    inputs.files(rustSources)
    inputs.file("build-rust.sh")
    outputs.dir("src/main/jniLibs")
    outputs.file(bindingsSourceLibrary)
}

val generateRuhuBindings by tasks.registering(Exec::class) {
    group = "ruhu"
    description = "Generates the Kotlin bindings ($bindingsPackage) from the release library."
    dependsOn(cargoNdkBuild)
    workingDir = workspaceDir
    inputs.file(bindingsSourceLibrary)
    outputs.dir(bindingsDir)
    doFirst { delete(bindingsDir) }
    // The workspace's uniffi-bindgen matches the uniffi version ruhu-ffi was compiled with.
    commandLine(
        cargo, "run", "--quiet", "-p", "uniffi-bindgen", "--",
        "generate", bindingsSourceLibrary.absolutePath,
        "--language", "kotlin", "--out-dir", bindingsDir.absolutePath, "--no-format",
    )
    doLast {
        val generated = bindingsDir.resolve(bindingsPackage.replace('.', '/') + "/ruhu_ffi.kt")
        check(generated.isFile) { "uniffi-bindgen did not write $generated" }
    }
}

val cargoBuildHost by tasks.registering(Exec::class) {
    group = "ruhu"
    description = "Builds the desktop ruhu-ffi (with test-support), uniffi-bindgen and the sync server for unit tests."
    workingDir = workspaceDir
    // The same invocation as scripts/kotlin-tests.sh, so both share one build.
    commandLine(cargo, "build", "--quiet", "-p", "ruhu-ffi", "-p", "uniffi-bindgen", "-p", "sync-server")
    inputs.files(rustSources)
    outputs.file(hostLibrary)
}

val generateRuhuTestBindings by tasks.registering(Exec::class) {
    group = "ruhu"
    description = "Generates the unit tests' Kotlin bindings ($testBindingsPackage, with TestAuthority)."
    dependsOn(cargoBuildHost)
    workingDir = workspaceDir
    inputs.file(hostLibrary)
    inputs.file("uniffi-testsupport.toml")
    outputs.dir(testBindingsDir)
    doFirst { delete(testBindingsDir) }
    commandLine(
        hostBindgen.absolutePath, "generate", hostLibrary.absolutePath,
        "--language", "kotlin", "--config", file("uniffi-testsupport.toml").absolutePath,
        "--out-dir", testBindingsDir.absolutePath, "--no-format",
    )
}

android {
    namespace = "org.ruhu.core"
    compileSdk = 35

    defaultConfig {
        // Keep equal to RUHU_ANDROID_API in build-rust.sh (the API level cargo-ndk links for).
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            kotlin.srcDir(bindingsDir)
            jniLibs.srcDir("src/main/jniLibs")
        }
        getByName("test") {
            kotlin.srcDir(testBindingsDir)
        }
    }

    testOptions {
        unitTests.all { test ->
            test.dependsOn(cargoBuildHost)
            // JNA loads the desktop library; the field-day test runs sync-server and
            // county-authority from the same folder (as scripts/kotlin-tests.sh does).
            test.systemProperty("jna.library.path", hostDebugDir.absolutePath)
            test.environment("RUHU_BIN_DIR", hostDebugDir.absolutePath)
            test.testLogging { events("passed", "failed", "standard_out") }
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // Android: JNA as an AAR, which carries libjnidispatch.so for every ABI (5.17.0 is the
    // first release whose Android natives load on 16 KB-page devices).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    // JVM unit tests run on the desktop: the plain jar carries the desktop jnidispatch.
    testImplementation("net.java.dev.jna:jna:5.17.0")
    testImplementation("junit:junit:4.13.2")
}

tasks.named("preBuild") { dependsOn(generateRuhuBindings) }
tasks.matching { it.name.startsWith("compile") && it.name.endsWith("UnitTestKotlin") }
    .configureEach { dependsOn(generateRuhuTestBindings) }
