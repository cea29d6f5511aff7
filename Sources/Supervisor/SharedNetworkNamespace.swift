// SPDX-License-Identifier: GPL-2.0
import CSpawn
import Synchronization
import XPC

#if canImport(Glibc)
import Glibc
#endif

/// The network namespace sandboxed u-drivers join: one, empty, made once
/// by the daemon, instead of a new one per u-driver (`CLONE_NEWNET`).
///
/// Making a network namespace takes the kernel's RTNL (the loopback
/// device's registration), and a sliced NIC driver's upcall made under the
/// RTNL (an ethtool operation, `ndo_open`) holds it while it waits for its
/// u-driver. When that u-driver died, its replacement could not be spawned
/// until the upcall gave up (drvnucleus's `upcall_timeout_ms`): the slice
/// campaign's recoveries took 20 s. Joining an existing namespace
/// (`setns`) takes no such lock. The u-drivers share it, and nothing in it:
/// their seccomp filter refuses `socket()`, so none can use it to reach
/// another.
public enum SharedNetworkNamespace {
    /// -1: not made (yet, or it could not be).
    private static let fd = Mutex<Int32>(-1)

    /// Its file descriptor, or -1 while it is not there: the u-driver then
    /// gets a namespace of its own as before.
    public static var descriptor: Int32 { fd.withLock { $0 } }

    /// Makes it on a thread of its own (making it waits for the RTNL, which
    /// may be held), once; why not, if it fails (no CAP_SYS_ADMIN).
    public static func prepare(_ failed: @escaping @Sendable (String) -> Void = { _ in }) {
        guard descriptor < 0 else { return }
        startThread(name: "netns") {
            let made = drv_isolated_netns()
            guard made >= 0 else {
                failed("the u-drivers' network namespace: \(String(cString: strerror(-made)))")
                return
            }
            let kept = fd.withLock { f -> Bool in
                guard f < 0 else { return false }
                f = made
                return true
            }
            if !kept { close(made) }
        }
    }
}
