-- Shardline edge filter for Fluent Bit (filter_lua, LuaJIT 2.1).
--
-- Two entry points, both with Fluent Bit's calling convention
-- `function(tag, timestamp, record) return code, timestamp, record end`
-- (code -1 drops the record, 0 keeps it unchanged, 2 keeps the timestamp and takes the new record):
--
--   shardline_edge        every record: drops health checks, redacts secrets, adds sidecar
--                         metadata, guarantees a request id (derived, so resends keep it).
--   shardline_access_log  nginx / Envoy records from the regex parsers: turns their text fields
--                         into record schema v1 types before shardline_edge sees them.
--
-- Settings come from the environment of the Fluent Bit process, read once at load:
--   SHARDLINE_SERVICE, SHARDLINE_ENVIRONMENT, SHARDLINE_PROJECT_ID  defaults for records without them
--   POD_NAME (else HOSTNAME), NODE_NAME                             where the record was shipped from
--   SHARDLINE_DROP_PATHS   comma-separated paths never shipped (default below; "" ships everything)
--
-- The consumer redacts again (pipeline/enrich/redact.ts): this filter keeps secrets off the wire
-- and out of the Kinesis retention window; the consumer protects against a sidecar that has none.

local bit = require("bit")

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local function split_set(text)
  local set = {}
  for item in string.gmatch(text, "[^,%s]+") do set[item] = true end
  return set
end

local DEFAULT_DROP_PATHS = "/health,/healthz,/livez,/readyz,/ready,/ping"
local drop_paths_text = os.getenv("SHARDLINE_DROP_PATHS")
local DROP_PATHS = split_set(drop_paths_text == nil and DEFAULT_DROP_PATHS or drop_paths_text)
local SERVICE = env("SHARDLINE_SERVICE")
local ENVIRONMENT = env("SHARDLINE_ENVIRONMENT")
local PROJECT_ID = env("SHARDLINE_PROJECT_ID")
local POD = env("POD_NAME") or env("HOSTNAME")
local NODE = env("NODE_NAME")

local REDACTED = "[REDACTED]"
local QUERY_REDACTED = "REDACTED"

---------------------------------------------------------------------------------------------------
-- Which names hold secrets. Same rules as the consumer's secret-names.ts, in Lua patterns
-- (which have no alternation, hence the lists).

local SECRET_HEADER_PARTS = {
  "authorization", "cookie", "token", "secret", "password", "passwd", "api-key", "api_key", "apikey",
  "session", "signature", "credential", "private-key", "private_key", "privatekey",
}

local function is_secret_header(lower)
  for _, part in ipairs(SECRET_HEADER_PARTS) do
    if string.find(lower, part, 1, true) then return true end
  end
  return false
end

-- Compared after lower-casing and removing "-", "_", "." and brackets: x-api-key -> xapikey.
local SECRET_FIELD_EXACT = {
  pwd = true, pass = true, auth = true, cookie = true, session = true, sessionid = true, sid = true,
  sig = true, jwt = true, otp = true, cvv = true, cvv2 = true, cvc = true, card = true,
  cardnumber = true, ccnumber = true, ssn = true, pin = true,
}
local SECRET_FIELD_PARTS = {
  "secret", "password", "passwd", "credential", "privatekey", "apikey", "signature", "authorization",
  "cookie",
}
-- Secrets only in URLs: OAuth's `code`, Google-style `key`.
local SECRET_QUERY_EXACT = { code = true, key = true, accesskey = true }

local function squash(name)
  return (string.gsub(string.lower(name), "[%-_%.%[%]]", ""))
end

local function is_secret_field(name, in_query)
  local n = squash(name)
  if SECRET_FIELD_EXACT[n] or (in_query and SECRET_QUERY_EXACT[n]) then return true end
  if string.sub(n, -5) == "token" then return true end
  for _, part in ipairs(SECRET_FIELD_PARTS) do
    if string.find(n, part, 1, true) then return true end
  end
  return false
end

---------------------------------------------------------------------------------------------------
-- Secrets found by their shape in free text.

local function luhn_valid(digits)
  local sum, double = 0, false
  for i = #digits, 1, -1 do
    local d = string.byte(digits, i) - 48
    if double then
      d = d * 2
      if d > 9 then d = d - 9 end
    end
    sum = sum + d
    double = not double
  end
  return sum % 10 == 0
