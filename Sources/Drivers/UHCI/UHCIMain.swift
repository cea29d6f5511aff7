// SPDX-License-Identifier: GPL-2.0
import UDriverKit

/// Entry point: the runtime does the rest (fd 3, HELLO, upcalls).
@main
enum UHCIMain {
    static func main() {
        UDriverRuntime.main(UHCI.self)
    }
}
