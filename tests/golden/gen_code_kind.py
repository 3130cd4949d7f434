#!/usr/bin/python3
"""gen_code_kind.py - run the PyTorch code of the views code_cases.lua and
grad_cases.lua leave out (kind_cases.lua: pooling, max_unpool2d, 1-D
convolution, unfold) through PyTorch, and their Keras text through
keras_mock.py, as gen_code.py does for the conv2d views; writes
tests/golden/code_kind_views.lua (out: y; indices: max pooling's
return_indices), checked by tests/lua/test_code_kind.lua.

    make golden      (runs this after gen_code.py)
    /usr/bin/python3 tests/golden/gen_code_kind.py [path/to/convplay]
"""
from gen_code import exe_arg, generate

if __name__ == "__main__":
    generate(exe_arg(), "kind_cases.lua", "code_kind_views.lua")
