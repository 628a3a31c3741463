#!/usr/bin/env bash
# The machine set-up `make test` runs first: the Debian packages the real-server tests use, and the
# database servers running. As root it installs what is missing (apt-get update once, only then) and
# starts PostgreSQL and MariaDB; otherwise it prints the one command that would do it and stops (exit 1).
# Safe to run again: when everything is there it changes nothing.
#
#   icecast2                     the loudspeaker stream tests (a real Icecast)
#   wordpress php-cli php-mysql  the portal tests (a real WordPress, served by php -S)
#   mariadb-server mariadb-client  WordPress's database (127.0.0.1:3306, root, empty password)
#   postgresql                   the PostgreSQL pass of the suite (127.0.0.1:5432, user postgres, trust)
#   chromium fonts-noto-core     the browser tests (Playwright drives Debian's Chromium; Vietnamese glyphs)
set -euo pipefail

PACKAGES=(icecast2 wordpress php-cli php-mysql mariadb-server mariadb-client postgresql chromium fonts-noto-core)
MARIADB_HOST=${LOA_TEST_MARIADB_HOST:-127.0.0.1}
MARIADB_PORT=${LOA_TEST_MARIADB_PORT:-3306}

say() { echo "test-setup: $*"; }
fail() { echo "test-setup: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }

# --- Debian packages -------------------------------------------------------------------------------------
just_installed=" "
if command -v dpkg-query >/dev/null; then
    missing=()
    for package in "${PACKAGES[@]}"; do
        installed "$package" || missing+=("$package")
    done
    if ((${#missing[@]})); then
        if ! is_root; then
            echo "loa's tests need Debian packages that are missing; install them, then run make test again:" >&2
            echo "sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
        say "installing the Debian packages the tests need: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        just_installed=" ${missing[*]} "
    fi
else
    say "not a Debian system: install ${PACKAGES[*]} (or their equivalents) yourself"
fi

# --- PostgreSQL on 127.0.0.1:5432 (unless LOA_TEST_POSTGRES_URL points elsewhere) ----------------------------
if [ -n "${LOA_TEST_POSTGRES_URL:-}" ]; then
    say "PostgreSQL: the tests use LOA_TEST_POSTGRES_URL; not starting a local server"
else
    if ! command -v pg_isready >/dev/null && compgen -G "/usr/lib/postgresql/*/bin" >/dev/null; then
        PATH="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1):$PATH"
    fi
    pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
    if [[ $just_installed == *" postgresql "* ]] && is_root; then
        # a server installed just now for the tests: let local test users in without a password
        version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
        [ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main >/dev/null
        hba="/etc/postgresql/$version/main/pg_hba.conf"
        say "PostgreSQL: trusting local connections in $hba (a test machine)"
        printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' > "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
    fi
    if ! pg_up; then
        is_root || fail "PostgreSQL is not answering on 127.0.0.1:5432; start it: sudo pg_ctlcluster \$(ls /etc/postgresql) main start"
        say "PostgreSQL is not answering on 127.0.0.1:5432: starting it"
        for cluster in /etc/postgresql/*/main; do
            pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$cluster")")" main start || true
        done
        for _ in $(seq 60); do pg_up && break; sleep 0.5; done
        pg_up || fail "PostgreSQL did not come up on 127.0.0.1:5432 (see /var/log/postgresql/)"
    fi
fi

# --- MariaDB for WordPress ----------------------------------------------------------------------------------
mariadb_up() { mariadb-admin -h "$MARIADB_HOST" -P "$MARIADB_PORT" -u root ping >/dev/null 2>&1; }  # 0 even if refused
if ! mariadb_up; then
    is_root || fail "MariaDB is not answering on $MARIADB_HOST:$MARIADB_PORT; start it: sudo start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
    say "MariaDB is not answering on $MARIADB_HOST:$MARIADB_PORT: starting it"
    install -d -o mysql -g mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 60); do mariadb_up && break; sleep 0.5; done
    mariadb_up || fail "MariaDB did not come up on $MARIADB_HOST:$MARIADB_PORT"
fi
if ! mariadb -h "$MARIADB_HOST" -P "$MARIADB_PORT" -u root -e 'SELECT 1' >/dev/null 2>&1; then
    if [[ $just_installed == *" mariadb-server "* ]] && is_root; then
        # a server installed just now for the tests: root over TCP with an empty password, as the tests expect
        say "MariaDB: letting root in over 127.0.0.1 with an empty password (a test machine)"
        mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
            CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
    else
        fail "MariaDB at $MARIADB_HOST:$MARIADB_PORT refuses root with an empty password, which the WordPress tests use"
    fi
fi

# --- WordPress's site configs go to /etc/wordpress -----------------------------------------------------------
if [ -d /etc/wordpress ] && [ ! -w /etc/wordpress ]; then
    fail "the WordPress tests write their site config into /etc/wordpress: run make test as root (as CI does)"
fi

say "ready (Debian packages installed, PostgreSQL and MariaDB answering)"
