#!/bin/sh
# Run the VCL's tests: every deploy/varnish/tests/*.vtc (or the files given)
# with varnishtest, one after the other. Each test starts its own varnishd
# and fake edge on loopback; the system Varnish service is never used.
#
#   deploy/varnish/test.sh                 # all tests
#   deploy/varnish/test.sh tests/auth_acl.vtc
#   VERBOSE=1 deploy/varnish/test.sh       # full varnishtest logs
#
# Installs varnish + varnish-modules with apt when varnishtest or the xkey
# vmod is missing (root, or sudo). Exit status 0 only if every test passed;
# the last line is "N passed, M failed".
set -u

here=$(cd "$(dirname "$0")" && pwd)

have_xkey() {
    for f in /usr/lib/*/varnish/vmods/libvmod_xkey.so /usr/lib/varnish/vmods/libvmod_xkey.so \
             /usr/local/lib/varnish/vmods/libvmod_xkey.so; do
        [ -e "$f" ] && return 0
    done
    return 1
}

if ! command -v varnishtest >/dev/null 2>&1 || ! have_xkey; then
    echo "varnishtest or vmod_xkey missing: installing varnish and varnish-modules with apt" >&2
    if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
    # Keep the package's system service from being started by the install.
    prc=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null &&
            $sudo chmod 0755 /usr/sbin/policy-rc.d && prc=1
    fi
    $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q varnish varnish-modules
    rc=$?
    [ -n "$prc" ] && $sudo rm -f /usr/sbin/policy-rc.d
    if [ $rc -ne 0 ] || ! command -v varnishtest >/dev/null 2>&1 || ! have_xkey; then
        echo "could not install varnish + varnish-modules" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

if [ $# -gt 0 ]; then
    tests=$*
else
    tests=$(ls "$here"/tests/*.vtc 2>/dev/null)
fi
if [ -z "$tests" ]; then
    echo "no tests found in $here/tests" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

varnishd -V 2>&1 | head -n 1
passed=0
failed=0
failed_names=
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
for t in $tests; do
    case $t in /*) ;; *) t=$(pwd)/$t ;; esac
    name=$(basename "$t" .vtc)
    start=$(date +%s)
    varnishtest -v -t 120 "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        printf 'ok    %-16s %ss\n' "$name" "$secs"
        [ -n "${VERBOSE:-}" ] && cat "$log"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        printf 'FAIL  %-16s %ss (varnishtest exit %s)\n' "$name" "$secs" "$rc"
        if [ -n "${VERBOSE:-}" ]; then
            cat "$log"
        else
            # what failed, then the end of the log
            grep -E '^(----|#) ' "$log" | head -n 20 | sed 's/^/      /'
            tail -n 60 "$log" | sed 's/^/      | /'
        fi
    fi
done

[ $failed -eq 0 ] || echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
