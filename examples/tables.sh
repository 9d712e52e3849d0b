# lookup tables: a CSV keyed by its first column, and a range table of CIDRs where the
# narrowest range holding an address wins (203.0.113.200 is in both /24 and /25)
. "$(dirname "$0")/env.sh"
printf '%s\n' '{"cid":"c1","ip":"203.0.113.7"}' '{"cid":"c2","ip":"203.0.113.200"}' \
    '{"cid":"c9","ip":"2001:db8::1"}' '{"cid":"c1","ip":"-"}' |
    "$LOGWASH" -f enrich.lw --table campaigns=campaigns.csv --table geo:ip=geo.csv