end

-- Card numbers: 13-19 digits (spaces or dashes allowed between them) starting like a card
-- network's number (2-6), passing Luhn, not glued to a word or a decimal point. Epoch timestamps
-- start with 1 and are left alone.
local function redact_cards(text)
  if not string.find(text, "%d%d%d%d%d%d%d%d%d%d%d%d%d") and not string.find(text, "%d%d%d%d[ %-]%d") then
    return text
  end
  local out, pos, changed = {}, 1, false
  while true do
    local s, e = string.find(text, "[2-6]%d[%d %-]*%d", pos)
    if s == nil then break end
    local before = s > 1 and string.sub(text, s - 1, s - 1) or ""
    local after = string.sub(text, e + 1, e + 1)
    local replaced = false
    if not string.find(before, "[%w%._]") and not string.find(after, "[%w_]") then
      local run = string.sub(text, s, e)
      local digits, ends = {}, {}
      for i = 1, #run do
        local c = string.sub(run, i, i)
        if string.find(c, "%d") then
          digits[#digits + 1] = c
          ends[#digits] = i
        end
      end
      local all = table.concat(digits)
      for n = math.min(#all, 19), 13, -1 do
        if luhn_valid(string.sub(all, 1, n)) then
          out[#out + 1] = string.sub(text, pos, s - 1) .. "[REDACTED:card]"
          pos = s + ends[n]
          replaced, changed = true, true
          break
        end
      end
    end
    if not replaced then
      out[#out + 1] = string.sub(text, pos, e)
      pos = e + 1
    end
  end
  if not changed then return text end
  out[#out + 1] = string.sub(text, pos)
  return table.concat(out)
end

local function redact_shapes(text)
  local t = text
  t = string.gsub(t, "eyJ[%w_%-]+%.eyJ[%w_%-]+%.[%w_%-]*", "[REDACTED:jwt]")
  t = string.gsub(t, "([Bb]earer)(%s+)[%w%-%._~%+/]+=*", "%1%2[REDACTED]")
  t = string.gsub(t, "(Basic)(%s+)([%w%+/]+=?=?)", function(scheme, space, credential)
    if #credential < 8 then return nil end
    return scheme .. space .. "[REDACTED]"
  end)
  t = string.gsub(t, "%f[%w](A[KS]IA[0-9A-Z]+)", function(id)
    if #id == 20 then return "[REDACTED:aws_key]" end
    return id
  end)
  t = string.gsub(t, "%f[%w][sr]k_live_[%w]+", "[REDACTED:api_key]")
  t = string.gsub(t, "%f[%w]gh[pousr]_[%w]+", "[REDACTED:api_key]")
  t = string.gsub(t, "(://[^%s:@/%?#]+:)[^%s@/%?#]+@", "%1[REDACTED]@")
  return redact_cards(t)
end

---------------------------------------------------------------------------------------------------
-- Structured places: query strings, JSON and form bodies, headers.

-- `params` (a query string without "?", or a form body) with secret parameter values replaced.
local function redact_params(params)
  return (string.gsub(params, "([^&=;]+)=([^&;]*)", function(name, value)
    if value ~= "" and value ~= QUERY_REDACTED and is_secret_field(name, true) then
      return name .. "=" .. QUERY_REDACTED
    end
    return nil
  end))
end

local function redact_path(path)
  local q = string.find(path, "?", 1, true)
  if q == nil then return redact_shapes(path) end
  return redact_shapes(string.sub(path, 1, q)) .. redact_params(string.sub(path, q + 1))
end

-- Position just after the closing quote of the JSON string whose opening quote is at `open`.
local function json_string_end(text, open)
  local i = open + 1
  while true do
    local c = string.find(text, '["\\]', i)
    if c == nil then return nil end
    if string.sub(text, c, c) == '"' then return c + 1 end
    i = c + 2
  end
end

-- JSON text (or anything that looks like it) with the string values of secret keys replaced.
local function redact_json_fields(text)
  local out, pos, i, changed = {}, 1, 1, false
  while true do
    local open = string.find(text, '"', i, true)
    if open == nil then break end
    local close = json_string_end(text, open)
    if close == nil then break end
    local colon = string.match(text, "^%s*:%s*()", close)
    if colon ~= nil and string.sub(text, colon, colon) == '"'
      and is_secret_field(string.sub(text, open + 1, close - 2), false) then
      local value_end = json_string_end(text, colon)
      if value_end == nil then break end
      if string.sub(text, colon, value_end - 1) ~= '"' .. REDACTED .. '"' then
        out[#out + 1] = string.sub(text, pos, colon - 1) .. '"' .. REDACTED .. '"'
        pos, changed = value_end, true
      end
      i = value_end
    else
      i = close
    end
  end
  if not changed then return text end
  out[#out + 1] = string.sub(text, pos)
  return table.concat(out)
end

local function redact_body(body)
  local first = string.match(body, "^%s*(.)")
  local t = body
  if first == "{" or first == "[" then
    t = redact_json_fields(t)
  elseif string.find(t, "^[^%s=&]+=[^%s]*$") then
    t = redact_params(t)
  end
  return redact_shapes(t)
end

local function redact_value(value)
  if type(value) == "string" then return redact_shapes(value) end
  if type(value) == "table" then
    for k, v in pairs(value) do
      if type(v) == "string" then value[k] = redact_shapes(v) end
    end
  end
  return value
end

local function redact_headers(headers)
  for name, value in pairs(headers) do
    if type(name) == "string" and is_secret_header(string.lower(name)) then
      if value ~= REDACTED then headers[name] = REDACTED end
    else
      headers[name] = redact_value(value)
    end
  end
end

local function redact_query_table(query)
  for name, value in pairs(query) do
    if type(name) == "string" and is_secret_field(name, true) then
      if value ~= QUERY_REDACTED then query[name] = QUERY_REDACTED end
    else
      query[name] = redact_value(value)
    end
  end
end

-- Redacts `record` in place. Compares serialisable fields before and after, so that the caller
-- can tell Fluent Bit whether the record changed.
local function redact(record)
  if type(record.path) == "string" then record.path = redact_path(record.path) end
  if type(record.query) == "string" then
    record.query = redact_params((string.gsub(record.query, "^%?", "")))
  elseif type(record.query) == "table" then
    redact_query_table(record.query)
  end
  if type(record.headers) == "table" then redact_headers(record.headers) end
  if type(record.request_body) == "string" then record.request_body = redact_body(record.request_body) end
  if type(record.response_body) == "string" then record.response_body = redact_body(record.response_body) end
  if type(record.user_agent) == "string" then record.user_agent = redact_shapes(record.user_agent) end
  if type(record.log) == "string" then record.log = redact_body(record.log) end
end

---------------------------------------------------------------------------------------------------
-- Request ids.

-- FNV-1a over `text` from `seed`, 32 bits; two seeds give 64 bits of a stable digest.
-- The prime 16777619 is 2^24 + 403: multiplying in two parts keeps every product exact in a
-- double (a plain h * prime exceeds 2^53 and would round away the low bits).
local function fnv1a(text, seed)
  local h = seed
  for i = 1, #text do
    h = bit.bxor(h, string.byte(text, i))
    h = bit.tobit(bit.lshift(h, 24) + h * 403)
  end
  return bit.tohex(h)
end

local function header_request_id(headers)
  if type(headers) ~= "table" then return nil end
  for name, value in pairs(headers) do
    if type(name) == "string" and string.lower(name) == "x-request-id" and type(value) == "string" and value ~= "" then
      return value
    end
  end
  return nil
end

-- The record's fields in a fixed order (sorted keys, nested tables included), for hashing.
local function canonical(value, out)
  if type(value) ~= "table" then
    out[#out + 1] = type(value) .. ":" .. tostring(value)
    return
  end
  local keys = {}
  for k in pairs(value) do
    if k ~= "request_id" and k ~= "_file" and k ~= "_offset" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  out[#out + 1] = "{"
  for _, k in ipairs(keys) do
    out[#out + 1] = tostring(k) .. "="
    canonical(value[k], out)
    out[#out + 1] = ";"
  end
  out[#out + 1] = "}"
end

-- Ids are derived, never random, so that every way a record can be sent twice yields the same
-- id and the consumer drops the copy:
--   * Fluent Bit's whole-chunk resends: this filter runs before the record is buffered, so the
--     chunk already holds the id;
--   * a tailed line read again (Fluent Bit stopped before its offset database was written): the
--     id comes from the file and offset (tail's path_key / offset_key) plus the request's time,
--     method and path, which a re-read reproduces; identical lines at other offsets stay distinct;
--   * a forward or HTTP client sending a record again: the id is a digest of the whole record,
--     as the consumer's own fallback for lines without an id (identical records are one request).
local function new_request_id(record)
  local key
  if record._offset ~= nil and record._file ~= nil then
    key = table.concat({ POD or "", tostring(record._file), tostring(record._offset),
      tostring(record.timestamp or ""), tostring(record.method or ""), tostring(record.path or "") }, "|")
  else
    local parts = {}
    canonical(record, parts)
    key = table.concat(parts)
  end
  return "fb-" .. fnv1a(key, -2128831035) .. fnv1a(key, 1099511628)
end

---------------------------------------------------------------------------------------------------
-- Entry points.

local function path_only(path)
  local q = string.find(path, "?", 1, true)
  local p = q and string.sub(path, 1, q - 1) or path
  if #p > 1 and string.sub(p, -1) == "/" then p = string.sub(p, 1, -2) end
  return p
end

-- A cheap fingerprint of the fields redaction may touch, to report "unchanged" (code 0) honestly.
local function fingerprint(record)
  local parts = { tostring(record.path), tostring(record.query), tostring(record.request_body),
    tostring(record.response_body), tostring(record.user_agent), tostring(record.log) }
  for _, t in ipairs({ record.headers, type(record.query) == "table" and record.query or nil }) do
    if type(t) == "table" then
      for k, v in pairs(t) do
        parts[#parts + 1] = tostring(k) .. "=" .. tostring(v)
        if type(v) == "table" then
          for _, item in pairs(v) do parts[#parts + 1] = tostring(item) end
        end
      end
    end
  end
  return table.concat(parts, "\0")
end

function shardline_edge(tag, timestamp, record)
  if type(record.path) == "string" and DROP_PATHS[path_only(record.path)] then
    return -1, timestamp, record
  end
  local before = fingerprint(record)
  redact(record)
  local changed = fingerprint(record) ~= before

  local function default(key, value)
    if value ~= nil and (record[key] == nil or record[key] == "") then
      record[key] = value
      changed = true
    end
  end
  default("project_id", PROJECT_ID)
  default("service", SERVICE)
  default("environment", ENVIRONMENT)
  default("pod_name", POD)
  default("node_name", NODE)

  local id = record.request_id
  if (type(id) ~= "string" or id == "") and header_request_id(record.headers) == nil then
    record.request_id = new_request_id(record)
    changed = true
  end
  if record._offset ~= nil or record._file ~= nil then
    record._offset, record._file = nil, nil
    changed = true
  end
  if changed then return 2, timestamp, record end
  return 0, timestamp, record
end

local ACCESS_LOG_TEXT_FIELDS = { "ip", "user_agent", "request_id", "protocol", "referer", "authority", "upstream" }

-- nginx / Envoy lines parsed by parsers.yaml: "-" means absent, durations become milliseconds,
-- the first X-Forwarded-For address is the client, the time comes from the log line.
function shardline_access_log(tag, timestamp, record)
  for _, key in ipairs(ACCESS_LOG_TEXT_FIELDS) do
    if record[key] == "-" or record[key] == "" then record[key] = nil end
  end
  for _, key in ipairs({ "bytes_in", "bytes_out", "latency_ms" }) do
    if type(record[key]) ~= "number" then record[key] = nil end
  end
  if type(record.request_time_s) == "number" then
    record.latency_ms = math.floor(record.request_time_s * 1e6 + 0.5) / 1e3
  end
  record.request_time_s = nil
  if type(record.ip) == "string" then
    record.ip = string.match(record.ip, "^%s*([^,%s]+)")
  end
  if type(record.authority) == "string" then
    record.headers = type(record.headers) == "table" and record.headers or {}
    record.headers.host = record.authority
  end
  record.authority, record.upstream, record.referer = nil, nil, nil
  if record.timestamp == nil and type(timestamp) == "number" then
    local seconds = math.floor(timestamp)
    local millis = math.floor((timestamp - seconds) * 1000 + 0.5)
    if millis >= 1000 then seconds, millis = seconds + 1, 0 end
    record.timestamp = os.date("!%Y-%m-%dT%H:%M:%S", seconds) .. string.format(".%03dZ", millis)
  end
  return 2, timestamp, record
end
