// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// Register-level model of the Ensoniq AudioPCI ES1370 (AK4531 codec) and
/// ES1371 (AC'97 codec + sample rate converter), playback on DAC2 only.
///
/// Register facts follow Linux's sound/pci/ens1370.c (the offsets and bit
/// names of es137x_regs.h are that file's). The DAC2 engine fetches frames from host memory at
/// the programmed rate, counts samples down per period and raises the DAC2
/// interrupt; it also checks the test signal the sim's audio client writes
/// (a ramp, one step per frame), so a replayed or stale period is counted as
/// a glitch, as a listener would hear it.
public final class ES137xModel: DeviceModel, @unchecked Sendable {
    /// Which chip.
    public enum Chip: Sendable { case es1370, es1371 }

    // Registers and bits: module/include/chips/es137x_regs.h.
    static let control = ES_REG_CONTROL, status = ES_REG_STATUS, memPage = ES_REG_MEM_PAGE
    static let codec1370 = ES_REG_1370_CODEC, smprate1371 = ES_REG_1371_SMPRATE, codec1371 = ES_REG_1371_CODEC
    static let serial = ES_REG_SERIAL, dac2Count = ES_REG_DAC2_COUNT
    static let dac2Enable = ES_DAC2_EN
    static let intr = ES_INTR, dac2Pending = ES_DAC2
    static let p2IntEnable = ES_P2_INT_EN, p2Pause = ES_P2_PAUSE
    static let codecReady = ES_1371_CODEC_RDY, codecPIRD = ES_1371_CODEC_PIRD
    static let srcWE = ES_1371_SRC_RAM_WE
    /// The memory page window and the DAC page's registers, as indices into a page.
    static let window = ES_REG_MEM_WINDOW, windowEnd = ES_REG_SIZE
    static let dac2FrameIndex = Int((ES_REG_DAC2_FRAME - ES_REG_MEM_WINDOW) / 4)
    static let dac2SizeIndex = Int((ES_REG_DAC2_SIZE - ES_REG_MEM_WINDOW) / 4)
    static let pageDAC = Int(ES_PAGE_DAC)

