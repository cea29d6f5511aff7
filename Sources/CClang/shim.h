/* SPDX-License-Identifier: GPL-2.0 */
/* libclang's C API (Debian's libclang-dev, LLVM 14) for driverslicer. The
 * include path /usr/lib/llvm-14/include comes from the importing target's
 * -Xcc -I (Index.h includes its siblings as "clang-c/..."). */
#include <clang-c/Index.h>
