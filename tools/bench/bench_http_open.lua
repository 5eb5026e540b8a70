-- wrk script: durable barrier/open requests of distinct plates, entries and
-- exits. Each wrk thread has its own plates (a thread number and a run tag
-- from the command line: wrk ... -s bench_http_open.lua URL -- TAG).
-- Requests alternate: entry of a fresh plate at gate in-N, then the exit
-- (at gate out-N, so no idempotent retry) of the plate that entered LAG
-- entries earlier; until LAG plates are inside, every request is an entry.
local LAG = 2000
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local tid, tag, k, nentry, nexit = 0, "A", 0, 0, 0
local head = { ["Content-Type"] = "application/json" }

function init(args)
  tid = wrk.thread:get("tid") or 0
  tag = args[1] or "A"
end

local function plate(n)
  return string.format("%s%02d%08d", tag, tid, n)
end

function request()
  local p, edge
  if k % 2 == 1 and nexit + LAG < nentry then
    p, edge = plate(nexit), "out-" .. tid
    nexit = nexit + 1
  else
    p, edge = plate(nentry), "in-" .. tid
    nentry = nentry + 1
  end
  k = k + 1
  local body = '{"edge_id":"' .. edge .. '","plate_id":"' .. p .. '","action":"open"}'
  return wrk.format("POST", nil, head, body)
end
