// SPDX-License-Identifier: GPL-2.0
import CBuildID

/// The GNU build-id of this process's executable (the linker's
/// `--build-id` note), in hex: what HELLO's reply reports, so that
/// `drvctl update` and `drvctl status` name the build a u-driver runs.
/// Read from the loaded program headers (Sources/CBuildID), not from
/// /proc/self/exe: no file is opened, which the sandbox may not allow.
public enum BuildID {
    /// This executable's build-id, or "" when it was linked without one.
    public static let current: String = {
        var buf = [CChar](repeating: 0, count: 129)
        let n = drv_build_id(&buf, buf.count)
        guard n > 0 else { return "" }
        return String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
