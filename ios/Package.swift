// swift-tools-version:5.9
// The Ruhu core for iOS: the Rust library as an XCFramework (binary target RuhuFFI: the static
// library per platform, with uniffi's C header and module map) and the uniffi-generated Swift
// (target Ruhu: exactly the generated ruhu_ffi.swift, copied in by build-xcframework.sh).
//
// Neither RuhuFFI.xcframework nor Sources/Ruhu/ruhu_ffi.swift is committed: run
// ./build-xcframework.sh on a Mac first (README.md). scripts/check-mobile-packages.sh checks
// on every CI run that the names below match what uniffi generates.
import PackageDescription

let package = Package(
    name: "Ruhu",
    platforms: [
        .iOS(.v15),
        // Only for `swift test` on a Mac, with a build-xcframework.sh --test-support build
        // (it adds the macOS slice); apps use the iOS slices.
        .macOS(.v12),
    ],
    products: [
        .library(name: "Ruhu", targets: ["Ruhu"]),
    ],
    targets: [
        .binaryTarget(name: "RuhuFFI", path: "RuhuFFI.xcframework"),
        .target(
            name: "Ruhu",
            dependencies: ["RuhuFFI"],
            path: "Sources/Ruhu",
            sources: ["ruhu_ffi.swift"]
        ),
        .testTarget(
            name: "RuhuTests",
            dependencies: ["Ruhu"],
            path: "Tests/RuhuTests"
        ),
    ]
)
