#!/usr/bin/env bash
# Real third-party clients against Dragoman, each at the edge it was written
# for, in three shapes:
#   memory   one gateway serving its embedded catalog (demo credentials)
#   chain    edge X of a gateway in front of a second gateway serving
#            dialect Y from its catalog, for every X != Y (demo credentials)
#   clients  the same chain, both gateways with declared [[client]] entries:
#            the caller and the front gateway each log in as someone else,
#            with their own account and project
# One line per check (`ok|FAIL <client> <edge>-><behind> <shape> <check>`),
# then `N passed, M failed`; exits non-zero on any failure.
#
#   bash tests/clients/run.sh                                   # everything
#   CLIENTS="apypie python_foreman" SHAPES=memory bash tests/clients/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/tests/clients
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/clients-venv
BIN=$TARGET/release/dragoman
SHAPES=${SHAPES:-memory chain clients}
CLIENTS=${CLIENTS:-openstacksdk openstack_cli libcloud_openstack libcloud_gogrid apypie python_foreman hostway_requests}
CHECK_TIMEOUT=${CHECK_TIMEOUT:-180}
DIALECTS="hostway openstack gogrid foreman"

WORK=$(mktemp -d)
PIDS=()
stop_gateways() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    PIDS=()
}
trap 'stop_gateways; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
die() { echo "clients: $*" >&2; exit 2; }

edge_of() {
    case $1 in
        openstacksdk | openstack_cli | libcloud_openstack) echo openstack ;;
        libcloud_gogrid) echo gogrid ;;
        apypie | python_foreman) echo foreman ;;
        hostway_requests) echo hostway ;;
        *) die "unknown client $1" ;;
    esac
}

# --- the pinned clients, in a venv kept while the lock file is unchanged
python=$(command -v python3.11 || command -v python3) || die "python3 is needed"
lock=$HERE/requirements.lock
stamp="$(sha256sum "$lock" | cut -d' ' -f1) $("$python" -V 2>&1)"
if [[ ! -f $VENV/.stamp || "$(cat "$VENV/.stamp")" != "$stamp" ]]; then
    echo "clients: installing the pinned clients into $VENV" >&2
    rm -rf "$VENV"
    "$python" -m venv "$VENV" || die "cannot create $VENV"
    pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input -q)
    grep -v '^python-foreman==' "$lock" >"$WORK/lock"
    timeout 900 "${pip[@]}" install --no-deps -r "$WORK/lock" || die "pip install failed"
    # python-foreman's setup.py imports autosemver and pkg_resources: build it
    # against the pinned setuptools just installed, not an isolated newer one
    timeout 300 "${pip[@]}" install --no-deps --no-build-isolation "$(grep '^python-foreman==' "$lock")" ||
        die "python-foreman failed to build"
    "${pip[@]}" check || die "the lock file is incomplete"
    echo "$stamp" >"$VENV/.stamp"
fi

# --- the gateway, as released
timeout 1800 cargo build --release --locked -q || die "cargo build --release failed"

# start NAME [ARGS...]: starts a gateway on a free loopback port; sets $url
started_gateways=0
start() {
    local name=$1 line log
    shift
    # a log of its own: never a line an earlier gateway wrote
    started_gateways=$((started_gateways + 1))
    log=$WORK/gateway-$started_gateways-$name
    : >"$log.out"
    "$BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 "$@" >"$log.out" 2>"$log.err" &
    PIDS+=($!)
    for _ in $(seq 100); do
        line=$(head -n1 "$log.out")
        if [[ $line == "# dragoman listening on "* ]]; then
            url=${line#"# dragoman listening on "}
            return 0
        fi
        sleep 0.1
    done
    die "gateway $name did not start: $(cat "$log.err")"
}

# upstream DIALECT URL USER PASSWORD API_KEY SECRET ACCOUNT PROJECT: the
# [[upstream]] table of a front gateway whose every request goes to URL
upstream() {
    local dialect=$1 url=$2 user=$3 password=$4 key=$5 secret=$6 account=$7 project=$8
    printf '[server]\ndefault_backend = "inner"\n\n[[upstream]]\nname = "inner"\ndialect = "%s"\nurl = "%s"\n' "$dialect" "$url"
    case $dialect in
        hostway) printf 'scope = "%s"\n[upstream.credentials]\nuser = "%s"\npassword = "%s"\n' "$account" "$user" "$password" ;;
        foreman) printf 'scope = "980190962"\n[upstream.credentials]\nuser = "%s"\npassword = "%s"\n' "$user" "$password" ;;
        gogrid) printf '[upstream.credentials]\napi_key = "%s"\nsecret = "%s"\n' "$key" "$secret" ;;
        openstack)
            printf 'scope = "%s"\n[upstream.credentials]\nauth_url = "%s/v3"\nuser = "%s"\npassword = "%s"\nproject_name = "%s"\n' \
                "$project" "$url" "$user" "$password" "$project"
            ;;
    esac
}

