-- wrk script: POST /orders with a two-item order.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"order": [{"product": "latte", "size": "big", "quantity": 2}, {"product": "tea", "size": "small"}]}'
