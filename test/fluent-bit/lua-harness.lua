-- Runs a Fluent Bit Lua filter the way filter_lua calls it: one JSON case a line on stdin,
-- {"call": "<function>", "tag": "...", "ts": <seconds>, "record": {...}}; one JSON result a line
-- on stdout, {"code": n, "ts": <seconds>, "record": {...}}. Usage: luajit lua-harness.lua script.lua
local cjson = require("cjson")
cjson.encode_number_precision(14)

dofile(arg[1])

for line in io.lines() do
  local case = cjson.decode(line)
  local fn = _G[case.call]
  if type(fn) ~= "function" then error("no global function " .. tostring(case.call)) end
  local code, ts, record = fn(case.tag, case.ts, case.record)
  io.write(cjson.encode({ code = code, ts = ts, record = record }), "\n")
end
