// SPDX-License-Identifier: GPL-2.0
import CChips
import XPC

/// The ES137x nucleus: what stays "in the kernel" for the sound card —
/// interrupt handler, pointer and trigger, the three hooks ens1370.c's
/// snd_pcm_ops needs in atomic context — plus the PCM stream the sim's audio
/// client feeds (ALSA's appl_ptr side). Everything else is an upcall.
///
/// Runs under the nucleus lock, on the data-path thread; never waits for
/// the u-driver.
final class SoundPath {
    let model: ES137xModel
    let instance: UInt32
    /// The PCM buffer the nucleus allocated at hw_params (ALSA's dma_area).
    var buffer: SimMemory.Buffer?
    var periodFrames = 1024
    var bufferFrames = 4096
    var running = false
    /// Recovery holds the stream (es1370.c's `held`): DAC2 stopped, the
    /// client's stream still running, its position kept.
    var held = false
    /// The card the u-driver registered (SND_REGISTER).
    var cardName: String?
    /// Frames the client has written (absolute), and the hardware position
    /// the nucleus has accounted (absolute).
    private(set) var applPtr: UInt64 = 0
    private(set) var hwPtr: UInt64 = 0
    private var lastPointer = 0
    /// Periods the interrupt handler saw.
    private(set) var periodsElapsed: UInt64 = 0
    /// Times the hardware caught up with the client (ALSA would report XRUN).
    private(set) var underruns: UInt64 = 0

    init(model: ES137xModel, instance: UInt32) {
        self.model = model
        self.instance = instance
    }

    private func r32(_ o: UInt32) -> UInt32 { model.read(offset: o, width: 4) }
    private func w32(_ o: UInt32, _ v: UInt32) { model.write(offset: o, width: 4, value: v) }

    /// snd_audiopci_interrupt: "not mine" early; ack DAC2 by toggling
    /// P2_INT_EN in SERIAL; then the period-elapsed work.
    func irq() {
        let status = r32(ES137xModel.status)
        guard status & ES137xModel.intr != 0 else { return }
        let sctrl = r32(ES137xModel.serial)
        if status & ES137xModel.dac2Pending != 0 {
            w32(ES137xModel.serial, sctrl & ~ES137xModel.p2IntEnable)
            w32(ES137xModel.serial, sctrl)
            periodElapsed()
        }
    }

    /// snd_ensoniq_playback2_pointer: DAC2 frame position from DAC2_SIZE's
    /// current-count field (dwords; 16-bit stereo = one frame per dword).
    func pointer() -> Int {
        guard r32(ES137xModel.control) & ES137xModel.dac2Enable != 0 else { return 0 }
        w32(ES_REG_MEM_PAGE, ES_PAGE_DAC)
        return Int(r32(ES_REG_DAC2_SIZE) >> ES_CURR_SIZE_SHIFT) % max(bufferFrames, 1)
    }

    /// snd_ensoniq_trigger START/STOP: DAC2_EN in CONTROL.
    func trigger(start: Bool) {
        held = false
        let ctl = r32(ES137xModel.control)
        if start {
            prefill()
            w32(ES137xModel.control, ctl | ES137xModel.dac2Enable)
            running = true
        } else {
            w32(ES137xModel.control, ctl & ~ES137xModel.dac2Enable)
            running = false
        }
    }

    private func prefill() {
        applPtr = 0
        hwPtr = 0
        lastPointer = 0
        write(upTo: UInt64(bufferFrames))
    }

    /// snd_pcm_period_elapsed + the client's refill: account the hardware
    /// position, count an underrun if the DAC overtook the client, and keep
    /// the buffer full of the ramp test signal.
    private func periodElapsed() {
        periodsElapsed += 1
        let p = pointer()
        hwPtr += UInt64((p - lastPointer + bufferFrames) % bufferFrames)
        lastPointer = p
        if hwPtr > applPtr {
            underruns += 1
            applPtr = hwPtr
        }
        write(upTo: hwPtr + UInt64(bufferFrames))
    }

    private func write(upTo target: UInt64) {
        guard let buffer else { return }
        while applPtr < target {
            let off = Int(applPtr % UInt64(bufferFrames)) * 4
            let s = UInt16(truncatingIfNeeded: applPtr)
            let lo = UInt8(s & 0xff), hi = UInt8(s >> 8)
            if off + 4 <= buffer.bytes.count {
                buffer.bytes[off] = lo; buffer.bytes[off + 1] = hi
                buffer.bytes[off + 2] = lo; buffer.bytes[off + 3] = hi
            }
            applPtr += 1
        }
    }

