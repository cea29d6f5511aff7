// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
import XPC
@testable import Supervisor
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SharedNetworkNamespaceTests {
    func netNamespace(_ path: String) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: path)
    }

    /// Sandboxed processes join the one namespace the daemon made (they no
    /// longer make their own, which takes the RTNL), and it is not the
    /// daemon's. Needs CAP_SYS_ADMIN, as the sandbox does (make check runs
    /// as root).
    @Test(.enabled(if: getuid() == 0, "namespaces need CAP_SYS_ADMIN"))
    func sandboxedProcessesJoinTheOneNamespace() async throws {
        SharedNetworkNamespace.prepare()
        let end = Date().addingTimeInterval(10)
        while SharedNetworkNamespace.descriptor < 0 && Date() < end { usleep(10_000) }
        let fd = SharedNetworkNamespace.descriptor
        try #require(fd >= 0, "no shared network namespace after 10 s")
        let shared = try netNamespace("/proc/self/fd/\(fd)")
        let mine = try netNamespace("/proc/self/ns/net")
        #expect(shared != mine)
        let policy = SandboxPolicy(stage1: [], user: nil, privateNamespaces: true, memoryMax: 0)
        var started: [UDriverProcess] = []
        defer { for p in started { p.discard() } }
        for _ in 0..<2 {
            let (mySide, theirs) = try XPCSocket.pair()
            _ = mySide
            started.append(try await UDriverProcess.spawn(executable: "/bin/sleep", arguments: ["sleep", "30"],
                                                          socket: theirs, sandbox: policy))
        }
        for p in started {
            #expect(try netNamespace("/proc/\(p.pid)/ns/net") == shared, "pid \(p.pid) joined another namespace")
            #expect(try netNamespace("/proc/\(p.pid)/ns/ipc") != netNamespace("/proc/self/ns/ipc"), "its IPC namespace is still its own")
        }
    }
}
