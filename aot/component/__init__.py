"""Components in the compiler (issue 16): the component decoder and `waft unwrap` live here.

Not built yet: this room is reserved so the layout shows where components
enter the pipeline (decode -> static instantiation -> one core module).
Nothing imports it.
"""
