/*
 * abi_version.c: the runtime's half of the link-time ABI version check.
 *
 * Every compiled module reads the byte waft_abi_v<N> once, from its
 * P__initialize, where N is the ABI version its compiler implements
 * (aot/abi.py ABI_VERSION).  This file is the only definition, named after
 * this runtime's WAFT_ABI_VERSION, so a module and a runtime of different
 * versions cannot link: the linker stops with "undefined reference to
 * `waft_abi_v<N>'" instead of the program crashing on a changed struct.
 * One byte in .rodata; the module's read of it costs a load at instantiation.
 */
#include "waft.h"

const uint8_t WAFT_ABI_SYMBOL = WAFT_ABI_VERSION;
