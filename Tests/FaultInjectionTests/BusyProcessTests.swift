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

/// Faults into a u-driver that is busy answering a stream of PINGs on its
/// threads: planted traps are hit by running threads, stops land in the
/// middle of system calls. Whatever the corruption does to the process, it
/// must never die of the injector's own int3, and must never be left
/// traced or with a changed instruction the record does not name.
@Suite(.serialized, .enabled(if: Preconditions.met, Preconditions.reason))
struct BusyProcessTests {
    /// Answers PINGs until told to stop or the driver stops answering.
    final class Pinger: Sendable {
        let stop = Atomic<Bool>(false)
        let answered = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)

        init(_ driver: SpawnedDriver) {
            DispatchQueue.global().async { [self] in
                var seq: UInt32 = 1
                while !stop.load(ordering: .relaxed) {
                    driver.send(XPCMessage(op: .ping, flags: .request, seq: seq).bytes)
                    seq &+= 1
                    guard driver.receive(seconds: 1) != nil else { break }
                    answered.add(1, ordering: .relaxed)
                }
                done.signal()
            }
        }

        func finish() -> Int {
            stop.store(true, ordering: .relaxed)
            done.wait()
            return answered.load(ordering: .relaxed)
        }
    }

    /// Starts a driver and checks it answers.
    func responsiveDriver() throws -> SpawnedDriver {
        let d = try SpawnedDriver(path: SpawnedDriver.rtl8139)
        try d.waitUntilBlockedInReceive()
        d.send(XPCMessage(op: .ping, flags: .request, seq: 0).bytes)
        guard d.receive(seconds: 5) != nil else { throw TestError("fresh driver does not answer PING") }
        return d
    }

    @Test func faultsIntoABusyDriverNeverKillItByTheInjectorsOwnTrap() throws {
        let modules = ["XPC", "UDriverKit"]
        var driver = try responsiveDriver()
        var mutator = try CodeMutator(pid: driver.pid, modules: modules)
        var reached = 0, notReached = 0, diedOf: [Int32: Int] = [:], respawns = 0, stops: [UInt64] = []
        let kinds: [CodeMutation] = [.register, .stackPointer, .bitFlip, .nop, .invertBranch]
        for round in 0..<90 {
            let kind = kinds[round % kinds.count]
            let pinger = Pinger(driver)
            // Plant at function entries half of the time: reached far more
            // often; and every third round in the decoder every PING runs
            // through, so traps are hit while threads are being stopped.
            let choice: InstructionChoice = round % 2 == 0 ? .first : .random
            let decode = mutator.functions.first { $0.demangledName.hasPrefix("static XPC.XPCMessage.decode(") }
            let target = round % 3 == 0 && !kind.changesCode ? decode : nil
            let m: AppliedMutation
            do {
                m = try mutator.apply(kind, seed: UInt64(round) &* 0x9e37_79b9, reachTimeout: .milliseconds(300),
                                      in: target, at: target != nil ? .first : choice)
            } catch let e as FaultInjectionError where e.errno == ESRCH {
                _ = pinger.finish()
                #expect(!driver.isAlive, "ESRCH from a live process: \(e.message)")
                if let s = driver.reapedStatus, s & 0x7f != 0 { diedOf[s & 0x7f, default: 0] += 1 }
                driver = try responsiveDriver()
                mutator = try CodeMutator(pid: driver.pid, modules: modules)
                respawns += 1
                continue
            }
            stops.append(m.longestStopMicroseconds)
            if m.reached == true { reached += 1 } else if m.reached == false { notReached += 1 }
            if m.codeChanged { _ = try? mutator.restore(m) }
            _ = pinger.finish()
            if driver.isAlive {
                #expect(driver.tracerPid == 0, "left traced after \(kind.rawValue)")
                let fn = try #require(mutator.functions.first { $0.address &+ mutator.loadBias == m.functionAddress })
                // (It may die of the fault at any moment: only a live
                // process's code counts.)
                // A process dying of a fault (dumping core) cannot be read
                // for a while before it can be reaped.
                var code: [UInt8]?, why = ""
                for _ in 0..<400 where code == nil && driver.isAlive {
                    do { code = try driver.memory(m.functionAddress, Int(fn.size)) } catch {
                        why = "\(error)"
                        usleep(5000)
                    }
                }
                if let code {
                    #expect(code == (try mutator.fileBytes(of: fn)), "code not as in the file after \(kind.rawValue) + restore")
                } else {
                    #expect(!driver.isAlive, "cannot read a live driver's code: \(why)")
                }
            }
            // Dead, hung or damaged: a fresh one for the next round.
            let ping = XPCMessage(op: .ping, flags: .request, seq: 0xffff).bytes
            if driver.isAlive { driver.send(ping) }
            if !driver.isAlive || driver.receive(seconds: 1) == nil {
                if !driver.isAlive, let s = driver.reapedStatus, s & 0x7f != 0 { diedOf[s & 0x7f, default: 0] += 1 }
                driver.stop()
                driver = try responsiveDriver()
                mutator = try CodeMutator(pid: driver.pid, modules: modules)
                respawns += 1
            }
        }
        print("busy driver: reached \(reached), not reached \(notReached), respawns \(respawns), " +
              "deaths by signal \(diedOf), longest stop \(stops.max() ?? 0) µs, median \(stops.sorted()[stops.count / 2]) µs")
        #expect(diedOf[SIGTRAP] == nil, "a planted int3 killed the process")
        #expect(reached > 0)
    }
}
