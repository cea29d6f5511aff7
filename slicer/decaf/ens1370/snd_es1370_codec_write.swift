// SPDX-License-Identifier: GPL-2.0
// ens1370's AK4531 codec write (sound/pci/ens1370.c in linux-source-6.1),
// moved to Swift: `driverslicer --decaf snd_es1370_codec_write`. The
// ak4531 codec library in the kernel calls it for every mixer change (an
// upcall into the u-driver, whose C body of it calls this); it waits for
// the codec to be idle and writes the register through the ES1370's port,
// as the C does.

/// ES_1370_CODEC_WRITE(a, d) of the C: the codec's register and value in one word.
private func codecWord(_ reg: UInt16, _ val: UInt16) -> UInt16 {
    ((reg & 0xff) << 8) | (val & 0xff)
}

/// Writes `val` into AK4531 register `reg`, waiting at most HZ / 10 for
/// the codec to take it.
func snd_es1370_codec_write(_ ak4531: SndAk4531Ref?, _ reg: UInt16, _ val: UInt16) {
    guard let ak4531, let privateData = ak4531.privateData else { return }
    let ensoniq = EnsoniqRef(privateData)
    // ES_REG(ensoniq, x): a register of the chip's I/O port range.
    let status = UInt16(truncatingIfNeeded: ensoniq.port &+ UInt64(ES_REG_STATUS))
    let codec = UInt16(truncatingIfNeeded: ensoniq.port &+ UInt64(ES_REG_1370_CODEC))
    func now() -> UInt64 { jiffies.load(as: UInt64.self) }
    let endTime = now() &+ UInt64(HZ / 10)

    repeat {
        if Int(inl(status)) & ES_1370_CSTAT == 0 {
            outw(codecWord(reg, val), codec)
            return
        }
        _ = schedule_timeout_uninterruptible(1)
    } while Int64(bitPattern: now() &- endTime) < 0 // time_after(end_time, jiffies)
    dev_err(ensoniq.card?.dev, "codec write timeout, status = 0x\(String(inl(status), radix: 16))\n")
}
