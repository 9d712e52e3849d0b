# logwash test: a template's cases beside it; --update records what a new case gives, a
# changed expectation fails with a diff at its line:col (logwash-test(1))
. "$(dirname "$0")/env.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 2
cat >kv.lw <<'LW'
if !match(line, /^(?<k>\w+)=(?<v>\d+)$/) { reject "not k=v" }
emit {key: k, value: int(v)}
LW
cat >kv.test.yaml <<'YAML'
cases:
  - name: a pair
    input: "a=1"
    expect:
      - {key: a, value: 1}
  - name: two pairs, some members
    inputs: ["a=1", "b=2"]
    expect_subset: [{key: a}, {value: 2}]
  - name: not a pair
    input: "a:1"
    rejected: not k=v
  - name: new
    input: "z=26"
YAML
"$LOGWASH" test --update kv.test.yaml
tail -3 kv.test.yaml
sed -i 's/value: 1}/value: "1"}/' kv.test.yaml
"$LOGWASH" test kv.test.yaml
echo "exit status $?"
