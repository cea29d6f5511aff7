// SPDX-License-Identifier: GPL-2.0

/// Register-level model of the Ensoniq AudioPCI ES1370 (AK4531 codec) and
/// ES1371 (AC'97 codec + sample rate converter), playback on DAC2 only.
///
/// Register facts follow Linux's sound/pci/ens1370.c (offsets and bit names
/// below are that file's). The DAC2 engine fetches frames from host memory at
/// the programmed rate, counts samples down per period and raises the DAC2
/// interrupt; it also checks the test signal the sim's audio client writes
/// (a ramp, one step per frame), so a replayed or stale period is counted as
/// a glitch, as a listener would hear it.
public final class ES137xModel: DeviceModel, @unchecked Sendable {
    /// Which chip.
    public enum Chip: Sendable { case es1370, es1371 }

    // Offsets (ens1370.c ES_REG_*).
    static let control: UInt32 = 0x00, status: UInt32 = 0x04, memPage: UInt32 = 0x0c
    static let codec1370: UInt32 = 0x10, smprate1371: UInt32 = 0x10, codec1371: UInt32 = 0x14
    static let serial: UInt32 = 0x20, dac2Count: UInt32 = 0x28
    // Bits.
    static let dac2Enable: UInt32 = 1 << 5
    static let intr: UInt32 = 1 << 31, dac2Pending: UInt32 = 1 << 1
    static let p2IntEnable: UInt32 = 1 << 9, p2Pause: UInt32 = 1 << 12
    static let codecReady: UInt32 = 1 << 31, codecPIRD: UInt32 = 1 << 23
    static let srcWE: UInt32 = 1 << 24, srcStateBits: UInt32 = 0x0087_0000

    public let chip: Chip
    public let pci: PCIIdentity
    private var regs = RegisterFile(size: 0x40)
    private var pages = [[UInt32]](repeating: [0, 0, 0, 0], count: 16)
    /// AC'97 registers by address (ES1371), AK4531 registers (ES1370).
    public private(set) var codec = [UInt16](repeating: 0, count: 128)
    private var codecLatch: UInt32 = 0
    /// Sample-rate-converter RAM (ES1371).
    public private(set) var srcRAM = [UInt16](repeating: 0, count: 128)
    private var srcCtl: UInt32 = 0
    private var dac2Remaining: UInt32 = 0
    private var bytePos = 0
    private var frameAcc: UInt64 = 0 // frames * 1e9 not yet consumed

    /// Frames the DAC has played since power-on.
    public private(set) var framesPlayed: UInt64 = 0
    /// DAC2 interrupts raised.
    public private(set) var periods: UInt64 = 0
    /// Discontinuities heard in the test signal (stale or skipped audio).
    public private(set) var glitches: UInt64 = 0
    private var lastSample: UInt16?

    public init(chip: Chip, slot: String = "0000:00:05.0", irq: UInt32 = 11) {
        self.chip = chip
        // PCI ids: 1274:5000 ES1370, 1274:1371 ES1371 rev 0x08 (ES1373-8).
        self.pci = PCIIdentity(vendor: 0x1274, device: chip == .es1370 ? 0x5000 : 0x1371,
                               revision: chip == .es1370 ? 0x00 : 0x08, slot: slot, barSize: 0x40, irq: irq)
        powerOn()
    }

    private func powerOn() {
        codec = [UInt16](repeating: 0, count: 128)
        if chip == .es1371 { ac97Reset() }
    }

    /// AC'97 power-on values: master and headphone muted, PCM out at 0 dB
    /// muted; vendor id of a SigmaTel STAC9721 (0x8384/0x7609).
    private func ac97Reset() {
        codec[0x00] = 0x0d40
        codec[0x02] = 0x8000
        codec[0x04] = 0x8000
        codec[0x18] = 0x8808
        codec[0x26] = 0x000f
        codec[0x7c] = 0x8384
        codec[0x7e] = 0x7609
    }

    public func read(offset: UInt32, width: Int) -> UInt32 {
        switch offset {
        case Self.status:
            var s = regs.u32(Int(Self.status)) & ~(Self.intr | Self.dac2Pending)
            if dac2IRQ { s |= Self.intr | Self.dac2Pending }
            return s
        case Self.smprate1371 where chip == .es1371 && width == 4:
            let addr = Int((srcCtl >> 25) & 0x7f)
            // Never busy; "state 1" when a read was requested (bit 16).
            return (srcCtl & 0xffc0_0000 & ~(1 << 23)) | (srcCtl & 0x10000) | UInt32(srcRAM[addr])
        case Self.codec1371 where chip == .es1371:
            let addr = Int((codecLatch >> 16) & 0x7f)
            return Self.codecReady | UInt32(addr) << 16 | UInt32(codec[addr])
        case Self.dac2Count:
            return (dac2Remaining << 16) | (regs.u32(Int(Self.dac2Count)) & 0xffff)
        case 0x30..<0x40:
            let page = Int(regs.u32(Int(Self.memPage)) & 0xf)
            let idx = Int((offset - 0x30) / 4)
            var v = pages[page][idx]
            if page == 0xc && idx == 3 { v = (v & 0xffff) | UInt32(bytePos / 4) << 16 }
            let shift = (offset & 3) * 8
            return width == 4 ? v : (v >> shift) & (width == 2 ? 0xffff : 0xff)
        default:
            return regs.get(Int(offset), width)
        }
    }