    public let chip: Chip
    public let identity: DeviceIdentity
    private var regs = RegisterFile(size: Int(ES_REG_SIZE))
    private var pages = [[UInt32]](repeating: [0, 0, 0, 0], count: Int(ES_MEM_PAGE_MASK) + 1) // 4 dwords a page
    /// AC'97 registers by address (ES1371), AK4531 registers (ES1370).
    public private(set) var codec = [UInt16](repeating: 0, count: 128)
    private var codecLatch: UInt32 = 0
    /// Sample-rate-converter RAM (ES1371).
    public private(set) var srcRAM = [UInt16](repeating: 0, count: Int(ES_1371_SRC_RAM_SIZE))
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
        self.identity = DeviceIdentity(vendor: 0x1274, device: chip == .es1370 ? 0x5000 : 0x1371,
                               revision: chip == .es1370 ? 0x00 : 0x08, slot: slot, barSize: ES_REG_SIZE, irq: irq)
        powerOn()
    }

    private func powerOn() {
        codec = [UInt16](repeating: 0, count: 128)
        if chip == .es1371 { ac97Reset() }
    }

    /// AC'97 power-on values: master and headphone muted, PCM out at 0 dB
    /// muted; vendor id of a SigmaTel STAC9721 (0x8384/0x7609).
    private func ac97Reset() {
        codec[Int(ES_AC97_RESET)] = 0x0d40
        codec[Int(ES_AC97_MASTER)] = UInt16(ES_AC97_MUTE)
        codec[Int(ES_AC97_HEADPHONE)] = UInt16(ES_AC97_MUTE)
        codec[Int(ES_AC97_PCM)] = UInt16(ES_AC97_MUTE) | 0x0808
        codec[Int(ES_AC97_POWERDOWN)] = 0x000f
        codec[Int(ES_AC97_VENDOR_ID1)] = 0x8384
        codec[Int(ES_AC97_VENDOR_ID2)] = 0x7609
    }

    public func read(offset: UInt32, width: Int) -> UInt32 {
        switch offset {
        case Self.status:
            var s = regs.u32(Int(Self.status)) & ~(Self.intr | Self.dac2Pending)
            if dac2IRQ { s |= Self.intr | Self.dac2Pending }
            return s
        case Self.smprate1371 where chip == .es1371 && width == 4:
            let addr = Int((srcCtl & ES_1371_SRC_RAM_ADDR_MASK) >> ES_1371_SRC_RAM_ADDR_SHIFT)
            // Never busy; "state 1" when a read was requested.
            let kept = ES_1371_SRC_RAM_ADDR_MASK | ES_1371_SRC_RAM_WE | ES_1371_SRC_DISABLE
            return (srcCtl & kept) | (srcCtl & ES_1371_SRC_STATE_READ) | UInt32(srcRAM[addr])
        case Self.codec1371 where chip == .es1371:
            let addr = Int((codecLatch & ES_1371_CODEC_ADDR_MASK) >> ES_1371_CODEC_ADDR_SHIFT)
            return Self.codecReady | UInt32(addr) << ES_1371_CODEC_ADDR_SHIFT | UInt32(codec[addr])
        case Self.dac2Count:
            return (dac2Remaining << ES_CURR_COUNT_SHIFT) | (regs.u32(Int(Self.dac2Count)) & ES_COUNT_MASK)
        case Self.window..<Self.windowEnd:
            let page = Int(regs.u32(Int(Self.memPage)) & ES_MEM_PAGE_MASK)
            let idx = Int((offset - Self.window) / 4)
            var v = pages[page][idx]
            if page == Self.pageDAC && idx == Self.dac2SizeIndex {
                v = (v & ES_SIZE_MASK) | UInt32(bytePos / 4) << ES_CURR_SIZE_SHIFT
            }
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
            // AK4531 write: register, value (ES_1370_CODEC_WRITE).
            let reg = Int((value >> ES_1370_CODEC_ADDR_SHIFT) & 0xff), v = UInt16(value & ES_1370_CODEC_DATA_MASK)
            if reg < codec.count { codec[reg] = v }
        case Self.smprate1371 where chip == .es1371:
            srcCtl = value
            if value & Self.srcWE != 0 {
                srcRAM[Int((value & ES_1371_SRC_RAM_ADDR_MASK) >> ES_1371_SRC_RAM_ADDR_SHIFT)] = UInt16(value & ES_1371_SRC_RAM_DATA_MASK)
            }
        case Self.codec1371 where chip == .es1371:
            if value & Self.codecPIRD != 0 {
                codecLatch = value
            } else {
                let addr = Int((value & ES_1371_CODEC_ADDR_MASK) >> ES_1371_CODEC_ADDR_SHIFT)
                codecLatch = value & ES_1371_CODEC_ADDR_MASK
                if addr == ES_AC97_RESET { ac97Reset() } else { codec[addr] = UInt16(value & ES_1371_CODEC_DATA_MASK) }
            }
        case Self.serial:
            // Clearing P2_INT_EN acknowledges a pending DAC2 interrupt
            // (the handler toggles it off and on, ens1370.c).
            if value & Self.p2IntEnable == 0 { dac2Pending = false }
            regs.set(Int(offset), width, value)
        case Self.dac2Count:
            regs.set(Int(offset), width, value)
            dac2Remaining = value & ES_COUNT_MASK
        case Self.window..<Self.windowEnd:
            let page = Int(regs.u32(Int(Self.memPage)) & ES_MEM_PAGE_MASK)
            pages[page][Int((offset - Self.window) / 4)] = value
            if page == Self.pageDAC && offset == ES_REG_DAC2_FRAME { bytePos = 0 }
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
        dac2Remaining = regs.u32(Int(Self.dac2Count)) & ES_COUNT_MASK
    }

    /// The DAC2 sample rate the registers select.
    public var dac2Rate: UInt32 {
        switch chip {
        case .es1370:
            let div = (regs.u32(Int(Self.control)) & ES_1370_PCLKDIV_MASK) >> ES_1370_PCLKDIV_SHIFT
            return ES_1370_SRCLOCK / (div + 2)
        case .es1371:
            // freq = rate << 15 / 3000, split into INT_REGS[15:10] and VFREQ_FRAC.
            let intRegs = UInt32(srcRAM[Int(ES_SMPREG_DAC2 + ES_SMPREG_INT_REGS)])
            let frac = UInt32(srcRAM[Int(ES_SMPREG_DAC2 + ES_SMPREG_VFREQ_FRAC)])
            let freq = ((intRegs & ES_SMPREG_INT_MASK) << 5) | (frac & ES_SMPREG_FRAC_MASK)
            return (freq * 3000 + (1 << 14)) >> 15
        }
    }

    /// Master volume register as programmed: AC'97 0x02, or AK4531 0x00/0x01.
    public var masterVolumeRegister: UInt16 {
        chip == .es1371 ? codec[Int(ES_AC97_MASTER)]
            : (codec[Int(ES_AK4531_LMASTER)] << ES_AC97_LEFT_SHIFT | codec[Int(ES_AK4531_RMASTER)])
    }

    public func tick(nanos: UInt64, memory: SimMemory) {
        let ctl = regs.u32(Int(Self.control)), serial = regs.u32(Int(Self.serial))
        guard ctl & Self.dac2Enable != 0, serial & Self.p2Pause == 0 else { return }
        let rate = UInt64(dac2Rate)
        guard rate > 0 else { return }
        frameAcc += rate * nanos
        var frames = frameAcc / 1_000_000_000
        frameAcc %= 1_000_000_000
        let mode = (serial & ES_P2_MODE_MASK) >> ES_P2_MODE_SHIFT
        let bpf = (mode & ES_MODE_16BIT != 0 ? 2 : 1) * (mode & ES_MODE_STEREO != 0 ? 2 : 1)
        let frameBase = pages[Self.pageDAC][Self.dac2FrameIndex]
        let size = Int((pages[Self.pageDAC][Self.dac2SizeIndex] & ES_SIZE_MASK) + 1) * 4
        while frames > 0 {
            frames -= 1
            if mode & ES_MODE_16BIT != 0 {
                let s = memory.read(bus: frameBase &+ UInt32(bytePos), count: 2)
                let sample = UInt16(s[0]) | UInt16(s[1]) << 8
                if let last = lastSample, sample != last &+ 1 { glitches += 1 }
                lastSample = sample
            }
            bytePos = (bytePos + bpf) % max(size, bpf)
            framesPlayed += 1
            if dac2Remaining == 0 {
                dac2Remaining = regs.u32(Int(Self.dac2Count)) & ES_COUNT_MASK
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
        for (i, v) in pages[Self.pageDAC].enumerated() { r.set(Int(Self.window) + 4 * i, 4, v) }
        r.set(Int(ES_REG_DAC2_SIZE), 4, (pages[Self.pageDAC][Self.dac2SizeIndex] & ES_SIZE_MASK) | UInt32(bytePos / 4) << ES_CURR_SIZE_SHIFT)
        return r.bytes
    }
}
