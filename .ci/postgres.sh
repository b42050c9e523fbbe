# Source this file: a throwaway PostgreSQL server on a loopback port for the shared-study test.
#
#   start_postgres   install the Debian package when the server binaries are missing (as root, with
#                    apt-get), initdb into a temporary folder, start the server on a free 127.0.0.1 port as
#                    a non-root user (postgres refuses root), create a database and export
#                    CNNSTUDIO_TEST_POSTGRES_URL; returns 1 (and says why) when it cannot
#   stop_postgres    stop the server and delete its folder (safe to call twice, or when none was started)

_pg_bin() {
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

_pg_as() {  # run a command as the server's user
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$_PG_USER" -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bin port
    bin=$(_pg_bin || true)
    if [ -z "$bin" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "ci: installing PostgreSQL (Debian package postgresql)" >&2
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || {
                echo "ci: could not install PostgreSQL" >&2; return 1; }
            bin=$(_pg_bin || true)
        fi
        [ -n "$bin" ] || { echo "ci: no PostgreSQL server binaries (pg_ctl, initdb)" >&2; return 1; }
    fi
    _PG_USER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        _PG_USER=postgres
        id -u "$_PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$_PG_USER"
    fi
    _PG_DIR=$(mktemp -d /tmp/cnnstudio-pg.XXXXXX)
    chmod 700 "$_PG_DIR"
    [ "$(id -u)" = 0 ] && chown "$_PG_USER" "$_PG_DIR"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    _pg_as "$bin/initdb" -D "$_PG_DIR/data" -U cnnstudio --auth=trust -E UTF8 >"$_PG_DIR/initdb.log" 2>&1 || {
        echo "ci: initdb failed:" >&2; cat "$_PG_DIR/initdb.log" >&2; stop_postgres; return 1; }
    _pg_as "$bin/pg_ctl" -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" -w -t 60 start \
        -o "-p $port -k $_PG_DIR -c listen_addresses=127.0.0.1" >/dev/null || {
        echo "ci: the PostgreSQL server did not start:" >&2; cat "$_PG_DIR/server.log" >&2; stop_postgres; return 1; }
    _PG_CTL="$bin/pg_ctl"
    _pg_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U cnnstudio cnnstudio_test || {
        echo "ci: createdb failed" >&2; stop_postgres; return 1; }
    export CNNSTUDIO_TEST_POSTGRES_URL="postgresql://cnnstudio@127.0.0.1:$port/cnnstudio_test"
    echo "ci: $("$bin/postgres" --version) on 127.0.0.1:$port" >&2
}

stop_postgres() {
    if [ -n "${_PG_CTL:-}" ] && [ -n "${_PG_DIR:-}" ] && [ -d "$_PG_DIR/data" ]; then
        _pg_as "$_PG_CTL" -D "$_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "${_PG_DIR:-}" ]; then
        rm -rf "$_PG_DIR"
    fi
    _PG_DIR=""
    _PG_CTL=""
    unset CNNSTUDIO_TEST_POSTGRES_URL
}