    public func write(offset: UInt32, width: Int, value: UInt32) {
        switch offset {
        case Self.control:
            let was = regs.u32(0) & Self.dac2Enable
            regs.set(0, width, value)
            if was == 0 && value & Self.dac2Enable != 0 { startDAC2() }
        case Self.status:
            break // R/O apart from chip-specific bits the model does not need
        case Self.codec1370 where chip == .es1370:
            // AK4531 write: reg in 15:8, value in 7:0 (ES_1370_CODEC_WRITE).
            let reg = Int((value >> 8) & 0xff), v = UInt16(value & 0xff)
            if reg < codec.count { codec[reg] = v }
        case Self.smprate1371 where chip == .es1371:
            srcCtl = value
            if value & Self.srcWE != 0 { srcRAM[Int((value >> 25) & 0x7f)] = UInt16(value & 0xffff) }
        case Self.codec1371 where chip == .es1371:
            if value & Self.codecPIRD != 0 {
                codecLatch = value
            } else {
                let addr = Int((value >> 16) & 0x7f)
                codecLatch = value & 0x7f_0000
                if addr == 0 { ac97Reset() } else { codec[addr] = UInt16(value & 0xffff) }
            }
        case Self.serial:
            // Clearing P2_INT_EN acknowledges a pending DAC2 interrupt
            // (the handler toggles it off and on, ens1370.c).
            if value & Self.p2IntEnable == 0 { dac2Pending = false }
            regs.set(Int(offset), width, value)
        case Self.dac2Count:
            regs.set(Int(offset), width, value)
            dac2Remaining = value & 0xffff
        case 0x30..<0x40:
            let page = Int(regs.u32(Int(Self.memPage)) & 0xf)
            pages[page][Int((offset - 0x30) / 4)] = value
            if page == 0xc && offset == 0x38 { bytePos = 0 }
        default:
            regs.set(Int(offset), width, value)
        }
    }

    private var dac2Pending = false
    private var dac2IRQ: Bool {
        dac2Pending && regs.u32(Int(Self.serial)) & Self.p2IntEnable != 0
    }
    public var irqAsserted: Bool { dac2IRQ }

    private func startDAC2() {
        bytePos = 0
        frameAcc = 0
        lastSample = nil
        dac2Remaining = regs.u32(Int(Self.dac2Count)) & 0xffff
    }

    /// The DAC2 sample rate the registers select.
    public var dac2Rate: UInt32 {
        switch chip {
        case .es1370:
            let div = (regs.u32(0) >> 16) & 0x1fff // ES_1370_PCLKDIVI
            return 1_411_200 / (div + 2)
        case .es1371:
            // freq = rate << 15 / 3000, split into INT_REGS[15:10] and VFREQ_FRAC.
            let intRegs = UInt32(srcRAM[0x74 + 1]), frac = UInt32(srcRAM[0x74 + 3])
            let freq = ((intRegs & 0xfc00) << 5) | (frac & 0x7fff)
            return (freq * 3000 + (1 << 14)) >> 15
        }
    }

    /// Master volume register as programmed: AC'97 0x02, or AK4531 0x00/0x01.
    public var masterVolumeRegister: UInt16 {
        chip == .es1371 ? codec[0x02] : (codec[0x00] << 8 | codec[0x01])
    }

    public func tick(nanos: UInt64, memory: SimMemory) {
        let ctl = regs.u32(0), serial = regs.u32(Int(Self.serial))
        guard ctl & Self.dac2Enable != 0, serial & Self.p2Pause == 0 else { return }
        let rate = UInt64(dac2Rate)
        guard rate > 0 else { return }
        frameAcc += rate * nanos
        var frames = frameAcc / 1_000_000_000
        frameAcc %= 1_000_000_000
        let mode = (serial >> 2) & 3 // ES_P2_MODEI: bit1 16-bit, bit0 stereo
        let bpf = (mode & 2 != 0 ? 2 : 1) * (mode & 1 != 0 ? 2 : 1)
        let frameBase = pages[0xc][2]
        let size = Int((pages[0xc][3] & 0xffff) + 1) * 4
        while frames > 0 {
            frames -= 1
            if mode & 2 != 0 {
                let s = memory.read(bus: frameBase &+ UInt32(bytePos), count: 2)
                let sample = UInt16(s[0]) | UInt16(s[1]) << 8
                if let last = lastSample, sample != last &+ 1 { glitches += 1 }
                lastSample = sample
            }
            bytePos = (bytePos + bpf) % max(size, bpf)
            framesPlayed += 1
            if dac2Remaining == 0 {
                dac2Remaining = regs.u32(Int(Self.dac2Count)) & 0xffff
                periods += 1
                dac2Pending = true
            } else {
                dac2Remaining -= 1
            }
        }
    }

    public func snapshot() -> [UInt8] {
        var r = regs
        r.set(Int(Self.status), 4, read(offset: Self.status, width: 4))
        r.set(0x30, 4, pages[0xc][0]); r.set(0x34, 4, pages[0xc][1])
        r.set(0x38, 4, pages[0xc][2])
        r.set(0x3c, 4, (pages[0xc][3] & 0xffff) | UInt32(bytePos / 4) << 16)
        return r.bytes
    }
}