    /// Status attributes for DEVICE_INFO.
    func info() -> [XPCAttribute] {
        (cardName.map { [XPCAttribute.string(.cardName, $0)] } ?? []) + [.u32(.pcmRate, max(4000, min(192_000, model.dac2Rate))),
         .u16(.codecMaster, model.masterVolumeRegister),
         .u64(.framesPlayed, model.framesPlayed),
         .u64(.periods, periodsElapsed),
         .u64(.underruns, underruns),
         .u64(.glitches, model.glitches),
         .u8(.datapathOn, running && !held ? 1 : 0)]
    }
}

extension SoundPath: SimChipNucleus {
    var deviceClass: XPCDeviceClass { .sound }

    func step(memory: SimMemory, nanos: UInt64) {
        if model.irqAsserted { irq() }
    }

    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage? {
        switch m.op {
        case .sndRegister:
            cardName = try m.string(.cardName)
            d.registeredName = cardName
            d.chipName = m.attribute(.chipName)?.string
            return XPCMessage.reply(to: m)
        case .datapathEnable:
            guard cardName != nil else { return XPCMessage.errorReply(to: m, errno: 19, message: "no card registered") }
            releaseHold()
            return XPCMessage.reply(to: m)
        case .datapathDisable:
            guard cardName != nil else { return XPCMessage.errorReply(to: m, errno: 19, message: "no card registered") }
            holdForReadd()
            return XPCMessage.reply(to: m)
        default:
            return nil
        }
    }

    /// es1370.c's es_hold: DAC2 stops, the stream stays running for the
    /// client, which waits (no period elapses, nothing underruns).
    func holdForReadd() {
        guard running else { return }
        w32(ES137xModel.control, r32(ES137xModel.control) & ~ES137xModel.dac2Enable)
        held = true
    }

    /// es1370.c's release (DATAPATH_ENABLE after the replay): a held
    /// stream starts again from the buffer's start, which the replayed
    /// prepare programmed.
    func releaseHold() {
        guard held else { return }
        held = false
        lastPointer = 0
        w32(ES137xModel.control, r32(ES137xModel.control) | ES137xModel.dac2Enable)
    }

    /// Stops DAC2 and masks its interrupt (P2_INT_EN).
    func quiesce() {
        held = false
        if running { trigger(start: false) }
        w32(ES137xModel.serial, r32(ES137xModel.serial) & ~ES137xModel.p2IntEnable)
    }

    var workload: SimWorkload {
        { sim, instance in try await sim.startPlayback(instance, rate: sim.workloadRate.withLock { $0 }) }
    }
}

extension SoundPath {
    /// es1370_write_check: on the DAC and ADC pages the frame registers
    /// hold bus addresses, REG_WRITE_DMA's only, and a size register may
    /// not reach past the buffer its frame register points into; DAC1 and
    /// the ADC stay off (the nucleus plays DAC2 only).
    func checkWrite(_ w: RegisterWrite, memory: SimMemory) -> WriteRefusal? {
        let toFrame = WriteRefusal.notPermitted("REG_WRITE_DMA goes to a frame register")
        if w.touches(ES_REG_CONTROL), !w.dma,
           w.merged(ES_REG_CONTROL, current: { r32(ES_REG_CONTROL) }) & (ES_DAC1_EN | ES_ADC_EN) != 0 {
            return .notPermitted("CONTROL: DAC1 and the ADC stay off (DAC2 plays)")
        }
        guard w.offset &+ UInt32(w.width) > ES_REG_MEM_WINDOW else { return w.dma ? toFrame : nil }
        let page = r32(ES_REG_MEM_PAGE) & ES_MEM_PAGE_MASK
        guard page == ES_PAGE_DAC || page == ES_PAGE_ADC else { return w.dma ? toFrame : nil }
        let reg = w.offset & ~3
        if reg & 4 == 0 {
            return w.isDMAAddress(at: reg) ? nil : .notPermitted("a frame register takes REG_WRITE_DMA's only")
        }
        if w.dma || Int(w.offset & 3) + w.width > 4 { return .notPermitted("a size register takes a size") }
        let v = w.merged(reg, current: { r32(reg) })
        if (Int(v & ES_SIZE_MASK) + 1) * 4 > memory.room(bus: r32(reg - 4), instance: instance) {
            return .invalid("a size past the DMA object the frame register points into")
        }
        return nil
    }
}
