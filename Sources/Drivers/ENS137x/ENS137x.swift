// SPDX-License-Identifier: GPL-2.0
import UDriverKit
import XPC

/// The ens137x u-driver: everything of Linux's snd-ens1370/snd-ens1371 but
/// the interrupt handler, pointer and trigger, which stay in the nucleus.
/// Methods follow snd_pcm_ops' order, then the mixer.
public actor ENS137x: SoundDriver {
    let device: Device
    let info: DeviceInfo
    private(set) var chip: Chip = .es1371
    private var chipName = "unknown"
    /// Shadow of the SRC control bits (DISABLE, DIS_P1/P2/R1); only this
    /// driver writes them, so no read-modify-write over XPC is needed.
    private var srcControl: UInt32 = 0
    private var params: PCMParams?
    private var isOpen = false

    public init(device: Device, info: DeviceInfo) {
        self.device = device
        self.info = info
    }

    // MARK: probe

    /// The page probe writes to MEM_PAGE to see the chip answer: one no
    /// path uses, so a stale read of an earlier write cannot pass for it.
    static let probePage: UInt32 = 0x5

    public func probe(reattach: Bool) async throws -> String {
        guard let rev = identifyChip(vendor: info.vendor, device: info.device, revision: info.revision) else {
            throw UDriverError.noDevice("unsupported device \(String(info.vendor, radix: 16)):\(String(info.device, radix: 16))")
        }
        chip = rev.chip
        chipName = rev.name
        // One downcall (a recovery's probe waits on each round trip):
        // STATUS; MEM_PAGE written, read back and left at the DAC's page;
        // adopting an ES1370, CONTROL.
        let adopting1370 = reattach && chip == .es1370
        let regs = try await device.sequence([
            .read(Reg.status, width: 4),
            .write(Reg.memPage, Self.probePage, width: 4),
            .read(Reg.memPage, width: 4),
            .write(Reg.memPage, Reg.memPageDAC, width: 4),
        ] + (adopting1370 ? [.read(Reg.control, width: 4)] : []))
        guard regs.count == (adopting1370 ? 3 : 2) else {
            throw UDriverError(errno: 71, "REG_SEQ's reads answered with \(regs.count) values")
        }
        // All-ones from STATUS means nobody answers at this BAR.
        guard regs[0] != 0xffff_ffff else {
            throw UDriverError(errno: 5, "chip not responding (STATUS reads all-ones)")
        }
        // A function that stopped decoding its BAR may read zeros instead
        // (QEMU's unassigned I/O): MEM_PAGE, a 4-bit read/write register,
        // must hold what is written. Left at the DAC's page, which the
        // nucleus's pointer selects before each read anyway.
        guard regs[1] & Reg.memPageMask == Self.probePage else {
            throw UDriverError(errno: 5, "chip not responding (MEM_PAGE does not hold what was written)")
        }
        // Adopting an ES1370 whose codec interface is off would leave every
        // mixer write unheard: its state is not the one chipInit left.
        if adopting1370, regs[2] & Control.codecEnable1370 == 0 {
            throw UDriverError(errno: 5, "cannot adopt: CONTROL's CODEC_EN is clear, not as chipInit left it")
        }
        if !reattach {
            try await chipInit()
            try await codecInit()
        } else if chip == .es1370 {
            // The AK4531 is write-only: assume what codecInit wrote; the
            // replayed mixer calls then bring any later value back.
            for r in [AK4531.masterLeft, AK4531.masterRight] { akShadow[r] = Self.attenuation(fromPercent: 75) }
            for r in [AK4531.voiceLeft, AK4531.voiceRight] { akShadow[r] = Self.attenuation(fromPercent: 100) }
        }
        try await device.registerCard(name: chip.cardName, chip: chipName)
        return chipName
    }

    /// snd_ensoniq_chip_init: split from probe so a reattach skips it.
    func chipInit() async throws {
        switch chip {
        case .es1370:
            let ctrl = Control.codecEnable1370 | Control.serrDisable1370 | Control.pclkDiv(Clock1370.divider(forRate: 8000))
            _ = try await device.sequence([
                .write(Reg.control, ctrl, width: 4),
                .write(Reg.serial, 0, width: 4),
                .write(Reg.uartControl, 0, width: 1),
                .write(Reg.uartRes, 0, width: 1),
            ])
        case .es1371:
            // Control/serial cleared, legacy off, AC'97 warm reset to start the bit clock.
            var steps: [RegisterStep] = [
                .write(Reg.control, 0, width: 4),
                .write(Reg.serial, 0, width: 4),
                .write(Reg.legacy1371, 0, width: 4),
                .write(Reg.control, Control.syncReset1371, width: 4),
                .read(Reg.control, width: 4),
                .delay(micros: 20),
                .write(Reg.control, 0, width: 4),
            ]
            // Init the sample rate converter: all RAM zero, then the DAC
            // truncation/integer registers and unity volumes (ens1370.c).
            srcControl = SRC.disable
            steps += [.poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
                      .write(Reg.smpRate1371, SRC.disable, width: 4)]
            for a in 0..<SRC.ramSize { steps += srcWrite(a, 0) }
            steps += srcWrite(SRC.dac1 + SRC.truncN, 16 << 4)
            steps += srcWrite(SRC.dac1 + SRC.intRegs, 16 << 10)
            steps += srcWrite(SRC.dac2 + SRC.truncN, 16 << 4)
            steps += srcWrite(SRC.dac2 + SRC.intRegs, 16 << 10)
            for v in [SRC.volADC, SRC.volADC + 1, SRC.volDAC1, SRC.volDAC1 + 1, SRC.volDAC2, SRC.volDAC2 + 1] {
                steps += srcWrite(v, 1 << 12)
            }
            _ = try await device.sequence(steps)
            try await setDAC2Rate(22050)
            // WARNING (ens1370.c, Thomas Sailer): enabling the SRC before its
            // parameters are programmed locks the chip until power-off.
            srcControl = 0
            _ = try await device.sequence([
                .poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
                .write(Reg.smpRate1371, 0, width: 4),
                .write(Reg.codec1371, Codec1371.write(AC97.reset, 0), width: 4),
                .write(Reg.uartControl, 0, width: 1),
                .write(Reg.uartRes, 0, width: 1),
            ])
        }
    }

    /// Codec bring-up: AC'97 identity check (ES1371) or AK4531 reset (ES1370),
    /// then unmute at a sane level.
    func codecInit() async throws {
        switch chip {
        case .es1370:
            _ = try await device.sequence(akWrite(AK4531.reset, 0x02) + [.delay(micros: 100)]
                                          + akWrite(AK4531.reset, 0x03) + [.delay(micros: 100)])
        case .es1371:
            let id1 = try await codecRead(AC97.vendorID1), id2 = try await codecRead(AC97.vendorID2)
            guard id1 != 0xffff || id2 != 0xffff else {
                throw UDriverError(errno: 5, "AC'97 codec not responding (vendor id reads all-ones)")
            }
        }
        // Both come out of reset muted; start audible, at 0 dB PCM and 75 % master.
        try await writeVolume(.pcm, attenuation: Self.attenuation(fromPercent: 100), mute: false)
        try await writeVolume(.master, attenuation: Self.attenuation(fromPercent: 75), mute: false)
    }

    // MARK: snd_pcm_ops

    public func open() async throws { isOpen = true }

    public func close() async throws {
        isOpen = false
        params = nil
    }

    public func hwParams(_ p: PCMParams) async throws {
        guard chip.rates.contains(p.rate) else {
            throw UDriverError.invalid(.pcmRate, "\(p.rate) Hz outside \(chip.rates.lowerBound)...\(chip.rates.upperBound)")
        }
        guard (1...2).contains(p.channels) else { throw UDriverError.invalid(.pcmChannels, "\(p.channels) channels") }
        guard p.format == 1 || p.format == 2 else { throw UDriverError.invalid(.pcmFormat, "format \(p.format): U8 or S16_LE only") }
        guard p.periodFrames > 0, p.periodFrames <= p.bufferFrames, p.bufferFrames * p.frameBytes <= 0x40000 else {
            throw UDriverError.invalid(.pcmPeriodFrames, "period \(p.periodFrames) / buffer \(p.bufferFrames) frames")
        }
        params = p
    }

    /// snd_ensoniq_playback2_prepare. On reattach the DAC is playing: the
    /// registers are left alone unless they disagree with `params` (see
    /// ``repairRunningStream(_:)``).
    public func prepare(reattach: Bool) async throws {
        guard let p = params else { throw UDriverError(errno: 77, "prepare before hw_params") }
        if reattach {
            try await repairRunningStream(p)
            return
        }
        let mode = Self.serialMode(p)
        let sampleShift: UInt32 = [0, 1, 1, 2][Int(mode)]
        let bufferBytes = p.bufferFrames * p.frameBytes, periodBytes = p.periodFrames * p.frameBytes
        var ctrl = try await device.read32(Reg.control) & ~Control.dac2Enable
        var sctrl = try await device.read32(Reg.serial)
        sctrl &= ~(Serial.p2LoopSel | Serial.p2Pause | Serial.p2DacSen | Serial.p2EndIncMask
                   | Serial.p2StIncMask | Serial.p2ModeMask)
        sctrl |= Serial.p2IntEnable | Serial.p2Mode(mode) | Serial.p2EndInc(mode & Serial.mode16Bit != 0 ? 2 : 1) | Serial.p2StInc(0)
        if chip == .es1370 {
            ctrl = (ctrl & ~Control.pclkDivMask) | Control.pclkDiv(Clock1370.divider(forRate: p.rate))
        }
        _ = try await device.sequence([
            .write(Reg.control, ctrl, width: 4),
            .write(Reg.memPage, Reg.memPageDAC, width: 4),
        ])
        try await device.writeDMAAddress(Reg.dac2Frame, buffer: p.buffer)
        _ = try await device.sequence([
            .write(Reg.dac2Size, (bufferBytes >> 2) - 1, width: 4),
            .write(Reg.serial, sctrl, width: 4),
            .write(Reg.dac2Count, (periodBytes >> sampleShift) - 1, width: 4),
            .write(Reg.control, ctrl, width: 4),
        ])
        if chip == .es1371 { try await setDAC2Rate(p.rate) }
    }

    /// The DAC2 mode bits (SERIAL's P2_MODE) for `p`'s format and channels.
    static func serialMode(_ p: PCMParams) -> UInt32 {
        (p.format == 2 ? Serial.mode16Bit : 0) | (p.channels > 1 ? Serial.modeStereo : 0)
    }

    /// A replayed prepare into a running stream. The DAC plays with what the
    /// u-driver before this one wrote, and that one may have failed between
    /// acknowledging hw_params and prepare and writing them (a corrupted
    /// u-driver that answered without doing the work). So the rate and the
    /// sample mode are read back and written only if they differ: a stream
    /// that is right is not touched, one that is wrong is mended in place,
    /// without stopping the DAC. (Found by the mutation campaign: an ES1371
    /// left at 48000 Hz under a shadow of 8000 Hz, unmended by every later
    /// recovery.)
    func repairRunningStream(_ p: PCMParams) async throws {
        let sctrl = try await device.read32(Reg.serial)
        let mode = Serial.p2Mode(Self.serialMode(p))
        if sctrl & Serial.p2ModeMask != mode {
            _ = try await device.sequence([.write(Reg.serial, sctrl & ~Serial.p2ModeMask | mode, width: 4)])
        }
        switch chip {
        case .es1370:
            let ctrl = try await device.read32(Reg.control)
            let want = Control.pclkDiv(Clock1370.divider(forRate: p.rate))
            if ctrl & Control.pclkDivMask != want {
                _ = try await device.sequence([.write(Reg.control, ctrl & ~Control.pclkDivMask | want, width: 4)])
            }
        case .es1371:
            let intRegs = try await srcRead(SRC.dac2 + SRC.intRegs)
            let frac = try await srcRead(SRC.dac2 + SRC.vfreqFrac)
            let freq = (UInt32(intRegs & SRC.intMask) << 5) | UInt32(frac & SRC.fracMask)
            if freq != Self.dac2Freq(p.rate) { try await setDAC2Rate(p.rate) }
        }
    }

    /// snd_es1371_dac2_rate's frequency word: rate << 15 / 3000, rounded.
    static func dac2Freq(_ rate: UInt32) -> UInt32 { ((rate << 15) + 1500) / 3000 }

    // MARK: mixer

    public func mixerGet(_ control: MixerControl) async throws -> UInt32 {
        let raw = try await volumeRegister(control)
        switch control {
        case .masterMute: return raw.mute ? 1 : 0
        case .master, .pcm: return Self.percent(fromAttenuation: raw.attenuation)
        }
    }

    public func mixerPut(_ control: MixerControl, _ value: UInt32) async throws {
        let limit: UInt32 = control == .masterMute ? 1 : 100
        guard value <= limit else { throw UDriverError.invalid(.mixerValue, "\(value) outside 0...\(limit)") }
        var (att, mute) = try await volumeRegister(control == .masterMute ? .master : control)
        if control == .masterMute { mute = value == 1 } else { att = Self.attenuation(fromPercent: value) }
        try await writeVolume(control == .masterMute ? .master : control, attenuation: att, mute: mute)
    }

    private func writeVolume(_ control: MixerControl, attenuation att: UInt8, mute: Bool) async throws {
        switch chip {
        case .es1371:
            let reg = control == .pcm ? AC97.pcmOutVolume : AC97.masterVolume
            try await codecWrite(reg, (mute ? AC97.mute : 0) | UInt16(att) << AC97.leftShift | UInt16(att))
        case .es1370:
            let (l, r) = control == .pcm ? (AK4531.voiceLeft, AK4531.voiceRight) : (AK4531.masterLeft, AK4531.masterRight)
            let v = (mute ? AK4531.mute : 0) | att
            _ = try await device.sequence(akWrite(l, v) + akWrite(r, v))
            akShadow[l] = v
            akShadow[r] = v
        }
    }

    /// The AK4531 is write-only: the driver keeps what it wrote, as
    /// ak4531_codec.c does in ak4531->regs.
    private var akShadow: [UInt32: UInt8] = [:]

    private func volumeRegister(_ c: MixerControl) async throws -> (attenuation: UInt8, mute: Bool) {
        switch chip {
        case .es1371:
            let v = try await codecRead(c == .pcm ? AC97.pcmOutVolume : AC97.masterVolume)
            return (UInt8((v >> AC97.leftShift) & AC97.attenuationMask), v & AC97.mute != 0)
        case .es1370:
            let v = akShadow[c == .pcm ? AK4531.voiceLeft : AK4531.masterLeft] ?? AK4531.mute
            return (v & AK4531.attenuationMask, v & AK4531.mute != 0)
        }
    }

    /// 0...100 % onto 31...0 attenuation steps, as amixer rounds.
    static func attenuation(fromPercent p: UInt32) -> UInt8 { UInt8(31 - (p * 31 + 50) / 100) }
    static func percent(fromAttenuation a: UInt8) -> UInt32 { (UInt32(31 - min(a, 31)) * 100 + 15) / 31 }

    // MARK: ES1371 codec and SRC access

    /// snd_es1371_src_write as register steps.
    private func srcWrite(_ reg: UInt32, _ data: UInt16) -> [RegisterStep] {
        [.poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
         .write(Reg.smpRate1371, srcControl | SRC.ramAddress(reg) | UInt32(data) | SRC.ramWriteEnable, width: 4)]
    }

    /// snd_es1371_src_read: request, wait for "state 1", read, hide state.
    private func srcRead(_ reg: UInt32) async throws -> UInt16 {
        let r = try await device.sequence([
            .poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
            .write(Reg.smpRate1371, srcControl | SRC.ramAddress(reg) | SRC.stateReadable, width: 4),
            .poll(Reg.smpRate1371, mask: SRC.stateMask, equals: SRC.stateReadable, width: 4),
            .write(Reg.smpRate1371, srcControl | SRC.ramAddress(reg), width: 4),
        ])
        return UInt16(truncatingIfNeeded: r.last ?? 0)
    }

    /// snd_es1371_dac2_rate: freq = rate << 15 / 3000, into INT_REGS[15:10]
    /// and VFREQ_FRAC, with DAC2 accumulator updates held off meanwhile.
    func setDAC2Rate(_ rate: UInt32) async throws {
        let freq = Self.dac2Freq(rate)
        let held = srcControl | SRC.disableP2
        _ = try await device.sequence([
            .poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
            .write(Reg.smpRate1371, held, width: 4),
        ])
        let saved = srcControl
        srcControl = held
        let intRegs = try await srcRead(SRC.dac2 + SRC.intRegs)
        var steps = srcWrite(SRC.dac2 + SRC.intRegs, (intRegs & 0x00ff) | UInt16(truncatingIfNeeded: freq >> 5) & SRC.intMask)
        steps += srcWrite(SRC.dac2 + SRC.vfreqFrac, UInt16(truncatingIfNeeded: freq) & SRC.fracMask)
        srcControl = saved
        steps += [.poll(Reg.smpRate1371, mask: SRC.ramBusy, equals: 0, width: 4),
                  .write(Reg.smpRate1371, srcControl, width: 4)]
        _ = try await device.sequence(steps)
    }

    /// snd_es1371_codec_write: wait for WIP clear, then write.
    private func codecWrite(_ reg: UInt32, _ v: UInt16) async throws {
        _ = try await device.sequence([
            .poll(Reg.codec1371, mask: Codec1371.writeInProgress, equals: 0, width: 4),
            .write(Reg.codec1371, Codec1371.write(reg, v), width: 4),
        ])
    }

    /// snd_es1371_codec_read: request with PIRD, wait for RDY, read data.
    private func codecRead(_ reg: UInt32) async throws -> UInt16 {
        let r = try await device.sequence([
            .poll(Reg.codec1371, mask: Codec1371.writeInProgress, equals: 0, width: 4),
            .write(Reg.codec1371, Codec1371.read(reg), width: 4),
            .poll(Reg.codec1371, mask: Codec1371.ready, equals: Codec1371.ready, width: 4),
        ])
        return UInt16(truncatingIfNeeded: r.last ?? 0)
    }

    /// snd_es1370_codec_write: wait for CSTAT clear, then write.
    private func akWrite(_ reg: UInt32, _ v: UInt8) -> [RegisterStep] {
        [.poll(Reg.status, mask: Status.codecBusy1370, equals: 0, width: 4),
         .write(Reg.codec1370, AK4531.write(reg, v), width: 2)]
    }
}
