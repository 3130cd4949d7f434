-- dump_code.lua [CASES]: print the PyTorch (and, where Keras can express
-- the view, the Keras) code of every view of CASES (code_cases.lua when
-- absent; gen_code_kind.py passes kind_cases.lua), for gen_code.py (make
-- golden).  Run from tests/golden:  ../../build/convplay --headless dump_code.lua
local cases = dofile(arg and arg[1] or "code_cases.lua")()
for _, c in ipairs(cases) do
  io.write("@@@@ ", c.desc, "\n", (c.view:code("pytorch")))
  local k, ok = c.view:code("keras")
  io.write("%%%% ", ok and "keras" or "none", "\n", k)
end
