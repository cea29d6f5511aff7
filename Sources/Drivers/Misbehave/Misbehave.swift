// SPDX-License-Identifier: GPL-2.0
import CHostile
import CSandbox
import Glibc
import UDriverKit
import XPC

/// A network u-driver for tests that, at probe, tries downcalls the broker
/// must refuse, then registers normally. Which misdeeds it tries comes from
/// its configured name (HELLO's DRIVER_NAME): `misbehave-bar`,
/// `misbehave-dma`, `misbehave-op`, `misbehave-instance`, or `misbehave-all`;
/// `misbehave-rawdma` (not in `all`: an RTL8139 only) writes RxBuf itself,
/// which the nucleus refuses; `misbehave-latewrite` (at an rx-mode, the
/// driver active) and `misbehave-latewriteprobe` (at probe) make a refused
/// downcall (a failure) and then write MAR0, which must not reach the
/// device.
/// Probe fails (EIO) if any misdeed was *not* refused.
/// `misbehave-refuse` refuses its first rx-mode with EINVAL, as a u-driver
/// whose own checks were corrupted (a reattached one accepts it);
/// `misbehave-refuseall` refuses every rx-mode.
/// `misbehave-forgetful` writes set-mac into an RTL8139's ID registers,
/// but once it has reattached it acknowledges set-mac without writing it:
/// a recovered u-driver whose replay does not take.
/// `misbehave-poison` crashes (SIGSEGV) at every promiscuous rx-mode, as a
/// u-driver with a bug those arguments trigger: a request that fails each
/// u-driver it reaches (RequestRetries=).
/// `misbehave-refusedwrite`, until it has reattached, writes an RTL8139's
/// RxBuf itself at an rx-mode (the nucleus's write check refuses it, a
/// failure) and answers the rx-mode with that refusal at once, as a
/// corrupted driver passing an error up would: the answer of a process
/// judged failed, which must not reach the caller.
actor Misbehave: NetDriver {
    let device: Device
    let info: DeviceInfo
    /// Whether setRxMode refuses (EINVAL, RX_FLAGS named).
    private var refuses = false
    /// Whether setRxMode ends in ``writeLate()``.
    private var lateWrite = false
    /// `forgetful`, and whether this process reattached.
    private var forgetful = false
    private var reattached = false
    /// Whether a promiscuous setRxMode crashes the process.
    private var poisoned = false
    /// Whether setRxMode makes a write the nucleus refuses and answers
    /// with the refusal.
    private var refusedWrite = false

    init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
    }

    func probe(reattach: Bool) async throws -> String {
        // Run as "misbehave-WHICH" (a link of that name), WHICH wins over
        // the configured name: `drvctl update NAME --executable` keeps NAME.
        let which = MisbehaveMain.invokedAs ?? info.driverName.split(separator: "-").last.map(String.init) ?? "all"
        let daemon = getppid()
        refuses = which == "refuseall" || (which == "refuse" && !reattach)
        lateWrite = which == "latewrite"
        forgetful = which == "forgetful"
        poisoned = which == "poison"
        refusedWrite = which == "refusedwrite" && !reattach
        reattached = reattach
        switch which {
        case "shadow": _ = hostile_open("/etc/shadow", 0)
        case "statefile": _ = hostile_open("/var/lib/drivermgrd/state", 0)
        case "devmem": _ = hostile_open("/dev/mem", 1)
        case "socket": _ = hostile_socket()
        case "ptrace": _ = hostile_ptrace_attach(daemon)
        case "kill": _ = hostile_kill(daemon)
        case "fork": _ = hostile_fork()
        case "exec": _ = hostile_exec("/bin/sh")
        case "flood":
            let junk: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
            for _ in 0..<10_000 { _ = junk.withUnsafeBytes { send(3, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        case "alloc":
            var hoard: [UnsafeMutableRawPointer] = []
            while let p = malloc(16 << 20) {
                memset(p, 1, 16 << 20)
                hoard.append(p)
            }
            throw UDriverError(errno: 12, "allocation failed after \(hoard.count * 16) MiB")
        default: break
        }
        if which == "reattach" {
            if reattach { raise(SIGSEGV) }
            _ = try await device.registerNetdev(mac: MACAddress("02:00:00:00:00:98") ?? .broadcast, chip: "flaky")
            return "flaky"
        }
        var tried: [(String, XPCMessage)] = []
        let me = info.instance
        if which == "bar" || which == "all" {
            tried.append(("bar", XPCMessage(op: .regRead, flags: .request, instance: me,
                                            attributes: [.u32(.regOffset, info.barSize + 0x1000), .u8(.regWidth, 4)])))
        }
        if which == "dma" || which == "all" {
            tried.append(("dma", XPCMessage(op: .regWriteDMA, flags: .request, instance: me,
                                            attributes: [.u32(.regOffset, 0x30), .u8(.regWidth, 4), .u32(.dmaHandle, 999_999)])))
        }
        if which == "latewriteprobe" { await writeLate() }
        if which == "rawdma" {
            // An RTL8139's RxBuf written with a made-up bus address: the
            // broker cannot tell (it knows no chip), the nucleus's write
            // check refuses it (REG_WRITE_DMA's addresses only).
            tried.append(("rawdma", XPCMessage(op: .regWrite, flags: .request, instance: me,
                                               attributes: [.u32(.regOffset, 0x30), .u8(.regWidth, 4), .u32(.regValue, 0x1000)])))
        }
        if which == "op" || which == "all" {
            tried.append(("op", XPCMessage(op: .sndMixerPut, flags: .request, instance: me,
                                           attributes: [.u16(.mixerControl, 1), .u32(.mixerValue, 1)])))
        }
        if which == "instance" || which == "all" {
            tried.append(("instance", XPCMessage(op: .regRead, flags: .request, instance: me + 100,
                                                 attributes: [.u32(.regOffset, 0), .u8(.regWidth, 4)])))
        }
        var refused: [String] = []
        for (name, m) in tried {
            let r = try await device.send(raw: m)
            guard r.status < 0 else { throw UDriverError(errno: 5, "\(name): not refused") }
            refused.append(name)
        }
        _ = try await device.registerNetdev(mac: MACAddress("02:00:00:00:00:99") ?? .broadcast, chip: "misbehaving")
        return "refused " + refused.joined(separator: ",")
    }

    func open(reattach: Bool) async throws {}
    func stop() async throws {}
    /// A downcall the broker refuses (a failure), then, before the kill
    /// lands, a write to the RTL8139's MAR0: it must not reach the device.
    private func writeLate() async {
        _ = try? await device.send(raw: XPCMessage(op: .regRead, flags: .request, instance: info.instance,
                                                   attributes: [.u32(.regOffset, 0), .u8(.regWidth, 4), .u64(.callID, 1)]))
        _ = try? await device.send(raw: XPCMessage(op: .regWrite, flags: .request, instance: info.instance,
                                                   attributes: [.u32(.regOffset, 0x08), .u8(.regWidth, 4), .u32(.regValue, 0xdead_beef)]))
    }

    func setRxMode(_ mode: RxMode) async throws {
        if poisoned && mode.promiscuous { raise(SIGSEGV) }
        if refusedWrite {
            let r = try await device.send(raw: XPCMessage(op: .regWrite, flags: .request, instance: info.instance,
                                                          attributes: [.u32(.regOffset, 0x30), .u8(.regWidth, 4),
                                                                       .u32(.regValue, 0x1000)]))
            if let e = r.remoteError { throw UDriverError(errno: e.errno, "\(e)") }
        }
        if refuses { throw UDriverError.invalid(.rxFlags, "refused on purpose (\(info.driverName))") }
        if lateWrite { await writeLate() }
    }
    func setMAC(_ mac: MACAddress) async throws {
        guard forgetful, !reattached else { return }
        // RTL8139: IDR0-5 at 0x00, writable while 9346CR (0x50) is 0xC0.
        let b = mac.bytes.map(UInt32.init)
        _ = try await device.sequence([.write(0x50, 0xc0, width: 1),
                                       .write(0x00, b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24, width: 4),
                                       .write(0x04, b[4] | b[5] << 8, width: 4),
                                       .write(0x50, 0x00, width: 1)])
    }
    func getLink() async throws -> LinkState { LinkState(up: true, speed: 100, fullDuplex: true) }
    func getStats() async throws -> NetHardwareStats { NetHardwareStats(rxMissed: 0) }
    func watchdog() async throws {}
    func txTimeout() async throws {}
}

@main
enum MisbehaveMain {
    /// WHICH of an executable named "misbehave-WHICH", if so named.
    static let invokedAs: String? = {
        guard let arg0 = CommandLine.arguments.first, let base = arg0.split(separator: "/").last,
              base.hasPrefix("misbehave-") else { return nil }
        return String(base.dropFirst("misbehave-".count))
    }()

    static func main() async {
        // Run as "misbehave-nostage2": answer SANDBOX as if stage 2 were
        // stacked (a dummy fd for the listener) without stacking it.
        if CommandLine.arguments.first?.hasSuffix("misbehave-nostage2") == true {
            let sock = XPCSocket(adopting: UDriverRuntime.xpcFD)
            if let b = try? sock.receive(), let m = try? XPCMessage.decode(b), m.op == .sandbox {
                let reply = XPCMessage.reply(to: m).bytes
                _ = reply.withUnsafeBytes { drv_send_with_fd(sock.fd, $0.baseAddress, $0.count, 0) }
            }
            while (try? sock.receive()) != nil {}
            return
        }
        // Run as "misbehave-earlydeath": say why on stderr and exit 3
        // before the sandbox is up, as a u-driver that cannot start does.
        if CommandLine.arguments.first?.hasSuffix("misbehave-earlydeath") == true {
            let why = Array("misbehave: cannot start: the early-death test asked for it\n".utf8)
            _ = why.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            exit(3)
        }
        // Run as "misbehave-version": HELLO's reply reports a protocol
        // version this drivermgrd does not speak (the update refuses it).
        await UDriverRuntime.run(Misbehave.self,
                                 protocolVersion: invokedAs == "version" ? XPCLimits.version + 1 : XPCLimits.version)
    }
}
