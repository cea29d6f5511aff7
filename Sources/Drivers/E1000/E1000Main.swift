// SPDX-License-Identifier: GPL-2.0
import UDriverKit

/// Entry point: the runtime does the rest (fd 3, HELLO, upcalls).
@main
enum E1000Main {
    static func main() {
        UDriverRuntime.main(E1000.self)
    }
}
