// SPDX-License-Identifier: GPL-2.0
// The register maps are headers only; SwiftPM wants a source in a C target.
#include "CChips.h"
