-- dump_code_grad.lua: print the PyTorch code of every view of
-- grad_cases.lua, for gen_code_grad.py (make golden).  Run from
-- tests/golden:  ../../build/convplay --headless dump_code_grad.lua
local cases = dofile("grad_cases.lua")()
for _, c in ipairs(cases) do
  io.write("@@@@ ", c.desc, "\n", (c.view:code("pytorch")))
end
