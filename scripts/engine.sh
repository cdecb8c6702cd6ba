#!/usr/bin/env bash
# Manage the real Docker Engine that aiodock's integration tests run against.
#
#   bash scripts/engine.sh install   # apt-get the Debian packages that are missing
#   bash scripts/engine.sh start     # start dockerd unless one answers, then build the test image
#   bash scripts/engine.sh image     # build aiodock-test/busybox:latest from /bin/busybox if absent
#   bash scripts/engine.sh stop      # stop the dockerd (and Podman service) this script started
#   bash scripts/engine.sh status    # print what is running
#   bash scripts/engine.sh podman    # install Podman, start its API service on its own socket
#                                    # ($PODMAN_SOCK) and load the test image into its store
#   bash scripts/engine.sh podman-stop  # stop only the Podman service this script started
#
# Several subcommands may be given at once: `engine.sh install start`.
# Every subcommand is idempotent; nothing is ever pulled from a registry.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${AIODOCK_ENGINE_DIR:-$ROOT/.engine}"
PIDFILE="$STATE_DIR/dockerd.pid"
LOGFILE="$STATE_DIR/dockerd.log"
SOCK=/var/run/docker.sock
IMAGE=aiodock-test/busybox:latest
START_TIMEOUT=60
# Podman's API service runs next to dockerd on a socket of its own (rootful, no idle exit).
PODMAN_SOCK="${AIODOCK_PODMAN_SOCK:-/run/aiodock-podman/podman.sock}"
PODMAN_PIDFILE="$STATE_DIR/podman.pid"
PODMAN_LOGFILE="$STATE_DIR/podman.log"

log() { printf 'engine.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Start "$@" as a daemon of its own: a new session, and none of this script's file
# descriptors above 2 (a lock that a caller holds, as with `flock ... engine.sh start`,
# must not stay held for as long as the daemon lives).
detach() {
    # Run with "&": this is then a subshell already, whose descriptors are its own.
    local fd
    for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@"
}

# The Debian CLI speaks API 1.41 natively; any other docker client on PATH works too.
docker_cli() {
    local cli=/usr/bin/docker
    [ -x "$cli" ] || cli="$(command -v docker || true)"
    [ -n "$cli" ] || die "no docker CLI found (run: bash scripts/engine.sh install)"
    # The legacy builder needs no buildx plugin and no network.
    DOCKER_BUILDKIT=0 "$cli" -H "unix://$SOCK" "$@"
}

ping_engine() {
    [ -S "$SOCK" ] || return 1
    curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Is a running process with this pid a dockerd?
is_dockerd() {
    local pid="$1"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]
}

cmd_install() {
    local missing=()
    # A package counts as present when dpkg has it or its main program is already there
    # (e.g. docker-ce instead of docker.io: installing docker.io would conflict).
    if ! pkg_installed docker.io && ! { command -v dockerd && command -v docker; } >/dev/null; then
        missing+=(docker.io)
    fi
    # The test image needs a *static* busybox; the dynamic `busybox` package will not do.
    pkg_installed busybox-static || missing+=(busybox-static)
    pkg_installed docker-registry || command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh-keygen >/dev/null || missing+=(openssh-client)
    command -v curl >/dev/null || missing+=(curl)
    # Machines without an init system may come up with no cgroup hierarchy mounted.
    if ! mountpoint -q /sys/fs/cgroup 2>/dev/null && ! command -v cgroupfs-mount >/dev/null; then
        missing+=(cgroupfs-mount)
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        log "all packages present"
        return 0
    fi
    log "installing: ${missing[*]}"
    # Keep package scripts from starting services (dockerd, sshd, registry) on their own:
    # the tests start exactly what they need. Only add a policy if the machine has none.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    {
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
    } >"${TMPDIR:-/tmp}/aiodock-apt.log" 2>&1 || rc=$?
    if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "${TMPDIR:-/tmp}/aiodock-apt.log" >&2
        die "apt-get failed (exit $rc)"
    fi
    log "installed: ${missing[*]}"
}

mount_cgroups() {
    if ! mountpoint -q /sys/fs/cgroup 2>/dev/null && command -v cgroupfs-mount >/dev/null; then
        log "mounting cgroup hierarchies"
        as_root cgroupfs-mount
    fi
}

