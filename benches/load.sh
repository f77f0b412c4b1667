#!/usr/bin/env bash
# Load test: the CPU Dragoman spends per request, against nginx proxying the
# same request without translating it.
#
#   sudo benches/load.sh                            # OpenStack upstream (the default scenario)
#   sudo UPSTREAM_DIALECT=hostway benches/load.sh   # Hostway upstream
#   sudo REPEAT=5 DURATION=10 benches/load.sh       # the settings of docs/PERFORMANCE.md
#   sudo SOAK=600 benches/load.sh                   # soak: 10 minutes of mixed traffic (see below)
#
# Soak mode (SOAK=seconds) runs Dragoman alone on a durable embedded catalog
# and drives steady mixed traffic at it with wrk: reads (Hostway shows,
# Foreman lists), writes (Foreman creates, each created image deleted again)
# and requests that must fail (shows of an image that does not exist). It
# samples Dragoman's RSS every SOAK_SAMPLE seconds and reports the first
# sample after warm-up, the last, the largest, and every reply whose status
# was not the expected one (errors must be 0).
#
# Everything runs on 127.0.0.1:
#
#   wrk ──► nginx "baseline proxy" ──┐
#                                    ├──► nginx "upstream" (recorded bodies)
#   wrk ──► dragoman ────────────────┤
#                                    │
#   wrk ──► nginx "balancer" ──► dragoman replica A ─┤  (shared token keys,
#                           └──► dragoman replica B ─┘   quotas in one redis-server)
#                                    │
#   wrk ──► dragoman, mirror on ─────┤  (reads also sent to a second
#   oha ──►                          │   upstream on the same nginx, compared)
#   wrk ──► hyper floor ─────────────┘  (a bare hyper pass-through on Dragoman's
#                                        thread model: what the HTTP stack costs)
#
# The mirror is also measured at a fixed request rate below saturation,
# where a migration runs (wrk cannot hold a rate; oha can, and is installed
# with cargo into the target directory when missing): the mirror-off and
# mirror-on gateways alternate at the same rate, and the report compares
# their p99.
#
# For each scenario wrk drives one proxy for a fixed time; the CPU that proxy
# consumed (utime+stime of its processes, from /proc) divided by the requests
# wrk completed is its CPU cost per request. The upstream's and wrk's CPU are
# not counted for either proxy. The two-replica row counts both replicas and
# Redis (not the balancer): every request there is charged in Redis (a global
# quota that is never reached), so the row shows what sharing quotas costs.
# See docs/PERFORMANCE.md.
#
# It is a measurement, not a test: it exits 0 whether or not the targets are
# met, and non-zero only when it cannot measure (tools, build, start-up).

set -euo pipefail
export LC_ALL=C # decimal points, whatever the caller's locale

# ---------------------------------------------------------------- settings

DURATION=${DURATION:-10}            # seconds of each measured wrk run
WARMUP=${WARMUP:-2}                 # seconds of unmeasured wrk before each run (fills connection pools)
THREADS=${THREADS:-2}               # wrk threads
CONNECTIONS=${CONNECTIONS:-"32 256"} # wrk connections: every scenario runs at each count
REPEAT=${REPEAT:-1}                 # runs per scenario and proxy, interleaved; the median is reported
LIST_SIZE=${LIST_SIZE:-1000}        # images in the recorded list
UPSTREAM_DIALECT=${UPSTREAM_DIALECT:-openstack} # openstack | hostway
NGINX_WORKERS=${NGINX_WORKERS:-1}   # worker processes of the baseline proxy
DRAGOMAN_WORKERS=${DRAGOMAN_WORKERS:-0} # dragoman --workers: threads serving requests; 0: one per core
PROXY_LOGS=${PROXY_LOGS:-0}         # 1: both proxies log one line per request (to a file)
SKIP_BUILD=${SKIP_BUILD:-0}         # 1: measure the release binary as it is
DRAGOMAN_BIN=${DRAGOMAN_BIN:-}      # a dragoman binary to measure instead of building one
KEEP_WORK=${KEEP_WORK:-0}           # 1: keep the temp dir (configs, bodies, logs)
SOAK=${SOAK:-0}                     # seconds of soak mode; 0: the CPU measurement
SOAK_SAMPLE=${SOAK_SAMPLE:-10}      # seconds between RSS samples in soak mode
UPSTREAM_PORT=${UPSTREAM_PORT:-18180}
NGINX_PORT=${NGINX_PORT:-18181}
DRAGOMAN_PORT=${DRAGOMAN_PORT:-18182}
REPLICAS=${REPLICAS:-1}             # 1: also measure two replicas sharing one Redis; 0: skip
BALANCER_PORT=${BALANCER_PORT:-18183}
REPLICA_PORTS=("${REPLICA_A_PORT:-18184}" "${REPLICA_B_PORT:-18185}")
REDIS_PORT=${REDIS_PORT:-18186}
ADMIN_PORT=${ADMIN_PORT:-18187}     # dragoman's admin listener (/metrics)
MIRROR=${MIRROR:-1}                 # 1: also measure a dragoman mirroring its reads; 0: skip
MIRROR_PORT=${MIRROR_PORT:-18188}
MIRROR_ADMIN_PORT=${MIRROR_ADMIN_PORT:-18189}
FLOOR=${FLOOR:-1}                   # 1: also measure a bare hyper pass-through (examples/floor_proxy.rs); 0: skip
FLOOR_PORT=${FLOOR_PORT:-18190}
FLOOR_BIN=${FLOOR_BIN:-}            # a floor_proxy binary to measure instead of building one
MIRROR_ONLY=${MIRROR_ONLY:-0}       # 1: only the rows the mirror's figures need (nginx's show, the Hostway edge's show off and on)
MIRROR_SAMPLE=${MIRROR_SAMPLE:-}    # [mirror] sample of the mirroring dragoman; empty: its default
MIRROR_PER_SECOND=${MIRROR_PER_SECOND:-} # [mirror] per_second; empty: its default
MIRROR_RATE=${MIRROR_RATE:-auto}    # fixed-rate mirror rows, requests a second; auto: MIRROR_RATE_SHARE% of the
                                    # mirror-off row's saturating req/s (first connection count); 0: skip them
MIRROR_RATE_SHARE=${MIRROR_RATE_SHARE:-60}
MIRROR_P99_TARGET_RATIO=${MIRROR_P99_TARGET_RATIO:-1.10} # the mirror-on p99 at most this × the mirror-off p99
OHA=${OHA:-}                        # the oha binary for the fixed-rate rows; found on PATH or installed when empty
OHA_VERSION=${OHA_VERSION:-1.16.0}  # the oha cargo installs when missing
# The targets, as ratios to nginx's row of the same scenario and connection
# count in the same run: showing one image may cost no more CPU than nginx
# copying it; a list (parsed and rewritten, where nginx only copies) at most
# 1.25× its CPU, and its peak resident memory at most 2× nginx's.
# SHOW_REFERENCE_US is nginx's show on the reference machine, printed for comparison.
SHOW_REFERENCE_US=${SHOW_REFERENCE_US:-12}
SHOW_TARGET_RATIO=${SHOW_TARGET_RATIO:-1.0}
LIST_TARGET_RATIO=${LIST_TARGET_RATIO:-1.25}
RSS_TARGET_RATIO=${RSS_TARGET_RATIO:-2.0}

