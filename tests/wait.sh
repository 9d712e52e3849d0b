# wait_for COND SECONDS: poll the shell condition COND every 0.1 s; status 0 once it holds, 1 if
# it never did. Sourced by tests/harness.sh and tests/kafka/lib.sh (one copy for both).
wait_for() {
    n=0
    while [ $n -lt $(($2 * 10)) ]; do
        if eval "$1"; then return 0; fi
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}
