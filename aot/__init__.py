"""Waft's ahead-of-time compiler: WebAssembly modules to native ELF objects through LLVM."""

__version__ = "0.1.0"
