// SPDX-License-Identifier: GPL-2.0
import Dispatch
import FaultInjection
import Foundation
import Synchronization
import Testing
import XPC
#if canImport(Glibc)
import Glibc
#endif

/// Whether these tests can run: ptrace permitted and the u-driver built.
enum Preconditions {
    static let ptrace: (Bool, String) = CodeMutator.ptracePermitted()
    static var driverBuilt: Bool { FileManager.default.isExecutableFile(atPath: SpawnedDriver.rtl8139) }
    static var met: Bool { ptrace.0 && driverBuilt }
    static var reason: Comment {
        if !ptrace.0 { return "ptrace not permitted here (\(ptrace.1)); needs root or CAP_SYS_PTRACE" }
        return "u-driver not built at \(SpawnedDriver.rtl8139) (swift build --product rtl8139)"
    }
}

/// Code mutations against a real RTL8139 u-driver started by the test,
/// blocked waiting for its first message on fd 3. One at a time: each
/// test owns its process, and the machine is small.
@Suite(.serialized, .enabled(if: Preconditions.met, Preconditions.reason))
struct CodeMutatorTests {
    static let codeKinds: [CodeMutation] = [.bitFlip, .invertBranch, .nop]

    func startDriver() throws -> SpawnedDriver {
        let d = try SpawnedDriver(path: SpawnedDriver.rtl8139)
        try d.waitUntilBlockedInReceive()
        return d
    }