cmd_start() {
    if ping_engine; then
        log "engine already answers on $SOCK"
    else
        local pid=""
        # A dockerd that is still starting up (ours or someone else's): wait for it.
        if [ -f "$PIDFILE" ] && is_dockerd "$(cat "$PIDFILE")"; then
            pid="$(cat "$PIDFILE")"
        elif [ -f /var/run/docker.pid ] && is_dockerd "$(cat /var/run/docker.pid)"; then
            pid="$(cat /var/run/docker.pid)"
            log "a dockerd (pid $pid) is already running; waiting for it"
        else
            command -v dockerd >/dev/null || die "dockerd not found (run: bash scripts/engine.sh install)"
            mount_cgroups
            mkdir -p "$STATE_DIR"
            log "starting dockerd (log: $LOGFILE)"
            # detach: the daemon outlives this script and ignores its terminal's signals.
            detach dockerd >>"$LOGFILE" 2>&1 </dev/null &
            pid=$!
            echo "$pid" >"$PIDFILE"
        fi
        local waited=0
        until ping_engine; do
            if ! kill -0 "$pid" 2>/dev/null; then
                tail -n 30 "$LOGFILE" >&2 2>/dev/null || true
                rm -f "$PIDFILE"
                die "dockerd exited before answering /_ping"
            fi
            if [ "$waited" -ge $((START_TIMEOUT * 4)) ]; then
                tail -n 30 "$LOGFILE" >&2 2>/dev/null || true
                die "dockerd did not answer /_ping within ${START_TIMEOUT}s"
            fi
            sleep 0.25
            waited=$((waited + 1))
        done
        log "engine ready after ~$((waited / 4))s"
    fi
    cmd_image
}

cmd_image() {
    ping_engine || die "no engine answers on $SOCK (run: bash scripts/engine.sh start)"
    if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
        log "image $IMAGE present"
        return 0
    fi
    local busybox=/bin/busybox
    [ -x "$busybox" ] || die "$busybox not found (run: bash scripts/engine.sh install)"
    if ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is dynamically linked; install busybox-static"
    fi
    local ctx
    ctx="$(mktemp -d)"
    cp "$busybox" "$ctx/busybox"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
EOF
    log "building $IMAGE from $busybox"
    local rc=0
    docker_cli build -q -t "$IMAGE" "$ctx" >"$ctx/build.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$ctx/build.log" >&2
        rm -rf "$ctx"
        die "building $IMAGE failed"
    fi
    rm -rf "$ctx"
    log "built $IMAGE"
}

stop_dockerd() {
    if [ ! -f "$PIDFILE" ]; then
        log "no dockerd started by this script (no $PIDFILE)"
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    if ! is_dockerd "$pid"; then
        log "dockerd pid $pid is gone"
        rm -f "$PIDFILE"
        return 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 120 ]; then
            log "dockerd did not stop within 30s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    rm -f "$PIDFILE"
    log "stopped"
}

# --- Podman ---------------------------------------------------------------------

ping_podman() {
    [ -S "$PODMAN_SOCK" ] || return 1
    curl -fsS --max-time 3 --unix-socket "$PODMAN_SOCK" http://localhost/_ping >/dev/null 2>&1
}

is_podman() {
    local pid="$1"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = podman ]
}

install_podman() {
    if command -v podman >/dev/null; then
        return 0
    fi
    log "installing: podman"
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    {
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                -o Dpkg::Use-Pty=0 podman
    } >"${TMPDIR:-/tmp}/aiodock-apt-podman.log" 2>&1 || rc=$?
    if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "${TMPDIR:-/tmp}/aiodock-apt-podman.log" >&2
        die "apt-get install podman failed (exit $rc)"
    fi
    log "installed: podman $(podman --version 2>/dev/null | awk '{print $3}')"
}