# client NAME USER PASSWORD API_KEY SECRET ACCOUNT PROJECT: a [[client]] table
client() {
    printf '\n[[client]]\nname = "%s"\nuser = "%s"\npassword = "%s"\napi_key = "%s"\nsecret = "%s"\naccount = "%s"\nproject = "%s"\n' "$@"
}

# gateways SHAPE BEHIND: starts what the shape needs; sets $url and the
# caller's credentials
gateways() {
    local shape=$1 behind=$2
    export DRAGOMAN_USER=demo DRAGOMAN_PASSWORD=demo DRAGOMAN_API_KEY=demo DRAGOMAN_SECRET=demo
    export DRAGOMAN_ACCOUNT=demo DRAGOMAN_PROJECT=demo
    case $shape in
        memory) start memory ;;
        chain)
            start inner
            upstream "$behind" "$url" demo demo demo demo demo demo >"$WORK/front.toml"
            start front --config "$WORK/front.toml"
            ;;
        clients)
            client front front front-pw front-key front-secret acct-9 proj-9 >"$WORK/inner.toml"
            start inner --config "$WORK/inner.toml"
            {
                upstream "$behind" "$url" front front-pw front-key front-secret acct-9 proj-9
                client ops ops ops-pw ops-key ops-secret acct-1 proj-1
                echo 'compute_resource = "980190962"'
            } >"$WORK/front.toml"
            start front --config "$WORK/front.toml"
            export DRAGOMAN_USER=ops DRAGOMAN_PASSWORD=ops-pw DRAGOMAN_API_KEY=ops-key DRAGOMAN_SECRET=ops-secret
            export DRAGOMAN_ACCOUNT=acct-1 DRAGOMAN_PROJECT=proj-1
            ;;
        *) die "unknown shape $shape" ;;
    esac
}

# check CLIENT SHAPE BEHIND: one client's checks against fresh gateways
check() {
    local name=$1 shape=$2 behind=$3 edge rc
    edge=$(edge_of "$name")
    gateways "$shape" "$behind"
    DRAGOMAN_URL=$url DRAGOMAN_EDGE=$edge DRAGOMAN_BEHIND=$behind DRAGOMAN_SHAPE=$shape \
        HOME="$WORK/home" XDG_CACHE_HOME="$WORK/home/.cache" PATH="$VENV/bin:$PATH" \
        timeout "$CHECK_TIMEOUT" "$VENV/bin/python" "$HERE/check_$name.py" 2>"$WORK/check.err" | tee -a "$WORK/lines"
    rc=${PIPESTATUS[0]}
    # 0: all passed, 3: failures already reported; anything else stopped the run
    if [[ $rc != 0 && $rc != 3 ]]; then
        echo "FAIL $name $edge->$behind $shape run: exit $rc: $(grep -v '^\s*$' "$WORK/check.err" | tail -n1)" |
            tee -a "$WORK/lines"
    fi
    stop_gateways
    rm -rf "$WORK/home"
}

started=$SECONDS
touch "$WORK/lines"
for shape in $SHAPES; do
    behinds=$DIALECTS
    [[ $shape == memory ]] && behinds=memory
    for behind in $behinds; do
        for name in $CLIENTS; do
            [[ $(edge_of "$name") == "$behind" ]] && continue
            check "$name" "$shape" "$behind"
        done
    done
done

passed=$(grep -c '^ok ' "$WORK/lines")
failed=$(grep -c '^FAIL ' "$WORK/lines")
echo "clients: $((SECONDS - started))s" >&2
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
