"""A real WordPress (Debian's package) on a throwaway MariaDB database, served by PHP; fails loudly when missing.

Debian installs WordPress under /usr/share/wordpress and reads each site's settings from
/etc/wordpress/config-<name>.php, choosing <name> from the Host header or the server variable
WORDPRESS_CONFIG. The fixture writes its own config-loa-test-<hex>.php (a database of its own, the
site URL, ``WP_ENVIRONMENT_TYPE=local`` so Application Passwords work over plain HTTP), serves
the site with ``php -S`` and a router that sets WORDPRESS_CONFIG and sends pretty permalinks
(``/wp-json/...``) to index.php, installs it by calling ``wp_install()`` from PHP, and creates an
Application Password for the admin. Everything is removed at the end of the session.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from servers import processes

WORDPRESS = Path("/usr/share/wordpress")
CONFIG_DIR = Path("/etc/wordpress")
MARIADB_HOST = os.environ.get("LOA_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("LOA_TEST_MARIADB_PORT", "3306"))
ADMIN = "loa-admin"

_ROUTER = """<?php
$_SERVER['WORDPRESS_CONFIG'] = '{name}';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$file = '{root}' . $path;
if ($path !== '/' && is_file($file)) {{
    if (substr($file, -4) !== '.php') {{
        return false;
    }}
    $_SERVER['SCRIPT_NAME'] = $path;
    $_SERVER['PHP_SELF'] = $path;
    $_SERVER['SCRIPT_FILENAME'] = $file;
    chdir(dirname($file));
    require $file;
    return true;
}}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = '{root}/index.php';
chdir('{root}');
require '{root}/index.php';
"""

_CONFIG = """<?php
define('DB_NAME', '{db}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '{db_host}:{db_port}');
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
{salts}
"""

_INSTALL = """<?php
$_SERVER['WORDPRESS_CONFIG'] = '{name}';
$_SERVER['HTTP_HOST'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require '{root}/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = @wp_install('loa test portal', '{admin}', 'admin@example.invalid', false, '', wp_generate_password(24));
update_option('timezone_string', 'Asia/Ho_Chi_Minh');
update_option('upload_path', '{uploads}');
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
$wp_rewrite->flush_rules(false);
$created = WP_Application_Passwords::create_new_application_password($result['user_id'], array('name' => 'loa'));
if (is_wp_error($created)) {{
    fwrite(STDERR, $created->get_error_message());
    exit(1);
}}
echo json_encode(array('user' => '{admin}', 'password' => $created[0]));
"""


@dataclass(frozen=True)
class WordPress:
    """A running WordPress: its URL, an administrator and that user's Application Password."""

    url: str
    user: str
    password: str
    database: str
    #: Where WordPress keeps uploaded media (outside the served tree: check files here, not by URL).
    uploads: Path

    @property
    def api(self) -> str:
        return self.url + "/wp-json/wp/v2"

    def posts(self, **params: str) -> list[dict]:
        """Every post in any status (``context=edit`` so drafts and scheduled posts show), as WordPress has them."""
        response = requests.get(f"{self.api}/posts", auth=(self.user, self.password), timeout=30,
                                params={"status": "any", "context": "edit", "per_page": "100", **params})
        response.raise_for_status()
        return response.json()


def _fail(message: str) -> None:
    pytest.fail(f"WordPress test server: {message}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mariadb(sql: str) -> None:
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        _fail("the MariaDB client is missing: apt-get install mariadb-client mariadb-server")
    result = subprocess.run([client, "-h", MARIADB_HOST, "-P", str(MARIADB_PORT), "-u", "root", "-e", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        _fail(f"MariaDB at {MARIADB_HOST}:{MARIADB_PORT} (root, empty password) refused {sql!r}: "
              f"{result.stderr.strip()} — start it: start-stop-daemon --start --oknodo --background "
              "--exec /usr/sbin/mariadbd")


def _check_installed() -> str:
    php = shutil.which("php")
    if php is None or not (WORDPRESS / "wp-load.php").is_file() or not CONFIG_DIR.is_dir():
        _fail("PHP or Debian's wordpress package is missing: apt-get install wordpress php-cli php-mysql")
    modules = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=60).stdout.lower().split()
    if "mysqli" not in modules:
        _fail("PHP has no mysqli module: apt-get install php-mysql")
    if not os.access(CONFIG_DIR, os.W_OK):
        _fail(f"cannot write the site config into {CONFIG_DIR} (run the tests as root, as CI does)")
    return php


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            _fail(f"php -S exited with {server.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"{url}/wp-json/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _fail(f"{url}/wp-json/ did not answer 200 within 30 s: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPress]:
    """A freshly installed WordPress for the whole session, removed afterwards."""
    php = _check_installed()
    name = f"loa-test-{secrets.token_hex(6)}"
    database = name.replace("-", "_")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    work = tmp_path_factory.mktemp("wordpress")
    config = CONFIG_DIR / f"config-{name}.php"
    salts = "\n".join(f"define('{key}', '{secrets.token_hex(32)}');" for key in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
        "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
    _mariadb(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    server = None
    try:
        config.write_text(_CONFIG.format(db=database, db_host=MARIADB_HOST, db_port=MARIADB_PORT, url=url,
                                         salts=salts))
        (work / "install.php").write_text(_INSTALL.format(name=name, root=WORDPRESS, admin=ADMIN,
                                                          uploads=work / "uploads"))
        (work / "router.php").write_text(_ROUTER.format(name=name, root=WORDPRESS))
        installed = subprocess.run([php, str(work / "install.php")], capture_output=True, text=True, timeout=120)
        if installed.returncode != 0:
            _fail(f"wp_install failed ({installed.returncode}): {installed.stderr[-2000:]} {installed.stdout[-500:]}")
        try:
            account = json.loads(installed.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            _fail(f"wp_install printed no account: {installed.stdout[-1000:]} {installed.stderr[-1000:]}")
        log = work / "php-server.log"
        with log.open("wb") as out:  # php -S forks its workers: stopped with their group, never left to init
            server = processes.start([php, "-S", f"127.0.0.1:{port}", "-t", str(WORDPRESS), str(work / "router.php")],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=work,
                                     env={**os.environ, "PHP_CLI_SERVER_WORKERS": "2"})
        _wait_until_up(url, server, log)
        yield WordPress(url=url, user=account["user"], password=account["password"], database=database,
                        uploads=work / "uploads")
    finally:
        if server is not None:
            processes.stop(server)
        config.unlink(missing_ok=True)
        _mariadb(f"DROP DATABASE IF EXISTS `{database}`")