    @Test func symbolsAreFoundAndOnlyTheModulesCodeIsSelected() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        #expect(mutator.functions.count > 10)
        #expect(mutator.allFunctions.count > mutator.functions.count)
        for f in mutator.functions {
            #expect(f.name.hasPrefix("$s7RTL8139"), "\(f.name) selected")
        }
        // The runtime, the stdlib, other modules and C are all present but out.
        let out = mutator.allFunctions.filter { !mutator.filter.selects($0.name) }
        #expect(out.contains { $0.name.hasPrefix("$s3XPC") })
        #expect(out.contains { $0.name.hasPrefix("$s10UDriverKit") })
        #expect(!mutator.functions.contains { $0.name.hasPrefix("$ss") || $0.name.hasPrefix("swift_") || $0.name == "main" })
        // Demangled names name the module.
        // (Demangled names of global initialisers, "one-time initialization
        // function for x", do not repeat the module.)
        #expect(mutator.functions.allSatisfy { $0.demangledName != $0.name })
        #expect(mutator.functions.filter { $0.demangledName.contains("RTL8139") }.count * 2 > mutator.functions.count)
        #expect(mutator.functions.contains { $0.demangledName.hasPrefix("RTL8139.RTL8139.") })
        // The load bias is right: the code in memory is the file's code.
        for f in mutator.functions.prefix(20) {
            #expect(try driver.memory(f.address &+ mutator.loadBias, Int(f.size)) == mutator.fileBytes(of: f),
                    "\(f.demangledName)")
        }
        #expect(driver.aliveAndUntraced)
    }

    /// A driver in C (a sliced driver's user half) has no Swift module:
    /// its functions are named one by one, and only they are targets.
    @Test func functionsNamedOneByOneAreTheOnlyTargets() throws {
        let driver = try startDriver()
        let probe = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        // C functions of the executable (the runtime's C parts), big
        // enough to hold instructions to mutate.
        let named = Set(probe.allFunctions.filter { !$0.name.hasPrefix("$s") && $0.size >= 64 }.prefix(3).map(\.name))
        #expect(named.count == 3)
        let mutator = try CodeMutator(pid: driver.pid, modules: [], functions: named)
        #expect(Set(mutator.functions.map(\.name)) == named)
        for seed in UInt64(1)...6 {
            let a = try mutator.apply(.nop, seed: seed)
            #expect(named.contains(a.function), "\(a.function) is not one of the named")
            #expect(try mutator.restore(a))
        }
        #expect(throws: FaultInjectionError.self) { try CodeMutator(pid: driver.pid, modules: [], functions: ["no_such_function"]) }
        #expect(driver.aliveAndUntraced)
    }

    @Test func eachCodeMutationChangesExactlyTheRecordedBytesAndRestoreUndoesIt() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139", "UDriverKit", "XPC"])
        var stops: [UInt64] = []
        for kind in Self.codeKinds {
            for seed in UInt64(1)...12 {
                let m = try mutator.apply(kind, seed: seed)
                #expect(driver.aliveAndUntraced, "after \(kind.rawValue) seed \(seed)")
                let fn = try #require(mutator.functions.first { $0.address &+ mutator.loadBias == m.functionAddress })
                let pristine = try mutator.fileBytes(of: fn)
                let now = try driver.memory(m.functionAddress, pristine.count)
                let start = Int(m.offset), end = start + m.originalBytes.count
                #expect(m.codeChanged && m.injected)
                #expect(m.function == fn.name)
                #expect(Array(pristine[start..<end]) == m.originalBytes)
                #expect(Array(now[start..<end]) == m.mutatedBytes)
                #expect(m.mutatedBytes != m.originalBytes)
                #expect(Array(now[..<start]) == Array(pristine[..<start]), "bytes before the instruction changed")
                #expect(Array(now[end...]) == Array(pristine[end...]), "bytes after the instruction changed")
                switch kind {
                case .bitFlip:
                    let flipped = zip(m.originalBytes, m.mutatedBytes).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +)
                    #expect(flipped == 1)
                    let bit = try #require(m.bit)
                    #expect(m.originalBytes[bit / 8] ^ m.mutatedBytes[bit / 8] == UInt8(1) << (bit % 8))
                case .nop:
                    var at = 0
                    while at < m.mutatedBytes.count {
                        let d = try #require(CodeMutator.disassemble(Array(m.mutatedBytes[at...])))
                        #expect(d.text.hasPrefix("nop"), "\(d.text) in \(m.mutatedBytes)")
                        at += d.length
                    }
                    #expect(at == m.mutatedBytes.count)
                default: break
                }
                stops.append(m.longestStopMicroseconds)
                #expect(try mutator.restore(m))
                #expect(driver.aliveAndUntraced)
                #expect(try driver.memory(m.functionAddress, pristine.count) == pristine, "restore not byte-exact")
            }
        }
        // The daemon's deadlines are ~1 s; a stop should be milliseconds.
        let worst = stops.max() ?? 0
        print("code mutations: \(stops.count), longest stop \(worst) µs, median \(stops.sorted()[stops.count / 2]) µs")
        #expect(worst < 200_000)
    }

    @Test func invertBranchInvertsTheCondition() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139", "UDriverKit"])
        let inverse: [String: String] = [
            "je": "jne", "jne": "je", "jb": "jae", "jae": "jb", "jbe": "ja", "ja": "jbe",
            "jl": "jge", "jge": "jl", "jle": "jg", "jg": "jle", "js": "jns", "jns": "js",
            "jo": "jno", "jno": "jo", "jp": "jnp", "jnp": "jp",
        ]
        for seed in UInt64(100)..<UInt64(120) {
            let m = try mutator.apply(.invertBranch, seed: seed)
            let now = try driver.memory(m.address, m.mutatedBytes.count)
            #expect(now == m.mutatedBytes)
            let before = try #require(CodeMutator.disassemble(m.originalBytes, at: m.address))
            let after = try #require(CodeMutator.disassemble(now, at: m.address))
            #expect(CodeMutator.isConditionalJump(m.originalBytes) && CodeMutator.isConditionalJump(now))
            let (mb, ob) = (String(before.text.prefix { $0 != " " }), String(before.text.drop { $0 != " " }))
            let (ma, oa) = (String(after.text.prefix { $0 != " " }), String(after.text.drop { $0 != " " }))
            #expect(inverse[mb] == ma, "\(before.text) became \(after.text)")
            #expect(ob == oa, "the target moved: \(before.text) / \(after.text)")
            #expect(before.length == after.length)
            #expect(m.instructionBefore == before.text && m.instructionAfter == after.text)
            try mutator.restore(m)
        }
        #expect(driver.aliveAndUntraced)
    }

    @Test func theSameSeedPicksTheSameTarget() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        var targets = Set<String>()
        for kind in Self.codeKinds {
            for seed: UInt64 in [7, 8, 9, 0xdead_beef] {
                let first = try mutator.apply(kind, seed: seed)
                try mutator.restore(first)
                let again = try mutator.apply(kind, seed: seed)
                try mutator.restore(again)
                #expect(first.function == again.function && first.offset == again.offset)
                #expect(first.mutatedBytes == again.mutatedBytes && first.bit == again.bit)
                targets.insert("\(first.function)+\(first.offset)")
            }
        }
        // A second mutator over a second process of the same executable
        // (another load base) draws the same function and offset.
        let other = try startDriver()
        let otherMutator = try CodeMutator(pid: other.pid, modules: ["RTL8139"])
        let a = try mutator.apply(.bitFlip, seed: 4242)
        let b = try otherMutator.apply(.bitFlip, seed: 4242)
        #expect(a.function == b.function && a.offset == b.offset && a.bit == b.bit)
        try mutator.restore(a)
        try otherMutator.restore(b)
        #expect(targets.count > 6, "seeds should spread over targets: \(targets.count)")
        #expect(driver.aliveAndUntraced && other.aliveAndUntraced)
    }

    @Test func anUnrestoredMutationIsNotMutatedAgainAndRestoreIsIdempotent() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        let m = try mutator.apply(.nop, seed: 31)
        #expect(throws: FaultInjectionError(errno: EBUSY, message: "")) { try mutator.apply(.bitFlip, seed: 31) }
        #expect(try mutator.restore(m))
        #expect(try mutator.restore(m) == false, "second restore found the original bytes and wrote nothing")
        let again = try mutator.apply(.bitFlip, seed: 31)
        try mutator.restore(again)
        #expect(driver.aliveAndUntraced)
    }

    @Test func aRegisterFaultInCodeNeverReachedReportsNotReachedAndChangesNothing() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        // Blocked before HELLO, the driver runs none of its chip code.
        let fn = try #require(mutator.functions.filter { !$0.demangledName.contains("main") }.max { $0.size < $1.size })
        let before = try driver.memory(fn.address &+ mutator.loadBias, Int(fn.size))
        for kind: CodeMutation in [.register, .stackPointer] {
            let m = try mutator.apply(kind, seed: 5, reachTimeout: .milliseconds(150), in: fn)
            #expect(m.reached == false && !m.injected && !m.codeChanged)
            #expect(m.register == nil && m.thread == nil && m.stackSlot == nil)
            #expect(driver.aliveAndUntraced)
            #expect(try driver.memory(fn.address &+ mutator.loadBias, Int(fn.size)) == before)
            #expect(try mutator.restore(m) == false)
        }
    }

    /// Plants at the entry of XPCMessage.decode while PINGs arrive: the
    /// driver's receiving thread decodes one and hits the trap.
    func reachDecode(_ kind: CodeMutation, seed: UInt64) throws -> (AppliedMutation, SpawnedDriver, [UInt8]) {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["XPC"])
        let decode = try #require(mutator.functions.first {
            $0.demangledName.hasPrefix("static XPC.XPCMessage.decode(")
        })
        let pristine = try mutator.fileBytes(of: decode)
        let ping = XPCMessage(op: .ping, flags: .request, seq: 1).bytes
        // PINGs, one a millisecond, from when the injector holds the
        // process (TracerPid set) until it returns: a PING decoded before
        // the trap is in place does not count, a later one hits it.
        let done = Atomic<Bool>(false)
        let senderExited = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while !done.load(ordering: .relaxed) {
                if driver.tracerPid != 0 { driver.send(ping, waiting: false) }
                usleep(1000)
            }
            senderExited.signal()
        }
        let m = try mutator.apply(kind, seed: seed, reachTimeout: .seconds(10), in: decode, at: .first)
        done.store(true, ordering: .relaxed)
        senderExited.wait()
        #expect(m.thread.map { driver.threads.contains($0) || !driver.isAlive } ?? false,
                "the thread that reached it is one of the driver's")
        return (m, driver, pristine)
    }

    /// A fault that was reached either leaves the process running, code
    /// intact and untraced, or kills it by the corruption — never by the
    /// planted int3's SIGTRAP.
    func checkAfterReach(_ m: AppliedMutation, _ driver: SpawnedDriver, _ pristine: [UInt8]) throws {
        if driver.isAlive {
            #expect(driver.tracerPid == 0)
            #expect(try driver.memory(m.functionAddress, pristine.count) == pristine)
        } else if let status = driver.reapedStatus, status & 0x7f != 0 {
            #expect(status & 0x7f != SIGTRAP, "the process died of the planted int3")
        }
    }

    @Test func aRegisterFaultOnReachedCodeFlipsOneBitOfOneRegister() throws {
        let (m, driver, pristine) = try reachDecode(.register, seed: 11)
        #expect(m.reached == true && m.injected)
        let regs = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
        #expect(regs.contains(m.register ?? ""))
        let (old, new) = (try #require(m.oldValue), try #require(m.newValue))
        let bit = try #require(m.bit)
        #expect((old ^ new).nonzeroBitCount == 1 && old ^ new == UInt64(1) << UInt64(bit))
        #expect(!m.codeChanged && m.originalBytes == m.mutatedBytes)
        #expect(m.address == m.functionAddress && m.offset == 0)
        print("register fault: \(m.register ?? "") bit \(m.bit ?? -1) at \(m.functionDemangled)+\(m.offset) " +
              "(\(m.instructionBefore)), longest stop \(m.longestStopMicroseconds) µs")
        try checkAfterReach(m, driver, pristine)
    }

    @Test func aStackFaultOnReachedCodeCorruptsAPointerSlot() throws {
        let (m, driver, pristine) = try reachDecode(.stackPointer, seed: 12)
        #expect(m.reached == true)
        let slot = try #require(m.stackSlot, "a decoding thread's stack holds pointers")
        let (old, new) = (try #require(m.oldValue), try #require(m.newValue))
        #expect((old ^ new).nonzeroBitCount == 1)
        #expect(slot % 8 == 0)
        print("stack fault: slot 0x\(String(slot, radix: 16)) 0x\(String(old, radix: 16)) → 0x\(String(new, radix: 16))" +
              " at \(m.functionDemangled)+\(m.offset), longest stop \(m.longestStopMicroseconds) µs")
        try checkAfterReach(m, driver, pristine)
    }

    @Test func aMutationRecordRoundTripsThroughJSON() throws {
        let driver = try startDriver()
        let mutator = try CodeMutator(pid: driver.pid, modules: ["RTL8139"])
        let m = try mutator.apply(.bitFlip, seed: 77)
        try mutator.restore(m)
        let row = try JSONEncoder().encode(m)
        let back = try JSONDecoder().decode(AppliedMutation.self, from: row)
        #expect(back == m)
        #expect(String(decoding: row, as: UTF8.self).contains("\"kind\":\"bit-flip\""))
    }
}

/// Executables the injector must refuse, not crash on.
@Suite(.serialized, .enabled(if: Preconditions.ptrace.0, "ptrace not permitted here; needs root or CAP_SYS_PTRACE"))
struct MalformedExecutableTests {
    /// `/bin/sleep` copied, `patch` applied, started.
    func startSleep(patch: (inout [UInt8]) -> Void) throws -> SpawnedDriver {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/bin/sleep")))
        patch(&bytes)
        let path = NSTemporaryDirectory() + "fi-sleep-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // Written through a close-on-exec fd: a driver another test spawns
        // meanwhile must not inherit it (exec would then fail, ETXTBSY).
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw TestError("create \(path): \(errno)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw TestError("write \(path): \(errno)") }
        defer { unlink(path) }
        let p = try SpawnedDriver(path: path, arguments: ["30"])
        // Running once its exe is the copy (exec done).
        for _ in 0..<2000 where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p.pid)/exe"))?
            .hasPrefix(path) != true { usleep(1000) }
        return p
    }

    @Test func aStrippedExecutableIsRefusedWithAReason() throws {
        let p = try startSleep { _ in }
        #expect {
            _ = try CodeMutator(pid: p.pid, modules: ["X"])
        } throws: { e in
            guard let e = e as? FaultInjectionError else { return false }
            return (e.errno == ENOENT) && e.message.contains("symtab")
        }
        #expect(p.isAlive)
    }

    @Test func garbageSectionHeadersAreRefused() throws {
        // e_shoff (offset 0x28) far past the end, and e_shnum (0x3c) large.
        let p = try startSleep { b in
            for i in 0..<8 { b[0x28 + i] = 0xff }
            b[0x3c] = 0xff
            b[0x3d] = 0x7f
        }
        #expect(throws: FaultInjectionError.self) { _ = try CodeMutator(pid: p.pid, modules: ["X"]) }
        #expect(p.isAlive)
    }

    @Test func aNonexistentProcessIsRefused() throws {
        #expect(throws: FaultInjectionError(errno: ESRCH, message: "")) {
            _ = try CodeMutator(pid: 0x3fff_fff0, modules: ["X"])
        }
    }
}
