-- wrk script: bench/post_order.lua's order, each request with an Idempotency-Key of its
-- own (so every request is a first one: stored with its order, never a replay). The keys
-- start with this thread's table address and the time, so no two runs share one.
local body = '{"order": [{"product": "latte", "size": "big", "quantity": 2}, {"product": "tea", "size": "small"}]}'
local prefix = tostring({}):gsub("table: ", "") .. "-" .. os.time() .. "-"
local count = 0

function request()
  count = count + 1
  local headers = { ["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. count }
  return wrk.format("POST", nil, headers, body)
end
