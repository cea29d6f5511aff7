// swift-tools-version:6.0
// SPDX-License-Identifier: GPL-2.0
import PackageDescription

let package = Package(
    name: "drivermgr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "drivermgrd", targets: ["drivermgrd"]),
        .executable(name: "drvctl", targets: ["drvctl"]),
        .executable(name: "nucleus-sim", targets: ["nucleus-sim"]),
        .executable(name: "ens137x", targets: ["ENS137x"]),
        .executable(name: "psmouse", targets: ["PSMouse"]),
        .executable(name: "uhci", targets: ["UHCI"]),
        .executable(name: "rtl8139", targets: ["RTL8139"]),
        .executable(name: "ne2k", targets: ["NE2K"]),
        .executable(name: "pcnet32", targets: ["PCNet32"]),
        .executable(name: "e1000", targets: ["E1000"]),
        .executable(name: "misbehave", targets: ["Misbehave"]),
        .executable(name: "driverslicer", targets: ["driverslicer"]),
        .executable(name: "drvcampaign", targets: ["drvcampaign"]),
        .executable(name: "fdstore", targets: ["fdstore"]),
        .library(name: "UDriverKit", targets: ["UDriverKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        // The wire format: module/include/uapi/drvxpc.h, imported as is.
        .target(name: "CDrvXPC", path: "Sources/CDrvXPC"),
        // The chips' register maps (module/include/chips/), shared with the nucleus.
        .target(name: "CChips", path: "Sources/CChips"),
        // clone3 + pidfd spawn shim: only async-signal-safe work in the child.
        .target(name: "CSpawn", path: "Sources/CSpawn"),
        // seccomp stages, notification handling, fd passing (libseccomp).
        .target(name: "CSandbox", path: "Sources/CSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(
            name: "XPC",
            dependencies: ["CDrvXPC", .product(name: "SystemPackage", package: "swift-system")]),
        // libnl-genl-3: drivermgrd's generic netlink backend to drvnucleus.ko.
        .systemLibrary(name: "CNLGenl", path: "Sources/CNLGenl", pkgConfig: "libnl-genl-3.0",
                       providers: [.apt(["libnl-genl-3-dev", "libnl-3-dev"])]),
        .target(name: "Nucleus", dependencies: ["XPC", "CNLGenl", "CDrvXPC"]),
        // libsystemd: sd_notify (READY, STATUS, WATCHDOG, RELOADING) and sd_journal_sendv.
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),
        .target(name: "Supervisor", dependencies: ["CSpawn", "CSandbox", "XPC"]),
        // The control interface; its Varlink definitions are built in.
        .target(name: "ControlInterface", dependencies: [],
                resources: [.embedInCode("io.drivermgr.Manager.varlink"), .embedInCode("org.varlink.service.varlink")]),
        .target(name: "ShadowDriver", dependencies: ["XPC"]),
        // The device classes, one descriptor each, in one registry (DeviceClasses.all).
        .target(name: "DeviceClasses", dependencies: ["XPC", "CDrvXPC", "ShadowDriver", "ControlInterface"]),
        .target(name: "UDriverKit", dependencies: ["XPC", "CDrvXPC", "CSandbox", "CRuntimeFaults", "CBuildID"]),
        // The executable's GNU build-id, for HELLO's reply.
        .target(name: "CBuildID", path: "Sources/CBuildID"),
        // The injected faults the u-driver runtime acts out in C (drvctl inject).
        .target(name: "CRuntimeFaults", path: "Sources/CRuntimeFaults"),
        .target(name: "NucleusSim", dependencies: ["XPC", "CDrvXPC", "CChips"]),
        .executableTarget(
            name: "nucleus-sim",
            dependencies: ["NucleusSim", "XPC",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "drivermgrd",
            dependencies: ["XPC", "CDrvXPC", "Nucleus", "Supervisor", "ControlInterface", "ShadowDriver", "DeviceClasses", "CSystemd",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "HeapModule", package: "swift-collections"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")]),
        .executableTarget(
            name: "drvctl",
            dependencies: ["ControlInterface",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "ENS137x", dependencies: ["UDriverKit", "CChips"], path: "Sources/Drivers/ENS137x"),
        .executableTarget(name: "PSMouse", dependencies: ["UDriverKit", "CChips", "XPC"], path: "Sources/Drivers/PSMouse"),
        .executableTarget(name: "UHCI", dependencies: ["UDriverKit", "CChips", "XPC"], path: "Sources/Drivers/UHCI"),
        .executableTarget(name: "RTL8139", dependencies: ["UDriverKit", "CChips"], path: "Sources/Drivers/RTL8139"),
        .executableTarget(name: "NE2K", dependencies: ["UDriverKit", "CChips"], path: "Sources/Drivers/NE2K"),
        .executableTarget(name: "PCNet32", dependencies: ["UDriverKit", "CChips"], path: "Sources/Drivers/PCNet32"),
        .executableTarget(name: "E1000", dependencies: ["UDriverKit", "CChips"], path: "Sources/Drivers/E1000"),
        // The fault campaign: injector, per-fault records, the report.
        .target(name: "FaultCampaign", dependencies: ["ControlInterface"]),
        .executableTarget(
            name: "drvcampaign",
            dependencies: ["FaultCampaign", "FaultInjection", "ControlInterface",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // A u-driver that misbehaves on purpose, for the integration tests.
        .target(name: "CHostile", path: "Sources/CHostile"),
        .executableTarget(name: "Misbehave", dependencies: ["UDriverKit", "CHostile", "CSandbox", "XPC"], path: "Sources/Drivers/Misbehave"),
        // libclang (Debian's libclang-dev, LLVM 14) for DriverSlicer.
        .systemLibrary(name: "CClang", path: "Sources/CClang", providers: [.apt(["libclang-dev"])]),
        .target(name: "SliceAnalysis", dependencies: ["CClang", "CDrvXPC"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/lib/llvm-14/include"])]),
        .executableTarget(
            name: "driverslicer",
            dependencies: ["SliceAnalysis", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Capstone (Debian's libcapstone-dev) decodes x86-64 for the fault injector.
        .systemLibrary(name: "CCapstone", path: "Sources/CCapstone", pkgConfig: "capstone",
                       providers: [.apt(["libcapstone-dev"])]),
        // Code mutations in a running process through ptrace (docs/fault-injection.md).
        .target(name: "CFaultInject", dependencies: ["CCapstone"], path: "Sources/CFaultInject"),
        .target(name: "FaultInjection", dependencies: ["CFaultInject"]),
        // systemd's Restart=always and fd store where there is no systemd:
        // the busybox guest, drvcampaign's daemon kills.
        .executableTarget(name: "fdstore", path: "Sources/fdstore", cSettings: [.unsafeFlags(["-Wall", "-Werror"])]),
        .executableTarget(name: "xpc-bench", dependencies: ["XPC", "Supervisor", "ControlInterface", "CSandbox", "DeviceClasses", "ShadowDriver",
                                                       .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "XPCTests", dependencies: ["XPC", "CDrvXPC"]),
        .testTarget(name: "ShadowDriverTests", dependencies: ["ShadowDriver", "XPC"]),
        .testTarget(name: "DeviceClassesTests", dependencies: ["DeviceClasses", "ShadowDriver", "ControlInterface", "XPC"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor"]),
        .testTarget(name: "NucleusSimTests", dependencies: ["NucleusSim", "XPC", "CChips"]),
        .testTarget(name: "FaultCampaignTests", dependencies: ["FaultCampaign", "ControlInterface"]),
        .testTarget(name: "DriversTests", dependencies: ["ENS137x", "RTL8139", "NE2K", "PCNet32", "E1000", "PSMouse", "UHCI", "UDriverKit", "NucleusSim", "XPC", "CChips"]),
        .testTarget(name: "drivermgrdTests", dependencies: ["drivermgrd", "XPC", "Nucleus", "ControlInterface"]),
        .testTarget(name: "SliceAnalysisTests", dependencies: ["SliceAnalysis"],
                    swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/lib/llvm-14/include"])]),
        .testTarget(name: "FaultInjectionTests", dependencies: ["FaultInjection", "XPC"]),
        .testTarget(name: "drvctlTests", dependencies: ["drvctl", "ControlInterface", "XPC"]),
        .testTarget(name: "ControlInterfaceTests", dependencies: ["ControlInterface"]),
        // Stands in for systemd's fd store in the integration tests.
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .testTarget(name: "IntegrationTests", dependencies: ["XPC", "ControlInterface", "CTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
