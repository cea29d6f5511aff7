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
    /// Its name in systemd's fd store (no driver's: those have a kind
    /// after a dot).
    public static let fdName = "netns"

    /// -1: not made (yet, or it could not be).
    private static let fd = Mutex<Int32>(-1)

    /// Its file descriptor, or -1 while it is not there: the u-driver then
    /// gets a namespace of its own as before.
    public static var descriptor: Int32 { fd.withLock { $0 } }

    /// Takes `descriptor` as it (one a previous daemon made and systemd's
    /// fd store kept): a daemon restarted while the RTNL is held cannot make
    /// one, and its first u-drivers would wait for it.
    public static func adopt(_ descriptor: Int32) {
        if !keep(descriptor) { close(descriptor) }
    }

    /// Takes `new` unless one is there already: whether it did.
    private static func keep(_ new: Int32) -> Bool {
        fd.withLock { f in
            guard f < 0 else { return false }
            f = new
            return true
        }
    }

    /// Makes it on a thread of its own (making it waits for the RTNL, which
    /// may be held), once: `made` gets it (to keep it in the fd store),
    /// `failed` why not (no CAP_SYS_ADMIN).
    public static func prepare(made: @escaping @Sendable (Int32) -> Void = { _ in },
                               failed: @escaping @Sendable (String) -> Void = { _ in }) {
        guard descriptor < 0 else { return }
        startThread(name: "netns") {
            let new = drv_isolated_netns()
            guard new >= 0 else {
                failed("the u-drivers' network namespace: \(String(cString: strerror(-new)))")
                return
            }
            if keep(new) { made(new) } else { close(new) }
        }
    }
}
