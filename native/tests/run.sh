#!/bin/sh
# Tiny runner: each argument is a test binary; exit 0 = pass, 77 = skip.
pass=0 skip=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	name=$(basename "$t")
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(printf '%s' "$out" | tail -n 1)" ;;
	*) fail=$((fail + 1)); echo "FAIL $name (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    /' ;;
	esac
done
echo "native tests: $pass passed, $skip skipped, $fail failed"
[ "$fail" -eq 0 ]
