"""The Wasm front end: the binary decoder, the validator, and the module IR both produce and read.

`decode` turns bytes into an `aot.wasm.module.Module`, `validate` checks it
against the spec's typing rules, `opcodes` is the opcode table both share.
Everything after the front end (lowering, emission, headers) reads only the
module IR.
"""
