# wasi-threads entry point of a thread that pthread_create spawned: the host
# calls the export `wasi_thread_start(tid, start_arg)` in a new instance that
# shares the memory, with fresh (zero) globals. start_arg is the thread's
# struct __pthread (pthread.c): offset 0 the top of its stack, 4 its TLS block,
# 8 the word that says it is still running.
	.text

	.export_name	wasi_thread_start, wasi_thread_start

	.globaltype	__stack_pointer, i32
	.functype	__wasm_init_tls (i32) -> ()
	.functype	__waft_pthread_start (i32, i32) -> ()

	.hidden	wasi_thread_start
	.globl	wasi_thread_start
	.type	wasi_thread_start,@function

wasi_thread_start:
	.functype	wasi_thread_start (i32, i32) -> ()

	# The C environment: a stack, and this thread's copy of the thread-locals
	# (__wasm_init_tls copies the TLS image there and sets __tls_base).
	local.get	1
	i32.load	0
	global.set	__stack_pointer
	local.get	1
	i32.load	4
	call	__wasm_init_tls

	# The thread's function, its key destructors, its result.
	local.get	0
	local.get	1
	call	__waft_pthread_start

	# Only now is the stack no longer in use: say so, and wake a joiner,
	# which may then free the stack and the TLS block.
	local.get	1
	i32.const	0
	i32.atomic.store	8
	local.get	1
	i32.const	8
	i32.add
	i32.const	-1
	memory.atomic.notify	0
	drop

	end_function
