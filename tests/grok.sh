#!/bin/sh
# Grok pattern libraries: (1) every definition of every file of ../shared/grok/legacy and
# ../shared/grok/ecs-v1 (logstash-patterns-core, kept outside the repository) and of logwash's
# own patterns/ compiles; (2) spot checks of named patterns, from logwash's own set and the
# shared libraries, against hand-written lines whose expected fields were checked by eye, and
# values each pattern must reject (the negative checks run on our set always).
# The shared part is skipped on a clone without ../shared/grok, and the summary line says so
# (how many spot checks did not run): it is the only test that depends on ../shared. SHOW=1 prints what each spot check produced.
# Usage: tests/grok.sh BIN
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared/grok
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
skipped=0
bad() {
    fail=$((fail + 1))
    echo "FAIL $*"
}

# compile_all DIR: for each file F of DIR, a template with grok(line, '%{NAME}') for every name
# F defines, compiled (--check) with all of DIR loaded and F loaded last, so F's own definition
# of a name defined twice (legacy MCOLLECTIVEAUDIT) is the one compiled.
compile_all() {
    dir=$1
    n=0
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        rm -rf "$tmp/lib" && mkdir "$tmp/lib"
        for g in "$dir"/*; do [ "$g" = "$f" ] || cp "$g" "$tmp/lib/"; done
        cp "$f" "$tmp/lib/~last"
        awk '!/^[ \t]*(#|$)/ { print "emit grok(line, '"'"'%{" $1 "}'"'"')" }' "$f" > "$tmp/all.lw"
        k=$(wc -l < "$tmp/all.lw")
        [ "$k" -gt 0 ] || continue
        if "$bin" --patterns "$tmp/lib" --check -f "$tmp/all.lw" 2> "$tmp/err"; then
            pass=$((pass + 1))
            n=$((n + k))
        else
            bad "$f: a definition does not compile:"
            head -3 "$tmp/err"
        fi
    done
    echo "grok: $dir: $n definitions compiled"
}

# spot SET 'GROK' 'LINE' 'EXPECTED JSON': SET is builtin, legacy or ecs-v1.
spot() {
    set_=$1
    popt=
    if [ "$set_" != builtin ]; then
        if [ ! -d "$shared" ]; then
            skipped=$((skipped + 1))
            return 0
        fi
        popt="--patterns $shared/$set_"
    fi
    # shellcheck disable=SC2086
    got=$(printf '%s\n' "$3" | "$bin" -q $popt -e "emit grok(line, '$2') ?? null" 2>&1)
    if [ "${SHOW:-0}" = 1 ]; then printf '%s %s\n  %s\n' "$set_" "$2" "$got"; fi
    if [ "$got" = "$4" ]; then
        pass=$((pass + 1))
    else
        bad "$set_ $2: got $got, expected $4"
    fi
}

# logwash's own set: every definition compiles, and so does the library in ../shared.
compile_all "$root/patterns"
if [ -d "$shared" ]; then
    compile_all "$shared/legacy"
    compile_all "$shared/ecs-v1"
else
    echo "grok: shared libraries skipped: ../shared/grok not found"
fi

# Spot checks, logwash's own patterns.
spot builtin '%{INT:m}' 'x -42y' '{"m":"-42"}'
spot builtin '%{NUMBER:m}' 'took 3.25s' '{"m":"3.25"}'
spot builtin '%{BASE10NUM:m:float}' 'v=+.5' '{"m":0.5}'
spot builtin '%{POSINT:m}' 'a 0 17' '{"m":"17"}'
spot builtin '%{NONNEGINT:m}' 'a 0 17' '{"m":"0"}'
spot builtin '%{WORD:m}' '  hello, world' '{"m":"hello"}'
spot builtin '%{NOTSPACE:m}' '  a=b,c d' '{"m":"a=b,c"}'
spot builtin '%{QUOTEDSTRING:m}' 'say "he said \"hi\"" now' '{"m":"\"he said \\\"hi\\\"\""}'
spot builtin '%{UUID:m}' 'id 123e4567-e89b-12d3-a456-426614174000.' '{"m":"123e4567-e89b-12d3-a456-426614174000"}'
spot builtin '^%{IPV4:m}$' '192.168.0.255' '{"m":"192.168.0.255"}'
spot builtin '^%{IPV4:m}$' '192.168.0.256' 'null'
spot builtin '^%{IPV6:m}$' 'fe80::1ff:fe23:4567:890a' '{"m":"fe80::1ff:fe23:4567:890a"}'
spot builtin '^%{IPV6:m}$' '::ffff:192.0.2.128' '{"m":"::ffff:192.0.2.128"}'
spot builtin '^%{IP:m}$' '2001:db8:0:0:0:0:2:1' '{"m":"2001:db8:0:0:0:0:2:1"}'
spot builtin '^%{HOSTNAME:m}$' 'api-1.eu.example.com' '{"m":"api-1.eu.example.com"}'
spot builtin '^%{HOSTPORT:m}$' 'db.local:5432' '{"m":"db.local:5432"}'
spot builtin '%{MAC:m}' 'hw 00:1A:2b:3C:4d:5E up' '{"m":"00:1A:2b:3C:4d:5E"}'
spot builtin '%{UNIXPATH:m}' 'open /var/log/nginx/access.log failed' '{"m":"/var/log/nginx/access.log"}'
spot builtin '^%{WINPATH:m}$' 'C:\Windows\System32\drivers' '{"m":"C:\\Windows\\System32\\drivers"}'
spot builtin '^%{URI:m}$' 'https://user@example.com:8443/a/b?x=1&y=2' '{"m":"https://user@example.com:8443/a/b?x=1&y=2"}'
spot builtin '^%{URIPATHPARAM:m}$' '/search?q=grok&page=2' '{"m":"/search?q=grok&page=2"}'
spot builtin '^%{HTTPDATE:m}$' '23/Nov/2026:10:15:32 +0100' '{"m":"23/Nov/2026:10:15:32 +0100"}'
spot builtin '^%{TIMESTAMP_ISO8601:m}$' '2026-11-23T10:15:32.123+01:00' '{"m":"2026-11-23T10:15:32.123+01:00"}'
spot builtin '^%{DATESTAMP:m}$' '11/23/2026 10:15:32' '{"m":"11/23/2026 10:15:32"}'
spot builtin '^%{SYSLOGTIMESTAMP:m}$' 'Nov  3 04:05:06' '{"m":"Nov  3 04:05:06"}'
spot builtin '%{LOGLEVEL:m}' '[WARNING] disk' '{"m":"WARNING"}'
spot builtin '^%{EMAILADDRESS:m}$' 'first.last+tag@mail.example.org' '{"m":"first.last+tag@mail.example.org"}'
spot builtin '%{SYSLOGLINE}' 'Nov 23 10:00:01 web1 sshd[4242]: Accepted publickey for bob' '{"timestamp":"Nov 23 10:00:01","logsource":"web1","program":"sshd","pid":"4242","message":"Accepted publickey for bob"}'
spot builtin '%{SYSLOG5424LINE}' '<34>1 2026-11-23T10:00:01Z host1 app 77 ID47 - started' '{"syslog_pri":"34","syslog_ver":"1","syslog_timestamp":"2026-11-23T10:00:01Z","syslog_host":"host1","syslog_app":"app","syslog_proc":"77","syslog_msgid":"ID47","syslog_msg":"started"}'
spot builtin '%{COMMONAPACHELOG}' '127.0.0.1 - - [23/Nov/2026:10:15:32 +0000] "GET /x HTTP/1.1" 404 0' '{"clientip":"127.0.0.1","ident":"-","auth":"-","timestamp":"23/Nov/2026:10:15:32 +0000","verb":"GET","request":"/x","httpversion":"1.1","response":"404","bytes":"0"}'
spot builtin '%{HTTPD_ERRORLOG}' '[Mon Nov 23 10:15:32.123456 2026] [core:error] [pid 1234:tid 5678] [client 10.0.0.2:51234] AH00126: Invalid URI in request' '{"timestamp":"Mon Nov 23 10:15:32.123456 2026","module":"core","loglevel":"error","pid":"1234","tid":"5678","clientip":"10.0.0.2","clientport":"51234","errorcode":"AH00126","message":"Invalid URI in request"}'
spot builtin '%{HTTPD_ERRORLOG}' '[Mon Nov 23 10:15:32 2026] [error] [client 10.0.0.2] File does not exist: /srv/x' '{"timestamp":"Mon Nov 23 10:15:32 2026","loglevel":"error","clientip":"10.0.0.2","message":"File does not exist: /srv/x"}'
spot builtin '%{NGINX_ERRORLOG}' '2026/11/23 10:15:32 [error] 1234#0: *56 open() "/srv/x" failed (2: No such file or directory), client: 10.0.0.2, server: example.com, request: "GET /x HTTP/1.1", host: "example.com"' '{"timestamp":"2026/11/23 10:15:32","loglevel":"error","pid":"1234","tid":"0","connection":"56","message":"open() \"/srv/x\" failed (2: No such file or directory)","clientip":"10.0.0.2","server":"example.com","verb":"GET","request":"/x","httpversion":"1.1","host":"example.com"}'

# Negative spot checks: values a named pattern must reject, anchored so that no part of the
# line can match instead. reject SETS 'PATTERN' 'LINE': SETS is "all" (logwash's own set and,
# when present, legacy and ecs-v1: the same behaviour everywhere) or "builtin" (where our set
# is stricter than logstash-patterns-core, which accepts the value).
reject() {
    sets=$1
    [ "$sets" = all ] && sets="builtin legacy ecs-v1"
    for s in $sets; do spot "$s" "^%{$2:m}\$" "$3" 'null'; done
}
label63=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
reject all IPV4 '256.1.1.1'
reject all IPV4 '1.2.3'
reject all IPV4 '1.2.3.4.5'
reject all IP '1.2.3.256'
reject all IPV6 ':::'
reject all IPV6 '1::2::3'
reject all IPV6 '12345::1'
reject all IPV6 '1:2:3:4:5:6:7:8:9'
reject all IPV6 '::ffff:1.2.3.256'
reject all HOSTNAME 'my_host.example.com'
reject all HOSTNAME '-web.example.com'
reject all HOSTNAME "${label63}a.example.com"
reject all NUMBER 'abc'
reject all NUMBER '1.2.3'
reject all NUMBER '1.'
reject all INT '1.5'
reject all POSINT '0'
reject all NONNEGINT '-3'
reject all UUID '123e4567-e89b-12d3-a456-42661417400'
reject all UUID '123e4567-e89b-12d3-a456-4266141740000'
reject all MAC '00:1A:2b:3C:4d'
reject all MAC '00:1A:2b:3C:4d:5E:6f'
reject all MAC '00:1A-2b:3C:4d:5E'
reject all HTTPDATE '23/Foo/2026:10:15:32 +0100'
reject all HTTPDATE '32/Nov/2026:10:15:32 +0100'
reject all TIMESTAMP_ISO8601 '2026-13-23T10:15:32Z'
reject all TIMESTAMP_ISO8601 '2026-00-23T10:15:32Z'
reject all TIMESTAMP_ISO8601 '2026-11-32T10:15:32Z'
reject all TIMESTAMP_ISO8601 '2026-11-23T25:15:32Z'
reject all TIME '12:60:00'
reject all SYSLOGTIMESTAMP 'Nov 33 04:05:06'
reject all EMAILADDRESS 'a@@b.com'
reject all URI 'http//example.com'
reject all LOGLEVEL 'VERBOSE'
reject builtin IPV4 '01.2.3.4'
reject builtin HOSTNAME 'web-.example.com'
reject builtin EMAILADDRESS 'a.@b.com'
# ... and the longest values they must still accept
spot builtin '^%{HOSTNAME:m}$' "$label63.com" "{\"m\":\"$label63.com\"}"
spot builtin '^%{NUMBER:m}$' '-0.5' '{"m":"-0.5"}'
spot builtin '%{NUMBER:m}' 'took 3.' '{"m":"3"}'

# Spot checks, the shared libraries (legacy and ECS field names).
combined='198.51.100.7 - - [23/Nov/2026:10:15:32 +0000] "GET /index.html HTTP/1.1" 200 1043 "https://example.com/" "Mozilla/5.0"'
spot legacy '%{COMBINEDAPACHELOG}' "$combined" '{"clientip":"198.51.100.7","ident":"-","auth":"-","timestamp":"23/Nov/2026:10:15:32 +0000","verb":"GET","request":"/index.html","httpversion":"1.1","response":"200","bytes":"1043","referrer":"\"https://example.com/\"","agent":"\"Mozilla/5.0\""}'
spot ecs-v1 '%{COMBINEDAPACHELOG}' "$combined" '{"source":{"address":"198.51.100.7"},"timestamp":"23/Nov/2026:10:15:32 +0000","http":{"request":{"method":"GET","referrer":"https://example.com/"},"version":"1.1","response":{"status_code":200,"body":{"bytes":1043}}},"url":{"original":"/index.html"},"user_agent":{"original":"Mozilla/5.0"}}'
syslog='Nov 23 10:00:01 web1 cron[77]: job done'
spot legacy '%{SYSLOGLINE}' "$syslog" '{"timestamp":"Nov 23 10:00:01","logsource":"web1","program":"cron","pid":"77","message":"job done"}'
spot ecs-v1 '%{SYSLOGLINE}' "$syslog" '{"timestamp":"Nov 23 10:00:01","host":{"hostname":"web1"},"process":{"name":"cron","pid":77},"message":"job done"}'
haproxy='Nov 23 10:00:01 lb1 haproxy[321]: 203.0.113.5:40000 [23/Nov/2026:10:00:01.123] fe_http be_app/srv1 1/0/2/15/18 200 512 - - ---- 3/3/1/1/0 0/0 "GET /health HTTP/1.1"'
spot legacy '%{HAPROXYHTTP}' "$haproxy" '{"syslog_timestamp":"Nov 23 10:00:01","syslog_server":"lb1","program":"haproxy","pid":"321","client_ip":"203.0.113.5","client_port":"40000","accept_date":"23/Nov/2026:10:00:01.123","haproxy_monthday":"23","haproxy_month":"Nov","haproxy_year":"2026","haproxy_time":"10:00:01","haproxy_hour":"10","haproxy_minute":"00","haproxy_second":"01","haproxy_milliseconds":"123","frontend_name":"fe_http","backend_name":"be_app","server_name":"srv1","time_request":"1","time_queue":"0","time_backend_connect":"2","time_backend_response":"15","time_duration":"18","http_status_code":"200","bytes_read":"512","captured_request_cookie":"-","captured_response_cookie":"-","termination_state":"----","actconn":"3","feconn":"3","beconn":"1","srvconn":"1","retries":"0","srv_queue":"0","backend_queue":"0","http_verb":"GET","http_request":"/health","http_version":"1.1"}'
spot ecs-v1 '%{HAPROXYHTTP}' "$haproxy" '{"timestamp":"Nov 23 10:00:01","host":{"hostname":"lb1"},"process":{"name":"haproxy","pid":321},"source":{"address":"203.0.113.5","port":40000,"bytes":512},"haproxy":{"request_date":"23/Nov/2026:10:00:01.123","frontend_name":"fe_http","backend_name":"be_app","server_name":"srv1","http":{"request":{"time_wait_ms":1,"time_wait_without_data_ms":15}},"total_waiting_time_ms":0,"connection_wait_time_ms":2,"total_time_ms":"18","termination_state":"----","connections":{"active":3,"frontend":3,"backend":1,"server":1,"retries":0},"server_queue":0,"backend_queue":0},"http":{"response":{"status_code":200},"request":{"method":"GET"},"version":"1.1"},"url":{"original":"/health","path":"/health"}}'
elb='2026-11-23T10:00:01.123456Z my-elb 192.0.2.10:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1"'
spot legacy '%{ELB_ACCESS_LOG}' "$elb" '{"timestamp":"2026-11-23T10:00:01.123456Z","elb":"my-elb","clientip":"192.0.2.10","clientport":2817,"backendip":"10.0.0.1","backendport":80,"request_processing_time":7.3e-05,"backend_processing_time":0.001048,"response_processing_time":5.7e-05,"response":200,"backend_response":200,"received_bytes":0,"bytes":29,"verb":"GET","request":"http://www.example.com:80/","proto":"http","urihost":"www.example.com:80","port":"80","path":"/","httpversion":"1.1"}'
spot ecs-v1 '%{ELB_ACCESS_LOG}' "$elb" '{"timestamp":"2026-11-23T10:00:01.123456Z","aws":{"elb":{"name":"my-elb","backend":{"ip":"10.0.0.1","port":80,"http":{"response":{"status_code":200}}},"request_processing_time":{"sec":7.3e-05},"backend_processing_time":{"sec":0.001048},"response_processing_time":{"sec":5.7e-05}}},"source":{"ip":"192.0.2.10","port":2817},"http":{"response":{"status_code":200,"body":{"bytes":29}},"request":{"body":{"bytes":0},"method":"GET"},"version":"1.1"},"url":{"original":"http://www.example.com:80/","scheme":"http","domain":"www.example.com","port":80,"path":"/"}}'
java='    at com.example.app.Main.run(Main.java:42)'
spot legacy '%{JAVASTACKTRACEPART}' "$java" '{"class":"com.example.app.Main","method":"run","file":"Main.java","line":"42"}'
spot ecs-v1 '%{JAVASTACKTRACEPART}' "$java" '{"java":{"log":{"origin":{"class":{"name":"com.example.app.Main"}}}},"log":{"origin":{"function":"run","file":{"name":"Main.java","line":42}}}}'
spot legacy '^%{RUUID:m}$' '0123456789abcdefABCDEF0123456789' '{"m":"0123456789abcdefABCDEF0123456789"}'
spot legacy '^%{UNIXPATH:m}$' '/usr/local/bin/my-tool_2.sh' '{"m":"/usr/local/bin/my-tool_2.sh"}'
# ECS patterns capture intermediate values under [@metadata]: grok() leaves them out
spot ecs-v1 '%{CISCOFW106023}' 'Deny tcp src outside:192.0.2.1/5000 dst inside:10.0.0.1/80 by access-group "acl_out" [0x1a2b, 0x0]' '{"cisco":{"asa":{"outcome":"Deny","network":{"transport":"tcp"},"rule_name":"acl_out"}},"observer":{"ingress":{"interface":{"name":"outside"}},"egress":{"interface":{"name":"inside"}}},"source":{"ip":"192.0.2.1","port":5000},"destination":{"ip":"10.0.0.1","port":80}}'
spot ecs-v1 '%{RAILS3HEAD}' 'Started GET "/users/1?x=2" for 10.1.1.1 at 2026-11-23 10:00:01 +0000' '{"http":{"request":{"method":"GET"}},"url":{"original":"/users/1?x=2"},"source":{"address":"10.1.1.1"},"timestamp":"2026-11-23 10:00:01 +0000"}'

# the committed index of the standard library's names (the "unknown grok pattern" hint) is what
# tools/grok-std-index.sh makes of ../shared/grok now
if [ -d "$shared" ]; then
    if sh "$root/tools/grok-std-index.sh" "$shared" | cmp -s - "$root/src/lib/grok_std.def"; then
        pass=$((pass + 1))
    else
        bad "src/lib/grok_std.def is not what tools/grok-std-index.sh makes of $shared"
    fi
fi
# Logstash's reference grammar: text after the field up to '}' is ignored (in a library
# silently, in a template with a warning: -q here), so the ECS proxy error and client are kept
proxy='[Mon Nov 23 10:15:32.123456 2026] [proxy_http:error] [pid 1234:tid 5678] (70007)The timeout specified has expired: [client 10.0.0.2:51234] AH01102: error reading status line from remote server 127.0.0.1:8080'
spot ecs-v1 '%{HTTPD_ERRORLOG}' "$proxy" '{"timestamp":"Mon Nov 23 10:15:32.123456 2026","apache":{"error":{"module":"proxy_http","proxy":{"error":{"code":"70007","message":"The timeout specified has expired"}}}},"log":{"level":"error"},"process":{"pid":1234,"thread":{"id":5678}},"source":{"address":"10.0.0.2","port":51234},"error":{"code":"AH01102"},"message":"error reading status line from remote server 127.0.0.1:8080"}'
spot ecs-v1 '%{CISCOFW302013_302014_302015_302016}' 'Teardown TCP connection 1234 for outside:192.0.2.1/5000(LOCAL\bob) to inside:10.0.0.1/80 duration 0:00:01 bytes 100 TCP FINs' '{"cisco":{"asa":{"outcome":"Teardown","network":{"transport":"TCP"},"connection_id":"1234","duration":"0:00:01"}},"observer":{"ingress":{"interface":{"name":"outside"}},"egress":{"interface":{"name":"inside"}}},"source":{"ip":"192.0.2.1","port":5000,"user":{"name":"LOCAL\\bob"}},"destination":{"ip":"10.0.0.1","port":80},"network":{"bytes":100},"event":{"reason":"TCP FINs"}}'
spot legacy '%{NAGIOSLOGLINE - CURRENT HOST STATE}' '[1427925600] CURRENT HOST STATE: nagioshost;UP;HARD;1;PING OK - Packet loss = 0%, RTA = 2.24 ms' '{"nagios_epoch":"1427925600","nagios_type":"CURRENT HOST STATE","nagios_hostname":"nagioshost","nagios_state":"UP","nagios_statetype":"HARD","nagios_statecode":"1","nagios_message":"PING OK - Packet loss = 0%, RTA = 2.24 ms"}'
# POSIX classes are Unicode-aware, \w stays ASCII (Oniguruma on UTF-8, as Logstash)
spot legacy '^%{UNIXPATH:m}$' '/srv/café/x.log' '{"m":"/srv/café/x.log"}'
spot builtin '^%{WORD:m}' 'café' '{"m":"caf"}'
# the longest pattern of the standard library passes the default --regex-match-limit
bro=$(printf '1333458850.375568\tFZ7lDn1GWCwqE1uk07\t192.168.100.1\t10.0.0.5\tCLxbxt4w1vzhxBsvJ2\tHTTP\t0\tMD5,SHA1\ttext/html\t-\t0.000108\t-\tF\t102\t102\t0\t0\tF\t-\t1a5c7e6f\t0c1d2e3f\t-\t-')
spot legacy '%{BRO_FILES}' "$bro" '{"ts":"1333458850.375568","fuid":"FZ7lDn1GWCwqE1uk07","tx_hosts":"192.168.100.1","rx_hosts":"10.0.0.5","conn_uids":"CLxbxt4w1vzhxBsvJ2","source":"HTTP","depth":"0","analyzers":"MD5,SHA1","mime_type":"text/html","filename":"-","duration":"0.000108","local_orig":"-","is_orig":"F","seen_bytes":"102","total_bytes":"102","missing_bytes":"0","overflow_bytes":"0","timedout":"F","parent_fuid":"-","md5":"1a5c7e6f","sha1":"0c1d2e3f","sha256":"-","extracted":"-"}'

if [ -d "$shared" ]; then
    echo "grok: $pass passed, $fail failed"
else
    echo "grok: $pass passed, $fail failed; ../shared/grok part skipped: not found (2 libraries, $skipped spot checks)"
fi
[ "$fail" = 0 ]
