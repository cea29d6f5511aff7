// SPDX-License-Identifier: GPL-2.0
import FaultCampaign
import FaultInjection
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The campaign's code mutations through ``CodeMutator`` (ptrace, from
/// outside the sandbox). One mutator per u-driver process, kept while the
/// process lives: its symbol table is read once.
final class PtraceInjector: CodeFaultInjector {
    /// Where a planted trap may wait to be reached (register and stack
    /// faults); a fault whose point never runs is not counted as injected.
    let reachTimeout: Duration
    private let mutators = Mutex<[Int32: CodeMutator]>([:])

    /// The Swift modules besides the driver's own whose code counts as the
    /// driver's (the runtime library linked into every u-driver, as MINIX's
    /// drivers link libdriver): not the Swift runtime, not Foundation.
    static let runtimeModules = ["UDriverKit", "XPC"]

    init(reachTimeout: Duration = .milliseconds(300)) {
        self.reachTimeout = reachTimeout
        Self.startReaper()
    }

    /// Threads this process still traced when drivermgrd killed their
    /// process (seen under load: the leader a zombie, its threads held for
    /// us as their tracer, so the parent's pidfd never turns readable and
    /// recovery waits). Every 50 ms, reap whatever traced thread is
    /// waitable here; our real children (nucleus-sim, drivermgrd) are left
    /// to Foundation's Process.
    private static func startReaper() {
        let t = Thread {
            let me = getpid()
            while true {
                usleep(50_000)
                while true {
                    var info = siginfo_t()
                    // __WALL | WNOWAIT: look first, reap only a tracee.
                    let r = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | Int32(bitPattern: 0x4000_0000))
                    let pid = info._sifields._sigchld.si_pid
                    guard r == 0, pid > 0 else { break }
                    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                    let ppid = stat.split(separator: ")").last?.split(separator: " ").dropFirst(1).first.flatMap { Int32($0) }
                    if ppid == me { break }
                    var status: Int32 = 0
                    _ = waitpid(pid, &status, WNOHANG | Int32(bitPattern: 0x4000_0000))
                }
            }
        }
        t.name = "tracee-reaper"
        t.start()
    }

    /// A usable injector when this process may ptrace others.
    static func available() -> PtraceInjector? {
        CodeMutator.ptracePermitted().0 ? PtraceInjector() : nil
    }

    func place(_ kind: String, pid: Int32, modules: [String], functions: [String], seed: UInt64) throws -> PlacedCodeFault {
        guard let k = CodeMutation(rawValue: kind) else { throw CampaignError("no code mutation \(kind)") }
        let m = try mutator(pid, modules, functions)
        let a: AppliedMutation
        do { a = try m.apply(k, seed: seed, reachTimeout: reachTimeout) } catch {
            if !Self.released(pid) { throw CampaignError("the injector could not let go of the process and killed it") }
            throw error
        }
        if !Self.released(pid) { throw CampaignError("the injector could not let go of the process and killed it") }
        var what = "\(a.instructionBefore) -> \(a.instructionAfter)"
        if let r = a.register, let b = a.bit { what = "\(r) bit \(b) at \(a.instructionBefore)" }
        if let slot = a.stackSlot, let old = a.oldValue, let new = a.newValue {
            what = "stack 0x\(String(slot, radix: 16)): 0x\(String(old, radix: 16)) -> 0x\(String(new, radix: 16))"
        }
        let target = FaultTarget(function: a.functionDemangled, address: a.address, detail: what)
        return PlacedCodeFault(target: target, reached: a.injected) {
            _ = try? m.restore(a)
            return Self.released(pid)
        }
    }

    /// The process's mutator; with no modules and no functions given, the
    /// executable's own module (the one that holds its `$main`) plus
    /// ``runtimeModules``; with functions (a driver in C), those alone.
    private func mutator(_ pid: Int32, _ modules: [String], _ functions: [String]) throws -> CodeMutator {
        if let m = mutators.withLock({ $0[pid] }) { return m }
        let m: CodeMutator
        if !functions.isEmpty {
            m = try CodeMutator(pid: pid, modules: modules, functions: Set(functions))
        } else {
            var want = modules
            if want.isEmpty {
                let probe = try CodeMutator(pid: pid, modules: Self.runtimeModules)
                if let own = probe.allFunctions.lazy.compactMap({ SwiftSymbol.module(ofMain: $0.name) }).first { want = [own] }
            }
            m = try CodeMutator(pid: pid, modules: want + Self.runtimeModules)
        }
        mutators.withLock { all in
            // Processes come and go with every recovery: keep the newest few.
            if all.count > 512 { all.removeAll() }
            all[pid] = m
        }
        return m
    }

    /// Whether no thread of `pid` is still traced by this process. One
    /// that is (a thread the injector could not stop and detach, seen when
    /// drivermgrd killed the process during a call) would keep the dead
    /// process a zombie held by us, and drivermgrd's pidfd would never turn
    /// readable: then the process is killed and every thread reaped here,
    /// which hands it back to its parent. Returns false in that case.
    static func released(_ pid: Int32) -> Bool {
        let me = getpid()
        let tids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }
        let held = tids.filter { tid in
            let st = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)) ?? ""
            return st.split(separator: "\n").contains { $0.hasPrefix("TracerPid:") && Int32($0.dropFirst(10).trimmingCharacters(in: .whitespaces)) == me }
        }
        guard !held.isEmpty else { return true }
        kill(pid, SIGKILL)
        for tid in held {
            var status: Int32 = 0
            // __WALL: threads too. They are dying: this returns at once.
            for _ in 0..<200 {
                let r = waitpid(tid, &status, Int32(bitPattern: 0x4000_0000) | WNOHANG)
                if r != 0 { break }
                usleep(10_000)
            }
        }
        return false
    }
}
