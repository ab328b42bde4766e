-- wrk script: POST runs/log-metric to the run named by env CAIRN_RUN_ID, each
-- request a new step so every write is a real insert.
local run_id = os.getenv("CAIRN_RUN_ID")
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format(
    '{"run_id":"%s","key":"loss","value":%f,"timestamp":%d,"step":%d}',
    run_id, 1.0 / counter, 1700000000000 + counter, counter)
  return wrk.format(nil, "/api/2.0/mlflow/runs/log-metric", nil, body)
end