cmd_podman() {
    install_podman
    if ping_podman; then
        log "podman already answers on $PODMAN_SOCK"
    else
        local pid=""
        if [ -f "$PODMAN_PIDFILE" ] && is_podman "$(cat "$PODMAN_PIDFILE")"; then
            pid="$(cat "$PODMAN_PIDFILE")"
        else
            mount_cgroups
            mkdir -p "$STATE_DIR" "$(dirname "$PODMAN_SOCK")"
            rm -f "$PODMAN_SOCK"
            log "starting podman system service on $PODMAN_SOCK (log: $PODMAN_LOGFILE)"
            # --time=0: never exit for idleness; the tests may pause between calls.
            detach podman system service --time=0 "unix://$PODMAN_SOCK" \
                >>"$PODMAN_LOGFILE" 2>&1 </dev/null &
            pid=$!
            echo "$pid" >"$PODMAN_PIDFILE"
        fi
        local waited=0
        until ping_podman; do
            if ! kill -0 "$pid" 2>/dev/null; then
                tail -n 30 "$PODMAN_LOGFILE" >&2 2>/dev/null || true
                rm -f "$PODMAN_PIDFILE"
                die "podman system service exited before answering /_ping"
            fi
            if [ "$waited" -ge $((START_TIMEOUT * 4)) ]; then
                tail -n 30 "$PODMAN_LOGFILE" >&2 2>/dev/null || true
                die "podman did not answer /_ping within ${START_TIMEOUT}s"
            fi
            sleep 0.25
            waited=$((waited + 1))
        done
        log "podman ready after ~$((waited / 4))s"
    fi
    podman_image
}

# Podman gets the test image from dockerd's store: never from a registry.
podman_image() {
    if podman image exists "$IMAGE" 2>/dev/null; then
        log "image $IMAGE present in podman"
        return 0
    fi
    cmd_image
    log "loading $IMAGE into podman"
    local rc=0 out
    out="$(docker_cli save "$IMAGE" | podman load -q 2>&1)" || rc=$?
    if [ "$rc" -ne 0 ] || ! podman image exists "$IMAGE"; then
        printf '%s\n' "$out" >&2
        die "loading $IMAGE into podman failed"
    fi
    log "loaded $IMAGE into podman"
}

cmd_podman-stop() {
    if [ ! -f "$PODMAN_PIDFILE" ]; then
        log "no podman service started by this script (no $PODMAN_PIDFILE)"
        return 0
    fi
    local pid
    pid="$(cat "$PODMAN_PIDFILE")"
    if ! is_podman "$pid"; then
        log "podman pid $pid is gone"
        rm -f "$PODMAN_PIDFILE"
        return 0
    fi
    log "stopping podman service (pid $pid)"
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 60 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    rm -f "$PODMAN_PIDFILE" "$PODMAN_SOCK"
    log "stopped podman"
}

cmd_stop() {
    cmd_podman-stop
    stop_dockerd
}

cmd_status() {
    if ping_engine; then
        local version
        version="$(curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/version \
            | sed -n 's/.*"Version":"\([^"]*\)","ApiVersion":"\([^"]*\)".*/Engine \1, API \2/p' || true)"
        echo "engine: answering on $SOCK (${version:-version unknown})"
    else
        echo "engine: not answering on $SOCK"
    fi
    if [ -f "$PIDFILE" ] && is_dockerd "$(cat "$PIDFILE")"; then
        echo "started by this script: pid $(cat "$PIDFILE") (log: $LOGFILE)"
    else
        echo "started by this script: none"
    fi
    if ping_engine && docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then
        echo "image: $IMAGE present"
    else
        echo "image: $IMAGE absent"
    fi
    if ping_podman; then
        local pversion
        pversion="$(curl -fsS --max-time 3 --unix-socket "$PODMAN_SOCK" http://localhost/version \
            | sed -n 's/.*"Version":"\([^"]*\)","ApiVersion":"\([^"]*\)".*/Podman \1, API \2/p' || true)"
        echo "podman: answering on $PODMAN_SOCK (${pversion:-version unknown})"
    else
        echo "podman: not answering on $PODMAN_SOCK"
    fi
}

usage() {
    echo "usage: $0 {install|start|image|stop|status|podman|podman-stop}..." >&2
    exit 2
}

[ "$#" -gt 0 ] || usage
for arg in "$@"; do
    case "$arg" in
        install | start | image | stop | status | podman | podman-stop) ;;
        *) usage ;;
    esac
done
for arg in "$@"; do
    "cmd_$arg"
done
