;; A command written straight against WASI 0.2 (no preview1 adapter): prints a greeting, then each
;; argument on its own line; run returns err without arguments.  Its strings come back through
;; its own cabi_realloc (a bump allocator), as wasi-libc's p2 target does.
(module
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop (param i32)))
  (import "wasi:cli/environment@0.2.0" "get-arguments" (func $args (param i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "hello from a p2 component\n")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    ;; bump allocator aligned to param 2
    global.get $heap local.get 2 i32.add i32.const 1 i32.sub i32.const 0 local.get 2 i32.sub i32.and local.tee $p
    local.get 3 i32.add global.set $heap local.get $p)
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $out i32) (local $i i32) (local $n i32) (local $list i32)
    call $get_stdout local.set $out
    local.get $out i32.const 16 i32.const 26 i32.const 64 call $write
    ;; echo each argument after the first, one per line
    i32.const 80 call $args
    i32.const 80 i32.load local.set $list
    i32.const 80 i32.load offset=4 local.set $n
    i32.const 1 local.set $i
    block loop
      local.get $i local.get $n i32.ge_u br_if 1
      local.get $out
      local.get $list local.get $i i32.const 8 i32.mul i32.add i32.load
      local.get $list local.get $i i32.const 8 i32.mul i32.add i32.load offset=4
      i32.const 64 call $write
      local.get $out i32.const 41 i32.const 1 i32.const 64 call $write
      local.get $i i32.const 1 i32.add local.set $i
      br 0
    end end
    local.get $out call $drop
    ;; err when there was no argument
    local.get $n i32.const 2 i32.lt_u)
  (data (i32.const 41) "\n")
)
