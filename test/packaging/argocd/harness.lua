-- Runs an Argo CD health check the way Argo CD does: the object is the global `obj`, the script
-- is a chunk that returns {status, message}, and only the libraries Argo CD opens for checks set
-- in argocd-cm are there (base, table and a safe os; no string, math, io or debug), so a script
-- that works here does not fail at runtime in Argo CD for want of a library.
--
-- Usage: lua5.1 harness.lua path/to/health.lua < object.lua
--   stdin: `return { ... }`, the object as a Lua table constructor (data only)
-- Prints the status, a newline, then the message; exits 1 with the error on stderr otherwise.

local function fail(message)
  io.stderr:write(tostring(message), "\n")
  os.exit(1)
end

local loadObject, objectError = loadstring(io.read("*a"), "=object")
if loadObject == nil then
  fail(objectError)
end
setfenv(loadObject, {})
local obj = loadObject()

local script, scriptError = loadfile(arg[1])
if script == nil then
  fail(scriptError)
end

local sandbox = {
  obj = obj,
  assert = assert,
  error = error,
  ipairs = ipairs,
  next = next,
  pairs = pairs,
  pcall = pcall,
  select = select,
  tonumber = tonumber,
  tostring = tostring,
  type = type,
  unpack = unpack,
  xpcall = xpcall,
  table = table,
  os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
}
sandbox._G = sandbox
setfenv(script, sandbox)

local write = io.write
-- Without the string library, methods on strings (`s:find(...)`) do not exist either.
getmetatable("").__index = nil

local ok, hs = pcall(script)
if not ok then
  fail(hs)
end
if type(hs) ~= "table" or type(hs.status) ~= "string" then
  fail("the health check returned no table with a status")
end
local message = hs.message
if message == nil then
  message = ""
end
write(hs.status, "\n", tostring(message))