HOST=127.0.0.1
# Edge credentials of the demo client, on every request to either proxy:
# Basic demo:demo, and a token from Dragoman's own Keystone once it runs.
AUTH_HEADERS=(-H "Authorization: Basic ZGVtbzpkZW1v")
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=""           # temp dir: configs, bodies, logs
STARTED_PIDS=()   # everything we start, stopped on exit
POLICY_RC_D=""    # set while apt is kept from starting services
CLK_TCK=100       # read with getconf once the tools are there
NGINX_PID=""      # the baseline proxy's master
WRK_PID=""        # the wrk running now, if any
RECORD=""         # what measure_once measured
PEAK_SINCE_START=0 # 1: a peak RSS could not be reset, so it is the peak since start
DRAGOMAN_PID=""
FLOOR_PID=""      # the bare hyper pass-through
REPLICA_PIDS=""   # both replicas and redis-server, comma-separated
MIRRORED_PID=""   # the dragoman whose reads are mirrored
FIXED_RATE=""     # the fixed-rate mirror rows' requests a second
FIXED_RUNS_OFF="" FIXED_RUNS_ON="" # their records, one line a run, in the order run

# ---------------------------------------------------------------- plumbing

say() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'load.sh: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    local pid
    if [[ -n $WRK_PID ]]; then kill -TERM "$WRK_PID" 2>/dev/null || true; fi
    for pid in "${STARTED_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        # an nginx master takes its workers down with it on TERM
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        # dragoman drains for its drain delay (5 s) before it exits: not waited for
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $POLICY_RC_D ]]; then rm -f "$POLICY_RC_D"; fi
    if [[ -n $WORK && $KEEP_WORK != 1 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Installs nginx, wrk, curl and jq when missing. apt would also start the
# distribution's nginx on port 80: a temporary policy-rc.d keeps it from
# starting any service, so only our loopback instances ever run.
install_tools() {
    local missing=() cmd
    local tools=(nginx wrk curl jq)
    if [[ $REPLICAS == 1 ]]; then tools+=(redis-server); fi
    for cmd in "${tools[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
    done
    ((${#missing[@]} == 0)) && return
    [[ $(id -u) == 0 ]] || die "missing ${missing[*]}: run as root, or install them"
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        POLICY_RC_D=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
        chmod 755 "$POLICY_RC_D"
    fi
    say "installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    if [[ -n $POLICY_RC_D ]]; then
        rm -f "$POLICY_RC_D"
        POLICY_RC_D=""
    fi
}

port_free() {
    ! (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Waits until `url` answers at all (any status), or dies with the end of
# `log`: the process started last is the one that should answer.
wait_for() {
    local url=$1 what=$2 log=$3 pid=${STARTED_PIDS[-1]}
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || die "$what exited: $(tail -5 "$log")"
        curl -s -o /dev/null --max-time 1 "$url" && return
        sleep 0.1
    done
    die "$what did not answer on $url: $(tail -5 "$log")"
}

# Starts a command in the background and remembers it for cleanup.
start() {
    "$@" &
    STARTED_PIDS+=("$!")
}

# The share of the machine's CPU in use (by anything) over one second: other
# work on the machine makes every number noisier, so the report says.
machine_busy_percent() {
    local a b
    read -r -a a < <(head -1 /proc/stat)
    sleep 1
    read -r -a b < <(head -1 /proc/stat)
    # cpu user nice system idle iowait irq softirq steal
    awk -v busy=$(((b[1] + b[2] + b[3] + b[6] + b[7] + b[8]) - (a[1] + a[2] + a[3] + a[6] + a[7] + a[8]))) \
        -v idle=$(((b[4] + b[5]) - (a[4] + a[5]))) 'BEGIN { printf "%.0f", 100 * busy / (busy + idle) }'
}

# ---------------------------------------------------------------- measuring

# A process and all its descendants (nginx: the master and its workers).
process_tree() {
    local pid=$1 children child
    echo "$pid"
    # one line of space-separated child pids per thread
    children=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
    for child in $children; do
        process_tree "$child"
    done
}

# CPU clock ticks consumed so far by process trees (comma-separated roots):
# "user system". For a multi-threaded process /proc/PID/stat already sums
# all its threads.
cpu_ticks() {
    local user=0 system=0 pid root stat fields
    for pid in $(for root in ${1//,/ }; do process_tree "$root"; done); do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        # the fields after "pid (comm) ": the name may hold spaces, so cut at the last ')'
        read -r -a fields <<<"${stat##*) }"
        user=$((user + fields[11]))
        system=$((system + fields[12]))
    done
    echo "$user $system"
}

# Requests the upstream nginx has answered so far (its stub_status), to see
# how many upstream calls each request cost. This request is one of them.
upstream_requests() {
    curl -s "http://$HOST:$UPSTREAM_PORT/nginx_status" | awk 'NR == 3 { print $3 }'
}

# One wrk run against `url`, its output in WORK/wrk.out. wrk runs in the
# background and the shell waits for it: a signal then stops the script at
# once (bash would let a foreground wrk finish its run first).
run_wrk() {
    local url=$1 seconds=$2 connections=$3
    wrk -t "$THREADS" -c "$connections" -d "${seconds}s" --timeout 10s "${AUTH_HEADERS[@]}" -s "$WORK/report.lua" \
        "$url" >"$WORK/wrk.out" &
    WRK_PID=$!
    wait "$WRK_PID"
    WRK_PID=""
}

# What report.lua printed, on the line starting "@@":
# requests duration_us non2xx socket_errors p50_us p99_us.
wrk_result() {
    awk '$1 == "@@" { $1 = ""; print substr($0, 2) }' "$WORK/wrk.out"
}

# Forgets the peak resident memory of process trees (comma-separated roots):
# from now on VmHWM is the peak since this call (clear_refs 5; needs root or
# the same user). When that is refused, the peak is the one since start.
reset_peak_rss() {
    local pid root
    for pid in $(for root in ${1//,/ }; do process_tree "$root"; done); do
        echo 5 2>/dev/null >"/proc/$pid/clear_refs" || PEAK_SINCE_START=1
    done
}

# The peak resident memory of process trees (comma-separated roots), in KiB:
# the sum of each process's VmHWM (nginx: master and workers).
peak_rss_kib() {
    local pid root
    for pid in $(for root in ${1//,/ }; do process_tree "$root"; done); do
        awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true
    done | awk '{ kib += $1 } END { print kib + 0 }'
}

# Measures one proxy on one url once, with `connections` wrk connections, into RECORD:
#   requests req/s cpu_us_per_request p50_us p99_us upstream_calls_per_request non2xx socket_errors
#   user_us_per_request system_us_per_request peak_rss_kib
measure_once() {
    local pid=$1 url=$2 connections=$3 user0 sys0 user1 sys1 up0 up1 requests duration_us non2xx errors p50 p99 rss
    if ((WARMUP > 0)); then run_wrk "$url" "$WARMUP" "$connections"; fi
    up0=$(upstream_requests)
    reset_peak_rss "$pid"
    read -r user0 sys0 < <(cpu_ticks "$pid")
    run_wrk "$url" "$DURATION" "$connections"
    read -r user1 sys1 < <(cpu_ticks "$pid")
    rss=$(peak_rss_kib "$pid")
    up1=$(upstream_requests)
    read -r requests duration_us non2xx errors p50 p99 < <(wrk_result) ||
        die "wrk gave no result for $url: $(tail -3 "$WORK/wrk.out")"
    RECORD=$(awk -v r="$requests" -v d="$duration_us" -v us=$((user1 - user0)) -v sy=$((sys1 - sys0)) -v hz="$CLK_TCK" \
        -v u=$((up1 - up0 - 1)) -v p50="$p50" -v p99="$p99" -v n="$non2xx" -v e="$errors" -v rss="$rss" \
        'BEGIN {
            if (r == 0) { print 0, 0, 0, p50, p99, 0, n, e, 0, 0, rss; exit }
            per = 1e6 / hz / r
            printf "%d %.0f %.2f %d %d %.2f %d %d %.2f %.2f %d\n", r, r / (d / 1e6), (us + sy) * per, p50, p99, u / r, n, e,
                us * per, sy * per, rss
        }')
}

# ---------------------------------------------------------------- the upstream's bodies

# A LIST_SIZE-image list made from a recorded one: the recorded images in
# turn, each with a distinct id (in its links too) and the name "image-N", so
# the images of any dialect's reply can be counted.
make_list() {
    local recorded=$1 id_prefix=$2 id_suffix=$3
    jq -c --argjson n "$LIST_SIZE" --arg pre "$id_prefix" --arg suf "$id_suffix" '
        .images as $recorded
        | {images: [range(0; $n) as $i
            | $recorded[$i % ($recorded | length)] as $t
            | ($pre + ("00000000" + ($i | tostring))[-8:] + $suf) as $id
            | $t
            | .id = $id
            | .name = "image-\($i)"
            | if has("links") then .links |= map(.href |= (split($t.id) | join($id))) else . end]}' "$recorded"
}

# Sets, for the upstream dialect: the image id, the upstream paths nginx
# serves, the recorded bodies, and Dragoman's environment.
IMAGE_ID="" UP_SHOW_PATH="" UP_LIST_PATH="" DRAGOMAN_ENV=()
prepare_upstream() {
    local fixtures=$REPO/tests/fixtures bodies=$WORK/bodies
    mkdir -p "$bodies"
    case $UPSTREAM_DIALECT in
        openstack)
            IMAGE_ID=70a599e0-31e7-49b7-b260-868f441e862b
            UP_SHOW_PATH=/v2.1/demo/images/$IMAGE_ID
            UP_LIST_PATH=/v2.1/demo/images/detail
            cp "$fixtures/openstack/image-get-resp.json" "$bodies/show.json"
            make_list "$fixtures/openstack/images-details-get-resp.json" "" "-4e14-4e4c-a73d-069cbf4541e6" \
                >"$bodies/list.json"
            DRAGOMAN_ENV=(OS_TOKEN=x OS_PROJECT_ID=demo)
            ;;
        hostway)
            IMAGE_ID=133
            UP_SHOW_PATH=/accounts/demo/flexcloud/images/$IMAGE_ID
            UP_LIST_PATH=/accounts/demo/flexcloud/images/detail
            cp "$fixtures/hostway/docs_Image_get_example.json" "$bodies/show.json"
            make_list "$fixtures/hostway/docs_ImageListDetails_example_2012.json" "vmi" "" >"$bodies/list.json"
            DRAGOMAN_ENV=(HOSTWAY_USERNAME=x HOSTWAY_PASSWORD=x HOSTWAY_ACCOUNT=demo)
            ;;
        *) die "UPSTREAM_DIALECT must be openstack or hostway, not $UPSTREAM_DIALECT" ;;
    esac
    # a page after the list (OpenStack ?marker=) is empty, so a paging walk ends
    echo '{"images": []}' >"$bodies/empty.json"
    chmod -R a+rX "$WORK"
}

# ---------------------------------------------------------------- nginx

# What both nginx configurations share: files in WORK, and client and
# upstream connections kept alive for the whole run (nginx closes one after
# 1000 requests by default; hyper never does).
nginx_main() {
    local name=$1 workers=$2
    cat <<EOF
worker_processes $workers;
pid $WORK/$name.pid;
error_log $WORK/$name-error.log warn;
events { worker_connections 1024; }
EOF
}

nginx_http_common() {
    local name=$1
    cat <<EOF
    default_type application/json;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $WORK/$name-tmp/client;
    proxy_temp_path $WORK/$name-tmp/proxy;
    fastcgi_temp_path $WORK/$name-tmp/fastcgi;
    uwsgi_temp_path $WORK/$name-tmp/uwsgi;
    scgi_temp_path $WORK/$name-tmp/scgi;
EOF
}

write_upstream_conf() {
    cat <<EOF
$(nginx_main upstream 1)
http {
$(nginx_http_common upstream)
    access_log off;
    map \$arg_marker \$list_body { "" /list.json; default /empty.json; }
    server {
        listen $HOST:$UPSTREAM_PORT;
        root $WORK/bodies;
        location = $UP_SHOW_PATH { try_files /show.json =404; }
        location = $UP_LIST_PATH { try_files \$list_body =404; }
        location = /nginx_status { stub_status; }
        location / { return 404 '{"itemNotFound": {"message": "Image not found.", "code": 404}}'; }
    }
}
EOF
}

# The bar: a proxy that copies the reply without reading it. Its upstream
# connections are kept alive, as Dragoman's are, and replies are buffered in
# memory only, never in a temp file.
write_proxy_conf() {
    local access_log="access_log off;"
    if [[ $PROXY_LOGS == 1 ]]; then access_log="access_log $WORK/proxy-access.log;"; fi
    cat <<EOF
$(nginx_main proxy "$NGINX_WORKERS")
http {
$(nginx_http_common proxy)
    $access_log
    upstream recorded {
        server $HOST:$UPSTREAM_PORT;
        keepalive 32;
        keepalive_requests 1000000;
    }
    server {
        listen $HOST:$NGINX_PORT;
        location / {
            proxy_pass http://recorded;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 128 16k;
            proxy_busy_buffers_size 64k;
            proxy_max_temp_file_size 0;
        }
    }
}
EOF
}

# Spreads requests over the two replicas, as a Service would.
write_balancer_conf() {
    cat <<EOF
$(nginx_main balancer 1)
http {
$(nginx_http_common balancer)
    access_log off;
    upstream replicas {
        server $HOST:${REPLICA_PORTS[0]};
        server $HOST:${REPLICA_PORTS[1]};
        keepalive 32;
        keepalive_requests 1000000;
    }
    server {
        listen $HOST:$BALANCER_PORT;
        location / {
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 16k;
            proxy_buffers 128 16k;
            proxy_max_temp_file_size 0;
        }
    }
}
EOF
}

start_nginx() {
    local name=$1 port=$2 port_var=$3
    port_free "$port" || die "port $port is in use (set $port_var)"
    mkdir -p "$WORK/$name-tmp"
    "write_${name}_conf" >"$WORK/$name.conf"
    nginx -t -q -e "$WORK/$name-error.log" -c "$WORK/$name.conf" || die "bad $name config: $WORK/$name.conf"
    start nginx -e "$WORK/$name-error.log" -c "$WORK/$name.conf" -g 'daemon off;'
}

# ---------------------------------------------------------------- dragoman

build_dragoman() {
    local target_dir
    if [[ -n $DRAGOMAN_BIN ]]; then
        [[ -x $DRAGOMAN_BIN ]] || die "DRAGOMAN_BIN=$DRAGOMAN_BIN is not an executable"
        return
    fi
    # CARGO_TARGET_DIR and .cargo/config are honoured: ask cargo where it builds
    target_dir=$(cd "$REPO" && cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
    DRAGOMAN_BIN=$target_dir/release/dragoman
    if [[ $SKIP_BUILD == 1 && -x $DRAGOMAN_BIN ]]; then return; fi
    say "building dragoman (release)"
    (cd "$REPO" && cargo build --release --bin dragoman)
}

# The floor: hyper and tokio with Dragoman's thread model and nothing else.
build_floor() {
    local target_dir
    if [[ $FLOOR != 1 || $MIRROR_ONLY == 1 ]] || ((SOAK > 0)); then return; fi
    if [[ -n $FLOOR_BIN ]]; then
        [[ -x $FLOOR_BIN ]] || die "FLOOR_BIN=$FLOOR_BIN is not an executable"
        return
    fi
    target_dir=$(cd "$REPO" && cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
    FLOOR_BIN=$target_dir/release/examples/floor_proxy
    if [[ $SKIP_BUILD == 1 && -x $FLOOR_BIN ]]; then return; fi
    say "building the hyper floor (release example)"
    (cd "$REPO" && cargo build --release --example floor_proxy)
}

start_dragoman() {
    port_free "$DRAGOMAN_PORT" || die "port $DRAGOMAN_PORT is in use (set DRAGOMAN_PORT)"
    # warnings always (they explain a failed set-up); one line per request only with PROXY_LOGS=1
    local env=("${DRAGOMAN_ENV[@]}" RUST_LOG=dragoman=warn)
    if [[ $PROXY_LOGS == 1 ]]; then env+=(RUST_LOG=dragoman=info); fi
    start env "${env[@]}" "$DRAGOMAN_BIN" --workers "$DRAGOMAN_WORKERS" \
        --listen "$HOST:$DRAGOMAN_PORT" --admin-listen "$HOST:$ADMIN_PORT" --upstream "$UPSTREAM_DIALECT=http://$HOST:$UPSTREAM_PORT" \
        >"$WORK/dragoman.out" 2>"$WORK/dragoman.log"
}

# Two replicas sharing a key repository and one redis-server, each in front
# of the same upstream, behind the balancer nginx.
start_replicas() {
    local port i pids=()
    for port in "$REDIS_PORT" "$BALANCER_PORT" "${REPLICA_PORTS[@]}"; do
        port_free "$port" || die "port $port is in use (set REDIS_PORT, BALANCER_PORT, REPLICA_A_PORT, REPLICA_B_PORT)"
    done
    start redis-server --port "$REDIS_PORT" --bind "$HOST" --save '' --appendonly no --logfile "$WORK/redis.log"
    pids+=("${STARTED_PIDS[-1]}")
    "$DRAGOMAN_BIN" token-keys rotate "$WORK/keys" >/dev/null
    cat >"$WORK/replica.toml" <<EOF
[identity]
token_keys = "$WORK/keys"

[rate_limit]
store = "redis://$HOST:$REDIS_PORT"
# on, never reached: every request is charged in Redis
global = { requests = 1000000000 }
EOF
    for i in 0 1; do
        start env "${DRAGOMAN_ENV[@]}" RUST_LOG=dragoman=warn "$DRAGOMAN_BIN" --config "$WORK/replica.toml" \
            --workers "$DRAGOMAN_WORKERS" --listen "$HOST:${REPLICA_PORTS[i]}" --admin-listen "$HOST:0" \
            --upstream "$UPSTREAM_DIALECT=http://$HOST:$UPSTREAM_PORT" >"$WORK/replica-$i.out" 2>"$WORK/replica-$i.log"
        pids+=("${STARTED_PIDS[-1]}")
        wait_for "http://$HOST:${REPLICA_PORTS[i]}/" "replica $i" "$WORK/replica-$i.log"
    done
    REPLICA_PIDS=$(
        IFS=,
        echo "${pids[*]}"
    )
    start_nginx balancer "$BALANCER_PORT" BALANCER_PORT
    wait_for "http://$HOST:$BALANCER_PORT/" "the balancer nginx" "$WORK/balancer-error.log"
}

# A dragoman like the first, whose Hostway edge mirrors every read to a
# second upstream on the same nginx (docs/MIGRATION.md): the mirror-on row
# against the mirror-off one (the plain Hostway edge row). Its CPU per
# request counts the mirrored call and the comparison.
start_mirrored() {
    local credentials
    port_free "$MIRROR_PORT" || die "port $MIRROR_PORT is in use (set MIRROR_PORT)"
    case $UPSTREAM_DIALECT in
        openstack) credentials='token = "x"' ;;
        hostway) credentials=$'user = "x"\npassword = "x"' ;;
    esac
    local name
    for name in primary mirror; do
        cat <<EOF
[[upstream]]
name = "$name"
dialect = "$UPSTREAM_DIALECT"
url = "http://$HOST:$UPSTREAM_PORT"
scope = "demo"

[upstream.credentials]
$credentials

EOF
    done >"$WORK/mirrored.toml"
    cat >>"$WORK/mirrored.toml" <<EOF
[[route]]
edge = "hostway"
backend = "primary"
mirror = "mirror"

[mirror]
EOF
    if [[ -n $MIRROR_SAMPLE ]]; then echo "sample = $MIRROR_SAMPLE" >>"$WORK/mirrored.toml"; fi
    if [[ -n $MIRROR_PER_SECOND ]]; then echo "per_second = $MIRROR_PER_SECOND" >>"$WORK/mirrored.toml"; fi
    start env RUST_LOG=dragoman=warn "$DRAGOMAN_BIN" --config "$WORK/mirrored.toml" \
        --workers "$DRAGOMAN_WORKERS" --listen "$HOST:$MIRROR_PORT" --admin-listen "$HOST:$MIRROR_ADMIN_PORT" \
        >"$WORK/mirrored.out" 2>"$WORK/mirrored.log"
    MIRRORED_PID=${STARTED_PIDS[-1]}
    wait_for "http://$HOST:$MIRROR_PORT/" "the mirroring dragoman" "$WORK/mirrored.log"
}

# ---------------------------------------------------------------- scenarios

# scenario|proxy|port|path. Every row shows or lists the same upstream
# image(s); only the proxy, and Dragoman's edge dialect, change.
scenarios() {
    cat <<EOF
show|nginx|$NGINX_PORT|$UP_SHOW_PATH
show|dragoman hostway edge|$DRAGOMAN_PORT|/accounts/demo/flexcloud/images/$IMAGE_ID
EOF
    if [[ $MIRROR == 1 ]]; then
        echo "show|dragoman hostway mirror|$MIRROR_PORT|/accounts/demo/flexcloud/images/$IMAGE_ID"
    fi
    if [[ $MIRROR_ONLY == 1 ]]; then return; fi
    cat <<EOF
show|dragoman openstack edge|$DRAGOMAN_PORT|/v2/demo/images/$IMAGE_ID
show|dragoman foreman edge|$DRAGOMAN_PORT|/api/compute_resources/1/images/$IMAGE_ID
list|nginx|$NGINX_PORT|$UP_LIST_PATH
list|dragoman hostway edge|$DRAGOMAN_PORT|/accounts/demo/flexcloud/images/detail
list|dragoman openstack edge|$DRAGOMAN_PORT|/v2/demo/images/detail?limit=$LIST_SIZE
EOF
    if [[ $REPLICAS == 1 ]]; then
        echo "show|2 replicas+redis hostway|$BALANCER_PORT|/accounts/demo/flexcloud/images/$IMAGE_ID"
    fi
    if [[ $FLOOR == 1 ]]; then
        echo "show|hyper floor|$FLOOR_PORT|$UP_SHOW_PATH"
        echo "list|hyper floor|$FLOOR_PORT|$UP_LIST_PATH"
    fi
}

# Checks one url before loading it. Prints "status bytes images": the images
# are how many of the upstream's a reply shows.
probe() {
    local url=$1 status_size images
    status_size=$(curl -s "${AUTH_HEADERS[@]}" -D "$WORK/probe.head" -o "$WORK/probe.body" -w '%{http_code} %{size_download}' --max-time 10 "$url" ||
        echo "000 0")
    images=$({ grep -oE '"image-[0-9]+"' "$WORK/probe.body" || true; } | sort -u | wc -l)
    echo "$status_size $images"
}

# Parallel arrays, one entry per scenario row: a scenario at one connection count.
ROW_SCENARIO=() ROW_PROXY=() ROW_CONNS=() ROW_PID=() ROW_URL=() ROW_STATUS=() ROW_BYTES=() ROW_IMAGES=() ROW_RUNS=()

load_scenarios() {
    local scenario proxy port path url pid status bytes images conns
    while IFS='|' read -r scenario proxy port path; do
        url="http://$HOST:$port$path"
        pid=$DRAGOMAN_PID
        if [[ $proxy == nginx ]]; then pid=$NGINX_PID; fi
        if [[ $proxy == "2 replicas"* ]]; then pid=$REPLICA_PIDS; fi
        if [[ $proxy == *mirror ]]; then pid=$MIRRORED_PID; fi
        if [[ $proxy == "hyper floor" ]]; then pid=$FLOOR_PID; fi
        read -r status bytes images < <(probe "$url")
        if [[ $status != 200 ]]; then
            say "$scenario via $proxy: HTTP $status on $path, not measured"
        elif [[ $scenario == list && $images != "$LIST_SIZE" ]]; then
            say "$scenario via $proxy: the reply shows $images of the $LIST_SIZE images"
        elif [[ $scenario == list ]] && grep -qi '^transfer-encoding: *chunked' "$WORK/probe.head"; then
            # Dragoman streams a list image by image (docs/PERFORMANCE.md, "Streamed lists")
            say "$scenario via $proxy: the reply is streamed (chunked)"
        fi
        for conns in $CONNECTIONS; do
            ROW_SCENARIO+=("$scenario") ROW_PROXY+=("$proxy") ROW_CONNS+=("$conns") ROW_PID+=("$pid") ROW_URL+=("$url")
            ROW_STATUS+=("$status") ROW_BYTES+=("$bytes") ROW_IMAGES+=("$images") ROW_RUNS+=("")
        done
    done < <(scenarios)
}

# Every row once, REPEAT times over: nginx and Dragoman runs alternate, so
# whatever else the machine does weighs on both alike. One connection count
# at a time, in the order given: a process keeps some of what its busiest
# load made it allocate (buffers, idle upstream connections), so a row at 32
# connections measured after rows at 256 would report the 256's peak memory.
run_scenarios() {
    local conns round i
    for conns in $CONNECTIONS; do
        for round in $(seq 1 "$REPEAT"); do
            for i in "${!ROW_SCENARIO[@]}"; do
                [[ ${ROW_STATUS[i]} == 200 && ${ROW_CONNS[i]} == "$conns" ]] || continue
                say "round $round/$REPEAT: ${ROW_SCENARIO[i]} via ${ROW_PROXY[i]}, $conns connections" \
                    "(${ROW_BYTES[i]} bytes a reply), ${DURATION}s"
                measure_once "${ROW_PID[i]}" "${ROW_URL[i]}" "$conns"
                ROW_RUNS[i]+="$RECORD"$'\n'
            done
        done
    done
}

# The run with the median CPU per request (the lower middle one for an even
# REPEAT), and the lowest and highest CPU per request:
# "median-record|min|max".
summarise() {
    local runs=$1 sorted count
    sorted=$(printf '%s' "$runs" | sort -k3,3g)
    count=$(printf '%s\n' "$sorted" | wc -l)
    printf '%s|%s|%s\n' "$(printf '%s\n' "$sorted" | sed -n "$(((count + 1) / 2))p")" \
        "$(printf '%s\n' "$sorted" | head -1 | cut -d' ' -f3)" "$(printf '%s\n' "$sorted" | tail -1 | cut -d' ' -f3)"
}

# ---------------------------------------------------------------- the mirror at a fixed rate

# Finds oha, or installs it with cargo into the target directory
# (target/tools/bin/oha), as the build does Dragoman itself.
install_oha() {
    local target_dir
    if [[ -n $OHA ]]; then
        [[ -x $OHA ]] || die "OHA=$OHA is not an executable"
        return
    fi
    if command -v oha >/dev/null 2>&1; then
        OHA=$(command -v oha)
        return
    fi
    command -v cargo >/dev/null 2>&1 || die "oha is missing and there is no cargo to install it (or set MIRROR_RATE=0)"
    target_dir=$(cd "$REPO" && cargo metadata --no-deps --format-version 1 | jq -r .target_directory)
    OHA=$target_dir/tools/bin/oha
    if [[ -x $OHA ]]; then return; fi
    say "installing oha $OHA_VERSION (cargo install, into $target_dir/tools)"
    cargo install oha --version "$OHA_VERSION" --locked --root "$target_dir/tools" >&2 || die "cargo install oha failed"
}

# The reads of the mirroring gateway's route so far, from its metrics:
# "mirrored dropped unsampled" (mirrored: same, different and error).
mirror_counts() {
    curl -s "http://$HOST:$MIRROR_ADMIN_PORT/metrics" | awk -F'[{}]' '/^dragoman_mirror_requests_total/ {
            split($3, v, " ")
            if ($2 ~ /result="dropped"/) d += v[1]
            else if ($2 ~ /result="unsampled"/) u += v[1]
            else m += v[1]
        }
        END { print m + 0, d + 0, u + 0 }'
}

# One oha run at FIXED_RATE requests a second against `url`, its JSON in
# WORK/oha.json (requests still in flight when it stops are "aborted due to
# deadline", not errors). Latency is counted from when each request was due, not
# when it was sent (--latency-correction): a stall shows in the p99 instead
# of delaying the requests behind it.
run_oha() {
    local url=$1 seconds=$2 connections=$3
    "$OHA" --no-tui --output-format json -z "${seconds}s" -c "$connections" -q "$FIXED_RATE" --latency-correction \
        "${AUTH_HEADERS[@]}" "$url" >"$WORK/oha.json" 2>"$WORK/oha.err" &
    WRK_PID=$!
    wait "$WRK_PID" || die "oha failed on $url: $(tail -3 "$WORK/oha.err")"
    WRK_PID=""
}

# Measures one gateway at FIXED_RATE once, into RECORD:
#   requests req/s cpu_us_per_request p50_us p99_us non2xx errors mirrored/s dropped/s unsampled/s
# (the last three from the mirroring gateway's metrics, 0 for the other).
measure_fixed_once() {
    local pid=$1 url=$2 connections=$3 user0 sys0 user1 sys1 m0 m1
    if ((WARMUP > 0)); then run_oha "$url" "$WARMUP" "$connections"; fi
    m0=$(mirror_counts)
    read -r user0 sys0 < <(cpu_ticks "$pid")
    run_oha "$url" "$DURATION" "$connections"
    read -r user1 sys1 < <(cpu_ticks "$pid")
    m1=$(mirror_counts)
    if [[ $pid != "$MIRRORED_PID" ]]; then m1=$m0; fi
    RECORD=$(jq -r --argjson ticks $((user1 - user0 + sys1 - sys0)) --argjson hz "$CLK_TCK" --argjson d "$DURATION" \
        --arg m0 "$m0" --arg m1 "$m1" '
        ([.statusCodeDistribution | to_entries[] | .value] | add // 0) as $requests
        | ([.statusCodeDistribution | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0) as $non2xx
        | ([.errorDistribution | to_entries[] | select(.key | contains("deadline") | not) | .value] | add // 0) as $errors
        | ($m0 | split(" ") | map(tonumber)) as $a | ($m1 | split(" ") | map(tonumber)) as $b
        | [$requests, (.summary.requestsPerSec | round),
           (if $requests > 0 then ($ticks * 1e6 / $hz / $requests * 100 | round) / 100 else 0 end),
           (.latencyPercentiles.p50 * 1e6 | round), (.latencyPercentiles.p99 * 1e6 | round), $non2xx, $errors,
           (($b[0] - $a[0]) / $d | round), (($b[1] - $a[1]) / $d | round), (($b[2] - $a[2]) / $d | round)]
        | map(tostring) | join(" ")' "$WORK/oha.json") || die "no result from oha: $(head -c 300 "$WORK/oha.json")"
}

# The median of column `col` (1-based) over records, one a line.
median_of() {
    local col=$1 runs=$2
    printf '%s' "$runs" | awk -v c="$col" 'NF { print $c }' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# The mirror-off and mirror-on gateways at one fixed rate, REPEAT times
# over, alternating (off, on, off, on…) so both suffer the machine alike.
# The rate: MIRROR_RATE, or MIRROR_RATE_SHARE% of the mirror-off row's
# median saturating req/s at the first connection count.
run_fixed_rate() {
    local conns=${CONNECTIONS%% *} path=/accounts/demo/flexcloud/images/$IMAGE_ID i saturated="" round
    if [[ $MIRROR_RATE == auto ]]; then
        for i in "${!ROW_SCENARIO[@]}"; do
            if [[ ${ROW_SCENARIO[i]} == show && ${ROW_PROXY[i]} == "dragoman hostway edge" && ${ROW_CONNS[i]} == "$conns" && -n ${ROW_RUNS[i]} ]]; then
                saturated=$(median_of 2 "${ROW_RUNS[i]}")
            fi
        done
        if [[ -z $saturated ]]; then
            say "no saturating mirror-off row to take the fixed rate from: set MIRROR_RATE; fixed-rate rows skipped"
            return
        fi
        # rounded to a hundred requests a second
        FIXED_RATE=$(awk -v r="$saturated" -v s="$MIRROR_RATE_SHARE" 'BEGIN { printf "%d", int(r * s / 100 / 100 + 0.5) * 100 }')
    else
        FIXED_RATE=$MIRROR_RATE
    fi
    ((FIXED_RATE > 0)) || return
    for round in $(seq 1 "$REPEAT"); do
        say "round $round/$REPEAT: show via dragoman hostway edge, mirror off, $FIXED_RATE req/s (oha), $conns connections, ${DURATION}s"
        measure_fixed_once "$DRAGOMAN_PID" "http://$HOST:$DRAGOMAN_PORT$path" "$conns"
        FIXED_RUNS_OFF+="$RECORD"$'\n'
        say "round $round/$REPEAT: show via dragoman hostway mirror, mirror on, $FIXED_RATE req/s (oha), $conns connections, ${DURATION}s"
        measure_fixed_once "$MIRRORED_PID" "http://$HOST:$MIRROR_PORT$path" "$conns"
        FIXED_RUNS_ON+="$RECORD"$'\n'
    done
}

# met / NOT met for the mirror-on p99 against the mirror-off one.
p99_verdict() {
    awk -v on="$1" -v off="$2" -v t="$MIRROR_P99_TARGET_RATIO" \
        'BEGIN { printf "%.2f %s\n", on / off, (on <= off * t ? "met" : "NOT met") }'
}

# The mirror's p99 against no mirror: at saturation (wrk, the show rows
# above) and at the fixed rate (oha), with the mirror's share of the reads.
mirror_report() {
    local conns=${CONNECTIONS%% *} i off_runs="" on_runs="" off on ratio verdict
    [[ $MIRROR == 1 ]] || return 0
    echo
    echo "mirror: the Hostway edge's show without a mirror (off) and with every read of its route offered to one (on);"
    echo "[mirror] sample = ${MIRROR_SAMPLE:-default (1.0)}, per_second = ${MIRROR_PER_SECOND:-default (100)};" \
        "target: p99 on ≤ ${MIRROR_P99_TARGET_RATIO}× p99 off (median p99 of the runs)"
    echo "(CPU: median µs a request, the measure contention distorts least; p99: what the target is about)"
    # the µ takes two bytes, hence the wider fields in the header
    printf '%-11s %-34s %9s %9s %12s %12s %10s %10s %6s  %s\n' load how "req/s off" "req/s on" "CPU µs off" "CPU µs on" \
        "p99 off ms" "p99 on ms" ratio target
    for conns in $CONNECTIONS; do
        off_runs="" on_runs=""
        for i in "${!ROW_SCENARIO[@]}"; do
            [[ ${ROW_CONNS[i]} == "$conns" && ${ROW_SCENARIO[i]} == show ]] || continue
            if [[ ${ROW_PROXY[i]} == "dragoman hostway edge" ]]; then off_runs=${ROW_RUNS[i]}; fi
            if [[ ${ROW_PROXY[i]} == "dragoman hostway mirror" ]]; then on_runs=${ROW_RUNS[i]}; fi
        done
        [[ -n $off_runs && -n $on_runs ]] || continue
        off=$(median_of 5 "$off_runs") on=$(median_of 5 "$on_runs")
        read -r ratio verdict < <(p99_verdict "$on" "$off")
        printf '%-11s %-34s %9s %9s %11.2f %11.2f %10.2f %10.2f %6s  %s\n' saturating "wrk, $conns connections" \
            "$(median_of 2 "$off_runs")" "$(median_of 2 "$on_runs")" "$(median_of 3 "$off_runs")" "$(median_of 3 "$on_runs")" \
            "$(awk -v u="$off" 'BEGIN { print u / 1000 }')" \
            "$(awk -v u="$on" 'BEGIN { print u / 1000 }')" "$ratio" "$verdict (≤ ${MIRROR_P99_TARGET_RATIO}×)"
    done
    if [[ -n $FIXED_RUNS_OFF && -n $FIXED_RUNS_ON ]]; then
        conns=${CONNECTIONS%% *}
        off=$(median_of 5 "$FIXED_RUNS_OFF") on=$(median_of 5 "$FIXED_RUNS_ON")
        read -r ratio verdict < <(p99_verdict "$on" "$off")
        printf '%-11s %-34s %9s %9s %11.2f %11.2f %10.2f %10.2f %6s  %s\n' "fixed rate" "oha, $FIXED_RATE req/s, $conns connections" \
            "$(median_of 2 "$FIXED_RUNS_OFF")" "$(median_of 2 "$FIXED_RUNS_ON")" "$(median_of 3 "$FIXED_RUNS_OFF")" \
            "$(median_of 3 "$FIXED_RUNS_ON")" "$(awk -v u="$off" 'BEGIN { print u / 1000 }')" \
            "$(awk -v u="$on" 'BEGIN { print u / 1000 }')" "$ratio" "$verdict (≤ ${MIRROR_P99_TARGET_RATIO}×)"
        echo
        echo "fixed rate, each run (round: off then on; p50/p99 ms, CPU µs/req; on: mirrored, dropped, unsampled reads a second):"
        paste -d' ' <(printf '%s' "$FIXED_RUNS_OFF") <(printf '%s' "$FIXED_RUNS_ON") | awk '{
            printf "  round %d: off %.2f/%.2f ms %.2f µs; on %.2f/%.2f ms %.2f µs, %d mirrored/s %d dropped/s %d unsampled/s; p99 %.2f×%s\n",
                NR, $4 / 1000, $5 / 1000, $3, $14 / 1000, $15 / 1000, $13, $18, $19, $20, $15 / $5,
                ($6 + $7 + $16 + $17 > 0 ? sprintf("; %d non-2xx, %d errors", $6 + $16, $7 + $17) : "")
        }'
    fi
}

# ---------------------------------------------------------------- report

report() {
    local i key med lo hi requests rps cpu p50 p99 calls non2xx errors user system rss per_image bar ratio rss_ratio verdict
    local medians=()
    # nginx's median CPU and peak RSS per "scenario connections": the bars
    local -A bar_cpu=() bar_rss=()
    for i in "${!ROW_SCENARIO[@]}"; do
        medians[i]=""
        [[ -n ${ROW_RUNS[i]} ]] || continue
        medians[i]=$(summarise "${ROW_RUNS[i]}")
        if [[ ${ROW_PROXY[i]} == nginx ]]; then
            read -r _ _ cpu _ _ _ _ _ _ _ rss <<<"${medians[i]%%|*}"
            bar_cpu["${ROW_SCENARIO[i]} ${ROW_CONNS[i]}"]=$cpu
            bar_rss["${ROW_SCENARIO[i]} ${ROW_CONNS[i]}"]=$rss
        fi
    done

    echo
    echo "Dragoman vs nginx, $UPSTREAM_DIALECT upstream, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(cpu_model))"
    echo "wrk $THREADS threads, $CONNECTIONS connections (conns), ${DURATION}s runs after ${WARMUP}s warm-up, median of $REPEAT;" \
        "nginx $NGINX_WORKERS worker(s), dragoman $( ((DRAGOMAN_WORKERS)) && echo "$DRAGOMAN_WORKERS" || nproc) worker thread(s); per-request logs $([[ $PROXY_LOGS == 1 ]] && echo on || echo off)"
    echo "CPU = the proxy's own utime+stime / requests completed (user: the process's own code; system: the kernel's"
    echo "work for it, mostly TCP on loopback); the upstream nginx and wrk are not counted; \"2 replicas\" counts"
    echo "both replicas and redis-server, not the balancer nginx in front of them. RSS MiB: the peak resident memory"
    echo "during the measured run (VmHWM summed over the proxy's processes: nginx master and workers); rss×: ÷ nginx's"
    echo
    # the µ in a header takes two bytes, hence the wider fields there
    printf '%-5s %-24s %5s %7s %7s %11s %-19s %-17s %9s %7s %7s %6s %6s %7s %5s  %s\n' \
        "" proxy conns bytes "req/s" "CPU µs/req" "(min..max)" "= user+system" "µs/image" "p50 ms" "p99 ms" up/req ratio \
        "RSS MiB" "rss×" target
    for i in "${!ROW_SCENARIO[@]}"; do
        if [[ -z ${medians[i]} ]]; then
            printf '%-5s %-24s %5s %7s %7s  not measured: HTTP %s%s\n' "${ROW_SCENARIO[i]}" "${ROW_PROXY[i]}" "${ROW_CONNS[i]}" \
                "${ROW_BYTES[i]}" "-" "${ROW_STATUS[i]}" "$([[ ${ROW_STATUS[i]} =~ ^(404|500|501)$ ]] && echo " (codec not landed yet?)")"
            continue
        fi
        IFS='|' read -r med lo hi <<<"${medians[i]}"
        read -r requests rps cpu p50 p99 calls non2xx errors user system rss <<<"$med"
        per_image="-"
        if [[ ${ROW_SCENARIO[i]} == list && ${ROW_IMAGES[i]} -gt 0 ]]; then
            per_image=$(awk -v c="$cpu" -v n="${ROW_IMAGES[i]}" 'BEGIN { printf "%.3f", c / n }')
        fi
        key="${ROW_SCENARIO[i]} ${ROW_CONNS[i]}"
        bar=${bar_cpu[$key]:-}
        ratio="-" rss_ratio="-"
        if [[ ${ROW_PROXY[i]} != nginx && -n $bar ]]; then
            ratio=$(awk -v a="$cpu" -v b="$bar" 'BEGIN { printf "%.2f", a / b }')
            rss_ratio=$(awk -v a="$rss" -v b="${bar_rss[$key]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        fi
        verdict=$(target_verdict "${ROW_SCENARIO[i]}" "${ROW_PROXY[i]}" "$cpu" "$bar" "$rss_ratio")
        if ((non2xx > 0 || errors > 0)); then verdict+="; $non2xx non-2xx replies, $errors socket errors"; fi
        printf '%-5s %-24s %5s %7s %7s %10s %-19s %-17s %8s %7.2f %7.2f %6s %6s %7.1f %5s  %s\n' "${ROW_SCENARIO[i]}" \
            "${ROW_PROXY[i]}" "${ROW_CONNS[i]}" "${ROW_BYTES[i]}" "$rps" "$cpu" "($lo..$hi)" "= $user+$system" "$per_image" \
            "$(awk -v u="$p50" 'BEGIN { print u / 1000 }')" "$(awk -v u="$p99" 'BEGIN { print u / 1000 }')" "$calls" "$ratio" \
            "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$rss_ratio" "$verdict"
    done
    echo
    echo "targets, against nginx's row of the same scenario and connection count in this run:"
    echo "  show: CPU per request ≤ ${SHOW_TARGET_RATIO}× nginx's (about $SHOW_REFERENCE_US µs for nginx on the reference machine)"
    echo "  list: CPU per request ≤ ${LIST_TARGET_RATIO}× nginx's, and peak RSS ≤ ${RSS_TARGET_RATIO}× nginx's"
    if ((PEAK_SINCE_START)); then echo "note: a peak RSS could not be reset before a run; it is the peak since the process started"; fi
}

# met / NOT met for one row: `bar` is nginx's CPU per request in the same
# scenario and connection count, `rss_ratio` the peak RSS ÷ nginx's.
target_verdict() {
    local scenario=$1 proxy=$2 cpu=$3 bar=$4 rss_ratio=$5 cpu_target=$SHOW_TARGET_RATIO
    if [[ $proxy == nginx ]]; then
        echo "(the bar)"
        return
    fi
    if [[ $proxy == "hyper floor" ]]; then
        echo "(the floor: hyper alone)"
        return
    fi
    if [[ -z $bar ]]; then
        echo "no nginx bar"
        return
    fi
    if [[ $scenario == list ]]; then cpu_target=$LIST_TARGET_RATIO; fi
    awk -v a="$cpu" -v b="$bar" -v t="$cpu_target" -v r="$rss_ratio" -v rt="$RSS_TARGET_RATIO" -v list="$([[ $scenario == list ]] && echo 1)" \
        'BEGIN {
            verdict = "CPU " (a <= b * t ? "met" : "NOT met") " (≤ " t "×)"
            if (list && r != "-") verdict = verdict ", RSS " (r <= rt ? "met" : "NOT met") " (≤ " rt "×)"
            print verdict
        }'
}

cpu_model() {
    awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo
}

# ---------------------------------------------------------------- main

main() {
    [[ $REPEAT =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] ||
        die "REPEAT and DURATION must be positive integers, WARMUP a non-negative one"
    [[ $MIRROR_RATE =~ ^(auto|[0-9]+)$ ]] || die "MIRROR_RATE must be auto or requests a second, not $MIRROR_RATE"
    if [[ $MIRROR_ONLY == 1 ]]; then MIRROR=1 REPLICAS=0; fi
    install_tools
    CLK_TCK=$(getconf CLK_TCK)
    build_dragoman
    build_floor
    if [[ $MIRROR == 1 && $MIRROR_RATE != 0 && $SOAK == 0 ]]; then install_oha; fi
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/dragoman-load.XXXXXX")
    chmod 755 "$WORK" # nginx workers may run as another user
    if ((SOAK > 0)); then
        soak
        return
    fi

    cat >"$WORK/report.lua" <<'EOF'
-- what load.sh reads, on one line it need not guess at
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("@@ %d %d %d %d %d %d\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
EOF

    local busy
    busy=$(machine_busy_percent)
    if ((busy > 10)); then
        say "warning: the machine is already ${busy}% busy with other work; the numbers will be noisy (REPEAT=5 helps)"
    fi

    prepare_upstream
    say "upstream: nginx serving recorded $UPSTREAM_DIALECT bodies on $HOST:$UPSTREAM_PORT" \
        "($(wc -c <"$WORK/bodies/list.json") bytes for the $LIST_SIZE-image list)"
    start_nginx upstream "$UPSTREAM_PORT" UPSTREAM_PORT
    wait_for "http://$HOST:$UPSTREAM_PORT/nginx_status" "the upstream nginx" "$WORK/upstream-error.log"

    say "baseline: nginx proxying to it on $HOST:$NGINX_PORT"
    start_nginx proxy "$NGINX_PORT" NGINX_PORT
    NGINX_PID=${STARTED_PIDS[-1]}
    wait_for "http://$HOST:$NGINX_PORT$UP_SHOW_PATH" "the baseline nginx" "$WORK/proxy-error.log"

    say "dragoman in front of it on $HOST:$DRAGOMAN_PORT"
    start_dragoman
    DRAGOMAN_PID=${STARTED_PIDS[-1]}
    wait_for "http://$HOST:$DRAGOMAN_PORT/" "dragoman" "$WORK/dragoman.log"
    AUTH_HEADERS+=(-H "X-Auth-Token: $(demo_token)")
    if [[ $MIRROR == 1 ]]; then
        say "dragoman mirroring its hostway edge's reads on $HOST:$MIRROR_PORT"
        start_mirrored
    fi
    if [[ $FLOOR == 1 && $MIRROR_ONLY != 1 ]]; then
        say "the hyper floor, a bare pass-through, on $HOST:$FLOOR_PORT"
        port_free "$FLOOR_PORT" || die "port $FLOOR_PORT is in use (set FLOOR_PORT)"
        start "$FLOOR_BIN" "$HOST:$FLOOR_PORT" "http://$HOST:$UPSTREAM_PORT" "$DRAGOMAN_WORKERS" >"$WORK/floor.log" 2>&1
        FLOOR_PID=${STARTED_PIDS[-1]}
        wait_for "http://$HOST:$FLOOR_PORT$UP_SHOW_PATH" "the hyper floor" "$WORK/floor.log"
    fi
    if [[ $REPLICAS == 1 ]]; then
        say "two replicas sharing one redis-server on $HOST:$REDIS_PORT, behind nginx on $HOST:$BALANCER_PORT"
        start_replicas
    fi
    local check="http://$HOST:$DRAGOMAN_PORT/accounts/demo/flexcloud/images/$IMAGE_ID" status
    status=$(curl -s "${AUTH_HEADERS[@]}" -o "$WORK/check.body" -w '%{http_code}' "$check")
    [[ $status == 200 ]] ||
        die "$check answered $status, not 200: $(head -c 300 "$WORK/check.body"); $(tail -3 "$WORK/dragoman.log")"

    load_scenarios
    run_scenarios
    if [[ $MIRROR == 1 && $MIRROR_RATE != 0 ]]; then run_fixed_rate; fi
    report
    mirror_report
    if [[ $MIRROR == 1 ]]; then
        echo "mirror: $(curl -s "http://$HOST:$MIRROR_ADMIN_PORT/metrics" | grep '^dragoman_mirror_requests_total' | tr '\n' ' ')"
    fi
    if ((busy > 10)); then echo "note: the machine was ${busy}% busy with other work before the run"; fi
}

# ---------------------------------------------------------------- soak

# Mixed traffic for wrk: of every 10 requests, 6 reads, 3 writes (a create,
# or the delete of an image this thread created) and 1 show that must be a
# 404. A reply is unexpected when its status is not 200, 201 or 404, or when
# a 404 is not the Hostway edge's (the missing image's). Prints
# "@@ requests duration_us unexpected socket_errors p50 p99".
write_soak_lua() {
    cat >"$WORK/soak.lua" <<'EOF'
-- tid and unexpected are globals: setup() sets one, done() reads the other
local n, created, threads = 0, {}, {}
tid, unexpected = 0, 0
local auth = { ["Authorization"] = "Basic ZGVtbzpkZW1v", ["Content-Type"] = "application/json" }
local fm = "/api/compute_resources/980190962/images"

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local k = n % 10
  if k == 9 then
    return wrk.format("GET", "/accounts/demo/flexcloud/images/999999999", auth)
  elseif k >= 6 then
    local id = table.remove(created)
    if id then return wrk.format("DELETE", fm .. "/" .. id, auth) end
    local body = string.format('{"image":{"name":"soak-%d-%d","username":"root","uuid":"soak-%d-%d"}}', tid, n, tid, n)
    return wrk.format("POST", fm, auth, body)
  elseif k % 2 == 0 then
    return wrk.format("GET", "/accounts/demo/flexcloud/images/133", auth)
  else
    return wrk.format("GET", fm .. "?per_page=20", auth)
  end
end

function response(status, headers, body)
  if status == 201 then
    local id = body:match('"id":%s*(%d+)')
    if id then table.insert(created, id) else unexpected = unexpected + 1 end
  elseif status == 404 then
    -- only the failing show is answered by the Hostway edge's itemNotFound
    if not body:find("itemNotFound", 1, true) then unexpected = unexpected + 1 end
  elseif status ~= 200 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("unexpected") end
  local e = summary.errors
  io.write(string.format("@@ %d %d %d %d %d %d\n", summary.requests, summary.duration, total,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
EOF
}

rss_kb() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

soak() {
    port_free "$DRAGOMAN_PORT" || die "port $DRAGOMAN_PORT is in use (set DRAGOMAN_PORT)"
    printf '[server]\nlisten = "%s:%s"\nworkers = %s\n\n[catalog]\npath = "%s/catalog.redb"\n' \
        "$HOST" "$DRAGOMAN_PORT" "$DRAGOMAN_WORKERS" "$WORK" >"$WORK/soak.toml"
    start env RUST_LOG=dragoman=warn "$DRAGOMAN_BIN" --config "$WORK/soak.toml" >"$WORK/dragoman.out" 2>"$WORK/dragoman.log"
    DRAGOMAN_PID=${STARTED_PIDS[-1]}
    wait_for "http://$HOST:$DRAGOMAN_PORT/" "dragoman" "$WORK/dragoman.log"
    write_soak_lua
    # the first of the connection counts
    local connections=${CONNECTIONS%% *}
    say "soak: ${SOAK}s of mixed reads, writes and failing shows at $HOST:$DRAGOMAN_PORT ($connections connections)"
    wrk -t "$THREADS" -c "$connections" -d "${SOAK}s" --timeout 10s -s "$WORK/soak.lua" \
        "http://$HOST:$DRAGOMAN_PORT" >"$WORK/wrk.out" &
    WRK_PID=$!
    local samples=() elapsed=0
    while kill -0 "$WRK_PID" 2>/dev/null; do
        sleep "$SOAK_SAMPLE"
        elapsed=$((elapsed + SOAK_SAMPLE))
        samples+=("$elapsed:$(rss_kb "$DRAGOMAN_PID")")
    done
    wait "$WRK_PID" || true
    WRK_PID=""
    local requests duration_us unexpected errors p50 p99
    read -r requests duration_us unexpected errors p50 p99 < <(wrk_result) ||
        die "wrk gave no result: $(tail -3 "$WORK/wrk.out")"
    printf 'soak: %d s, %d requests (%.0f req/s), p50 %d us, p99 %d us\n' "$SOAK" "$requests" \
        "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { print r / (d / 1e6) }')" "$p50" "$p99"
    printf 'errors: %d unexpected statuses, %d socket errors\n' "$unexpected" "$errors"
    printf 'rss (KiB) every %ss: %s\n' "$SOAK_SAMPLE" "${samples[*]}"
    # warm-up: the first sixth of the run, at most a minute
    printf '%s\n' "${samples[@]}" | awk -F: -v warm=$((SOAK / 6 < 60 ? SOAK / 6 : 60)) '
        $1 >= warm && first == "" { first = $2 }
        { last = $2; if ($2 > max) max = $2 }
        END { printf "rss after warm-up %d KiB, at the end %d KiB, largest %d KiB\n", first, last, max }'
}

# A token for the demo client from Dragoman's Keystone, for the OpenStack edge.
demo_token() {
    local body='{"auth": {"identity": {"methods": ["password"], "password": {"user":
        {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}'
    curl -si "http://$HOST:$DRAGOMAN_PORT/v3/auth/tokens" -H 'Content-Type: application/json' -d "$body" |
        awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }'
}

main "$@"
