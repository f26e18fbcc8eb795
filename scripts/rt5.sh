#!/usr/bin/env bash
# Request Tracker 5 (Debian's request-tracker5, SQLite, standalone server) for tests and development.
#
#   scripts/rt5.sh install   install and configure RT (as root; idempotent, no prompts, ~25 s)
#   scripts/rt5.sh start     start rt-server on a free loopback port; prints its URL (idempotent)
#   scripts/rt5.sh stop      stop the server by the PID in the state file
#   scripts/rt5.sh reset     stop, restore the pristine database, start again
#   scripts/rt5.sh url       print the URL of the running server
#   scripts/rt5.sh token     print a new REST 2 auth token for root (tests read EF_RT_TOKEN)
#
# The RT user is root with the password "password" (RT_ROOT_PASSWORD to change it at install).
# The state file (RT5_STATE, default /run/empathy-firewall-rt5.state) holds PORT= and PID=.
# Tests read the URL from EF_RT_URL: export EF_RT_URL="$(scripts/rt5.sh start)"
# Needs root (apt, and the server runs as www-data). Only loopback is listened on.
set -euo pipefail

STATE=${RT5_STATE:-/run/empathy-firewall-rt5.state}
PASSWORD=${RT_ROOT_PASSWORD:-password}
WORKERS=${RT_WORKERS:-2}
TIMEOUT=${RT_START_TIMEOUT:-30}
ETC=/etc/request-tracker5
DB=/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb
PRISTINE=$DB.pristine
SNIPPET=$ETC/RT_SiteConfig.d/99-empathy-firewall.pm
LOG=/var/log/request-tracker5/rt-server.log

