// SPDX-License-Identifier: GPL-2.0

/// The project's version, as in the top-level VERSION file (which the
/// kernel module and DKMS read; drvctlTests checks the two agree).
public enum DrivermgrVersion {
    public static let string = "0.5.0"
}
