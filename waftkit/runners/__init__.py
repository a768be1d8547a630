"""Run a linked program and collect what it printed and its exit status: natively, under QEMU, through pyOCD.

One registry of runners (`waftkit.runners.base`) serves the command line, the
SCons tools, spectest, the benchmarks and the pytest plugin alike.
"""