say() { echo "[rt5] $*" >&2; }
die() { say "error: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*)"

installed() { [ -x /usr/share/request-tracker5/libexec/rt-server ] && [ -f "$DB" ]; }

state_get() { [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" || true; }

running_pid() {  # the PID in the state file, if that process is still alive
  local pid; pid=$(state_get PID)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

do_install() {
  if installed; then say "already installed"; return; fi
  local t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # dbconfig-common sets up the SQLite database without asking; a stale template after a purge
  # can make this fail, which is harmless (the defaults are the same and the password is set below).
  debconf-set-selections <<DEBCONF || say "debconf preseed failed (continuing with defaults)"
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/initial-root-password password $PASSWORD
request-tracker5 request-tracker5/rtname string rt.localhost
request-tracker5 request-tracker5/organization string localhost
request-tracker5 request-tracker5/webbaseurl string http://localhost
request-tracker5 request-tracker5/correspondaddress string rt@localhost
request-tracker5 request-tracker5/commentaddress string rt-comment@localhost
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
DEBCONF
  local mta=dma  # a tiny MTA with no daemon; otherwise apt pulls in exim4
  if dpkg-query -W -f='${Provides}\n' 2>/dev/null | grep -qw mail-transport-agent; then mta=; fi
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold \
    request-tracker5 rt5-db-sqlite rt5-standalone dbconfig-sqlite3 sqlite3 curl $mta >/dev/null
  [ -f "$DB" ] || die "dbconfig did not create $DB"
  # the package's empty RT_SiteConfig.pm is root-only; the server runs as www-data
  chgrp www-data $ETC/RT_SiteConfig.pm && chmod 640 $ETC/RT_SiteConfig.pm
  fast_password
  grant_rights
  cp -p "$DB" "$PRISTINE"
  say "install done in $((SECONDS - t0)) s"
}

fast_password() {
  # Test server only: root's password hashed with bcrypt cost 4 (and $BcryptCost 4 below, or
  # RT re-hashes it at the next login). RT's default cost 12 spends ~0.2 s of CPU on EVERY
  # REST request with basic auth, which dominated the test time.
  local hash
  hash=$(RT_PW="$PASSWORD" perl -MCrypt::Eksblowfish::Bcrypt=bcrypt_hash,en_base64 -MDigest::SHA=sha512 \
    -MEncode=encode -e 'my $s = join "", map { chr int rand 256 } 1 .. 16;
      my $h = bcrypt_hash({key_nul => 1, cost => 4, salt => $s}, sha512(encode("UTF-8", $ENV{RT_PW})));
      print join "!", "", "bcrypt", "04", en_base64($s) . en_base64($h);')
  sqlite3 "$DB" "UPDATE Users SET Password = '$hash' WHERE Name = 'root'"
}

grant_rights() {
  # Test server only: privileged users may own and work on tickets, so tests can create
  # agents (REST 2 in RT 5.0.3 cannot grant rights; RT's initialdata loader can).
  local data; data=$(mktemp)
  cat > "$data" <<'PERL'
@ACL = map { { GroupDomain => 'SystemInternal', GroupType => 'Privileged', Right => $_ } }
  qw(OwnTicket ShowTicket ShowTicketComments ReplyToTicket CommentOnTicket ModifyTicket
     SeeQueue SeeCustomField ModifyCustomField);
1;
PERL
  (cd / && /usr/sbin/rt-setup-database-5 --action insert --datafile "$data" --skip-create) >/dev/null 2>&1 \
    || { rm -f "$data"; die "could not grant the test rights (rt-setup-database-5)"; }
  rm -f "$data"
}

write_snippet() {  # $1 = port. Files in RT_SiteConfig.d are read in order; 99-* wins.
  cat > "$SNIPPET" <<PERL
Set(\$WebDomain, 'localhost');
Set(\$WebPort, $1);
Set(\$WebBaseURL, 'http://localhost:$1');
Set(\$WebPath, '');
Set(\$CanonicalizeRedirectURLs, 0);
Set(\$Timezone, 'UTC');
Set(\$MailCommand, 'testfile');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'warning');
Set(\$BcryptCost, 4);
1;
PERL
  chown root:www-data "$SNIPPET" && chmod 640 "$SNIPPET"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

do_start() {
  installed || die "RT is not installed: run $0 install"
  local pid port
  pid=$(running_pid)
  if [ -n "$pid" ]; then echo "http://127.0.0.1:$(state_get PORT)"; return; fi
  port=${RT_PORT:-$(free_port)}
  write_snippet "$port"
  local t0=$SECONDS
  setsid setpriv --reuid=www-data --regid=www-data --init-groups -- \
    /usr/share/request-tracker5/libexec/rt-server --host 127.0.0.1 --port "$port" \
    --max-workers "$WORKERS" >>"$LOG" 2>&1 </dev/null &
  pid=$!
  printf 'PORT=%s\nPID=%s\n' "$port" "$pid" > "$STATE"
  local deadline=$((SECONDS + TIMEOUT))
  until curl -fsS -o /dev/null -u "root:$PASSWORD" "http://127.0.0.1:$port/REST/2.0/rt" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "rt-server exited; see $LOG"
    [ $SECONDS -lt $deadline ] || { kill -TERM "$pid"; die "rt-server not ready after $TIMEOUT s; see $LOG"; }
    sleep 0.2
  done
  say "RT ready on http://127.0.0.1:$port (pid $pid) in $((SECONDS - t0)) s"
  echo "http://127.0.0.1:$port"
}

do_stop() {
  local pid; pid=$(running_pid)
  if [ -z "$pid" ]; then say "not running"; rm -f "$STATE"; return; fi
  kill -TERM "$pid"  # the Starlet master stops its workers
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$STATE"
  say "stopped (pid $pid)"
}

do_reset() {
  installed || die "RT is not installed: run $0 install"
  do_stop
  cp -p "$PRISTINE" "$DB"
  do_start
}

do_token() {  # a new REST 2 auth token for root: REST 2 in RT 5.0.3 cannot create one
  installed || die "RT is not installed: run $0 install"
  (cd / && setpriv --reuid=www-data --regid=www-data --init-groups -- perl \
    -I/usr/share/request-tracker5/lib -e 'use RT; RT::LoadConfig(); RT::Init();
      my $root = RT::User->new(RT->SystemUser); $root->Load("root");
      my ($id, $msg, $token) = RT::AuthToken->new(RT->SystemUser)->Create(
        Owner => $root->Id, Description => "empathy-firewall tests");
      die "$msg\n" unless $id; print "$token\n";' 2>/dev/null) || die "could not create a token"
}

case "${1:-}" in
  install) do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  reset) do_reset ;;
  token) do_token ;;
  url) [ -n "$(running_pid)" ] || die "not running"; echo "http://127.0.0.1:$(state_get PORT)" ;;
  *) echo "usage: $0 install|start|stop|reset|url|token" >&2; exit 2 ;;
esac
