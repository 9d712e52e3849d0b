# W2r for jq (bench/w2r.lw): delete user.email, rename msg and request_id, merge http, drop flags.
del(.user.email)
| .message = .msg | .trace_id = .request_id
| (.http // {}) as $h
| del(.msg, .request_id, .http, .flags)
| . + $h
