"""Test tooling: `waft spectest` (the WebAssembly spec suite) and the pytest plugin.

A leaf room: it uses the compiler, firmware and runners; nothing but the
command line imports it.
"""
