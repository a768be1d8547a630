"""WIT in the compiler (issue 13): the WIT front end, the canonical ABI and bindgen live here.

Not built yet: this room is reserved so the layout shows where the
extensions' IDL enters the pipeline (WIT text -> resolved types ->
canonical-ABI core signatures -> generated C).  Nothing imports it.
"""
