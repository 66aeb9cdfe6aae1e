-- Runs an Argo CD health check the way Argo CD does: the object is the global `obj`, the script
-- is a chunk that returns {status, message}, and only the libraries Argo CD opens for checks set
-- in argocd-cm are there (base, table and a safe os; no string, math, io or debug), so a script
-- that works here does not fail at runtime in Argo CD for want of a library.
--
-- Usage: lua5.1 harness.lua path/to/health.lua < object.lua
--        lua5.1 harness.lua path/to/action.lua json < object.lua   (actions and discovery.lua)
--   stdin: `return { ... }`, the object as a Lua table constructor (data only)
-- Prints the status, a newline, then the message, or with `json` what the script returned as
-- JSON (an empty table as {}); exits 1 with the error on stderr otherwise.

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
local format, byte, gsub = string.format, string.byte, string.gsub

local function encode(value)
  local kind = type(value)
  if kind == "nil" then
    return "null"
  elseif kind == "boolean" or kind == "number" then
    return tostring(value)
  elseif kind == "string" then
    local escaped = gsub(value, '[%c"\\]', function(c)
      return format("\\u%04x", byte(c))
    end)
    return '"' .. escaped .. '"'
  elseif kind ~= "table" then
    fail("cannot encode a " .. kind)
  end
  local count, items = 0, {}
  for _ in pairs(value) do
    count = count + 1
  end
  if count > 0 and count == #value then
    for i = 1, #value do
      items[i] = encode(value[i])
    end
    return "[" .. table.concat(items, ",") .. "]"
  end
  for key, item in pairs(value) do
    items[#items + 1] = encode(tostring(key)) .. ":" .. encode(item)
  end
  return "{" .. table.concat(items, ",") .. "}"
end
-- Without the string library, methods on strings (`s:find(...)`) do not exist either.
getmetatable("").__index = nil

local ok, hs = pcall(script)
if not ok then
  fail(hs)
end
if arg[2] == "json" then
  write(encode(hs))
  os.exit(0)
end
if type(hs) ~= "table" or type(hs.status) ~= "string" then
  fail("the health check returned no table with a status")
end
local message = hs.message
if message == nil then
  message = ""
end
write(hs.status, "\n", tostring(message))
