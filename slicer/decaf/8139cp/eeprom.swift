// SPDX-License-Identifier: GPL-2.0
// 8139cp's EEPROM reading (read_eeprom and the bit-banging helpers it
// shares with write_eeprom: eeprom_cmd_start, eeprom_cmd, eeprom_cmd_end),
// moved to Swift: `driverslicer --decaf ...,read_eeprom,eeprom_cmd_start,
// eeprom_cmd,eeprom_cmd_end`. cp_init_one's C calls read_eeprom for the MAC
// address; the C that stays (eeprom_extend_cmd, write_eeprom) calls the
// helpers here; read_eeprom calls them as Swift. The C's eeprom_delay()
// macro (a read of the register) is the function below.

/// The C's `eeprom_delay()`: a read that lets the EEPROM's clock settle.
private func eeprom_delay(_ eeAddr: UnsafeMutableRawPointer?) { _ = readb(eeAddr) }

private func eeWrite(_ value: Int, _ eeAddr: UnsafeMutableRawPointer?) {
    writeb(UInt8(truncatingIfNeeded: value), eeAddr)
}

/// Selects the EEPROM for a command.
func eeprom_cmd_start(_ eeAddr: UnsafeMutableRawPointer?) {
    eeWrite(EE_ENB & ~EE_CS, eeAddr)
    eeWrite(EE_ENB, eeAddr)
    eeprom_delay(eeAddr)
}

/// Shifts the command's `cmdLen` bits out, most significant first.
func eeprom_cmd(_ eeAddr: UnsafeMutableRawPointer?, _ cmd: Int32, _ cmdLen: Int32) {
    var i = cmdLen - 1
    while i >= 0 {
        let dataval = Int(cmd) & (1 << Int(i)) != 0 ? EE_DATA_WRITE : 0
        eeWrite(EE_ENB | dataval, eeAddr)
        eeprom_delay(eeAddr)
        eeWrite(EE_ENB | dataval | EE_SHIFT_CLK, eeAddr)
        eeprom_delay(eeAddr)
        i -= 1
    }
    eeWrite(EE_ENB, eeAddr)
    eeprom_delay(eeAddr)
}

/// Deselects the EEPROM.
func eeprom_cmd_end(_ eeAddr: UnsafeMutableRawPointer?) {
    eeWrite(0, eeAddr)
    eeprom_delay(eeAddr)
}

/// One 16-bit word of the EEPROM at `location` (`addrLen` address bits).
func read_eeprom(_ ioaddr: UnsafeMutableRawPointer?, _ location: Int32, _ addrLen: Int32) -> UInt16 {
    guard let ioaddr else { return 0 }
    var retval: UInt16 = 0
    let eeAddr = ioaddr + Cfg9346
    let readCmd = location | Int32(truncatingIfNeeded: EE_READ_CMD << Int(addrLen))

    eeprom_cmd_start(eeAddr)
    eeprom_cmd(eeAddr, readCmd, 3 + addrLen)

    for _ in 0..<16 {
        eeWrite(EE_ENB | EE_SHIFT_CLK, eeAddr)
        eeprom_delay(eeAddr)
        retval = (retval << 1) | (Int(readb(eeAddr)) & EE_DATA_READ != 0 ? 1 : 0)
        eeWrite(EE_ENB, eeAddr)
        eeprom_delay(eeAddr)
    }

    eeprom_cmd_end(eeAddr)

    return retval
}
