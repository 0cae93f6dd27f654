#!/usr/bin/env bash
# The project's lab: real Samba 4 AD DCs on loopback, installed from Debian packages.
#
# Usage: tests/lab/samba-dc.sh <command>
#   install      apt-get install samba + ldap-utils when missing (root)
#   up           install, provision (once, cached), start and seed the main DC on 127.0.0.1; print its env
#   env          print the main DC's env (export lines) without starting anything
#   fresh-root   a pristine DC on 127.0.0.2 (cloned from a cached, stopped template) for tests that grant on
#                the domain root, which changes what every object inherits; prints its env
#   down         stop every DC of the lab
#   status       running / stopped per DC
#   destroy      down, then remove the lab directory (next `up` provisions again)
#
# Settings: WBW_LAB_DIR (default ~/.cache/writeback-wizard/lab), WBW_LAB_MAX_RUNTIME (seconds; >0 makes samba exit
# by itself, a safety net for CI). Everything lives below WBW_LAB_DIR; nothing is written to /etc/samba.
set -euo pipefail

LAB_DIR=${WBW_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/writeback-wizard/lab}
REALM=CORP.EXAMPLE.TEST
DOMAIN=CORP
ADMIN_PW='Passw0rd!Admin'
USER_PW='Initial#Pass1'
MAX_RUNTIME=${WBW_LAB_MAX_RUNTIME:-0}
PACKAGES=(samba samba-dsdb-modules samba-vfs-modules samba-ad-provision ldap-utils openssl)

realm_lc=${REALM,,}
BASE_DN="DC=${realm_lc//./,DC=}"

log() { echo "[lab $(date +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- one DC instance: dir + ip ---------------------------------------------------------------------------
dc_conf() { echo "$1/etc/smb.conf"; }
dc_pid() { cat "$1/run/samba.pid" 2>/dev/null || true; }
# alive = exists and is not a zombie (samba -D is reparented to PID 1, which reaps it a moment later)
pid_alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$st" ] && [ "$st" != Z ]; }
dc_running() {
  local p; p=$(dc_pid "$1"); [ -n "$p" ] || return 1
  pid_alive "$p" && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q samba
}
admin_args() { echo "-x -o nettimeout=5 -H ldaps://$1 -D CN=Administrator,CN=Users,$BASE_DN"; }

install() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root, or: sudo apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

provision() { # dir ip
  local dir=$1 ip=$2
  [ -f "$dir/.provisioned" ] && return 0
  if [ -e "$dir" ]; then
    [ -f "$dir/etc/smb.conf" ] || die "$dir exists and is not a lab DC: refusing to touch it"
    dc_running "$dir" && die "an unfinished DC in $dir is running"
    rm -rf "$dir"
  fi
  mkdir -p "$dir"/{etc,log,run,tls}
  log "provisioning $REALM into $dir (a few seconds)"
  samba-tool domain provision --targetdir="$dir" --realm="$REALM" --domain="$DOMAIN" --host-name=dc1 \
    --server-role=dc --dns-backend=NONE --host-ip="$ip" --adminpass="$ADMIN_PW" \
    --option="interfaces = $ip/8" --option="bind interfaces only = yes" --option="server services = ldap" \
    --option="log file = $dir/log/samba.log" --option="pid directory = $dir/run" \
    --option="ncalrpc dir = $dir/run/ncalrpc" --option="winbindd socket directory = $dir/run/winbindd" \
    --option="ntp signd socket directory = $dir/run/ntp_signd" \
    > "$dir/log/provision.log" 2>&1 || { tail -20 "$dir/log/provision.log" >&2; die "provision failed"; }

  # Samba's own certificate has no subjectAltName, which rustls rejects: make a CA and a server cert for loopback.
  local names="" n
  for n in $(hostname 2>/dev/null) $(hostname -f 2>/dev/null); do
    case ",$names" in *",DNS:$n,"*) ;; *) names+="DNS:$n,";; esac
  done
  (
    cd "$dir/tls"
    printf '[req]\ndistinguished_name=dn\nprompt=no\nx509_extensions=v3\n[dn]\nCN=writeback-wizard lab CA %s\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' "$ip" > ca.cnf
    printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=dc1.%s\n[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:dc1.%s,DNS:localhost,%sIP:%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
      "$realm_lc" "$realm_lc" "$names" "$ip" > srv.cnf
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -config ca.cnf 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout key.pem -out srv.csr -config srv.cnf 2>/dev/null
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 3650 \
      -extfile srv.cnf -extensions v3 2>/dev/null
    chmod 600 key.pem ca.key
  )
  # provision drops some --option values; TLS files and test-speed knobs go at the top of [global].
  local extra="\tldap server require strong auth = no\n\ttls enabled = yes\n\ttls keyfile = $dir/tls/key.pem\n\ttls certfile = $dir/tls/cert.pem\n\ttls cafile = $dir/tls/ca.pem\n\tldb:nosync = true"
  sed -i "/^\[global\]/a\\$extra" "$(dc_conf "$dir")"
  # A lab policy that lets tests reset the same password repeatedly.
  samba-tool domain passwordsettings set -s "$(dc_conf "$dir")" -H "$dir/private/sam.ldb" \
    --complexity=off --history-length=0 --min-pwd-age=0 --max-pwd-age=0 --min-pwd-length=1 >/dev/null
  touch "$dir/.provisioned"
}

start() { # dir ip
  local dir=$1 ip=$2
  if ! dc_running "$dir"; then
    local args=(-D -M single -s "$(dc_conf "$dir")")
    [ "$MAX_RUNTIME" -gt 0 ] && args+=(--maximum-runtime="$MAX_RUNTIME")
    rm -f "$dir/run/samba.pid"
    # 9>&-: the daemon must not inherit the lab lock
    samba "${args[@]}" < /dev/null > "$dir/log/samba.out" 2>&1 9>&-
  fi
  local started=$SECONDS
  until LDAPTLS_CACERT="$dir/tls/ca.pem" ldapsearch -LLL $(admin_args "$ip") -w "$ADMIN_PW" -b "$BASE_DN" -s base dn \
      >/dev/null 2>&1; do
    if [ $((SECONDS - started)) -ge 30 ] || { [ $((SECONDS - started)) -ge 5 ] && ! dc_running "$dir"; }; then
      tail -20 "$dir/log/samba.log" >&2; stop "$dir"; die "the DC in $dir did not answer LDAPS on $ip"
    fi
    sleep 0.1
  done
}

stop() { # dir
  local dir=$1 p
  dc_running "$dir" || { rm -f "$dir/run/samba.pid"; return 0; }
  p=$(dc_pid "$dir"); kill -TERM "$p"
  for _ in $(seq 1 200); do pid_alive "$p" || break; sleep 0.05; done
  pid_alive "$p" && kill -KILL "$p"
  rm -f "$dir/run/samba.pid"
}

unicodepwd() { printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0; }
ou() { printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$1"; }
user() { # cn parent
  printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@%s\nunicodePwd:: %s\nuserAccountControl: 512\n\n' \
    "$1" "$2" "$1" "$1" "$realm_lc" "$(unicodepwd "$USER_PW")"
}

# Samba has no SDProp: emulate what it does to a protected object (a protected DACL without inherited ACEs).
protect_dacl() { # ip dn
  local ip=$1 dn=$2 sd
  sd=$(ldapsearch -LLL -o ldif-wrap=no $(admin_args "$ip") -w "$ADMIN_PW" -E '!1.2.840.113556.1.4.801=::MAMCAQQ=' \
        -b "$dn" -s base nTSecurityDescriptor | awk '/^nTSecurityDescriptor::/{print $2}')
  [ -n "$sd" ] || die "cannot read the security descriptor of $dn"
  sd=$(printf '%s' "$sd" | python3 -c '
import base64, struct, sys
b = base64.b64decode(sys.stdin.read().strip())
rev, sbz, ctl, o, g, s, d = struct.unpack_from("<BBHIIII", b)
assert (o, g, s, d) == (0, 0, 0, 20), "expected a DACL-only descriptor"
arev, asbz, _, count, asbz2 = struct.unpack_from("<BBHHH", b, 20)
pos, kept = 28, []
for _ in range(count):
    size = struct.unpack_from("<H", b, pos + 2)[0]
    ace = b[pos:pos + size]; pos += size
    if not ace[1] & 0x10: kept.append(ace)          # drop INHERITED_ACE
body = b"".join(kept)
acl = struct.pack("<BBHHH", arev, asbz, 8 + len(body), len(kept), asbz2) + body
print(base64.b64encode(struct.pack("<BBHIIII", rev, sbz, ctl | 0x1000, 0, 0, 0, 20) + acl).decode())')
  printf 'dn: %s\ncontrol: 1.2.840.113556.1.4.801 true:: MAMCAQQ=\nchangetype: modify\nreplace: nTSecurityDescriptor\nnTSecurityDescriptor:: %s\n-\n' "$dn" "$sd" \
    | ldapmodify $(admin_args "$ip") -w "$ADMIN_PW" >/dev/null
}

seed() { # dir ip
  local dir=$1 ip=$2 rc=0 B=$BASE_DN
  export LDAPTLS_CACERT="$dir/tls/ca.pem"
  [ -f "$dir/.seeded" ] && return 0
  {
    ou "OU=Corp,$B"
    ou "OU=Users,OU=Corp,$B"               # the OU tests grant on
    ou "OU=Interns,OU=Users,OU=Corp,$B"    # nested below it: inheritance must reach it
    ou "OU=Sales,OU=Corp,$B"               # a sibling: never in an OU-scoped grant
    ou "OU=NoInherit,OU=Corp,$B"           # inheritance disabled: a domain-root grant does not reach it
    ou "OU=Admins,$B"
    user alice "OU=Users,OU=Corp,$B"
    user bob "OU=Users,OU=Corp,$B"
    user ivan "OU=Interns,OU=Users,OU=Corp,$B"
    user carol "OU=Sales,OU=Corp,$B"
    user nina "OU=NoInherit,OU=Corp,$B"
    user dave "OU=Admins,$B"
    user eve-admin "OU=Users,OU=Corp,$B"   # protected: Domain Admins member, adminCount=1, protected DACL
    user svc-aadc "CN=Users,$B"            # the connector account: a plain user
  } > "$dir/log/seed.ldif"
  ldapadd -c $(admin_args "$ip") -w "$ADMIN_PW" -f "$dir/log/seed.ldif" > "$dir/log/seed.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 68 ] || { cat "$dir/log/seed.out" >&2; die "seeding failed (ldapadd rc=$rc)"; }
  rc=0
  printf 'dn: CN=Domain Admins,CN=Users,%s\nchangetype: modify\nadd: member\nmember: CN=eve-admin,OU=Users,OU=Corp,%s\n-\n\ndn: CN=eve-admin,OU=Users,OU=Corp,%s\nchangetype: modify\nreplace: adminCount\nadminCount: 1\n-\n' "$B" "$B" "$B" \
    | ldapmodify -c $(admin_args "$ip") -w "$ADMIN_PW" >/dev/null 2>&1 || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 20 ] || [ $rc -eq 68 ] || die "making eve-admin a protected Domain Admin failed (rc=$rc)"
  protect_dacl "$ip" "CN=eve-admin,OU=Users,OU=Corp,$B"
  protect_dacl "$ip" "OU=NoInherit,OU=Corp,$B"
  touch "$dir/.seeded"
}

sid_of() { # dir ip sAMAccountName
  LDAPTLS_CACERT="$1/tls/ca.pem" ldapsearch -LLL -o ldif-wrap=no $(admin_args "$2") -w "$ADMIN_PW" -b "$BASE_DN" \
    "(sAMAccountName=$3)" objectSid | awk '/^objectSid::/{print $2}' | python3 -c '
import base64, struct, sys
b = base64.b64decode(sys.stdin.read().strip()); n = b[1]
print("S-%d-%d-" % (b[0], int.from_bytes(b[2:8], "big")) + "-".join(str(x) for x in struct.unpack("<%dI" % n, b[8:8 + 4 * n])))'
}

print_env() { # dir ip
  local dir=$1 ip=$2
  cat <<EOF
export AD_LDAPS_URL='ldaps://$ip:636'
export AD_LDAP_URL='ldap://$ip:389'
export AD_HOST='$ip'
export AD_BASE_DN='$BASE_DN'
export AD_REALM='$REALM'
export AD_DOMAIN='$DOMAIN'
export AD_ADMIN='$DOMAIN\\Administrator'
export AD_ADMIN_DN='CN=Administrator,CN=Users,$BASE_DN'
export AD_ADMIN_PASSWORD='$ADMIN_PW'
export AD_CA_CERT='$dir/tls/ca.pem'
export AD_CONNECTOR='$DOMAIN\\svc-aadc'
export AD_CONNECTOR_DN='CN=svc-aadc,CN=Users,$BASE_DN'
export AD_CONNECTOR_SID='$(sid_of "$dir" "$ip" svc-aadc)'
export AD_USER_PASSWORD='$USER_PW'
export AD_TARGET_OU='OU=Users,OU=Corp,$BASE_DN'
export AD_OTHER_OU='OU=Sales,OU=Corp,$BASE_DN'
export AD_PID_FILE='$dir/run/samba.pid'
EOF
}

# Serialize concurrent callers (test processes run in parallel).
with_lock() { mkdir -p "$LAB_DIR"; exec 9>"$LAB_DIR/.lock"; flock 9; }

MAIN="$LAB_DIR/dc1"; MAIN_IP=127.0.0.1
ROOT_TEMPLATE="$LAB_DIR/root-template"; ROOT_RUN="$LAB_DIR/root-run"; ROOT_IP=127.0.0.2

cmd=${1:-}
case "$cmd" in
  install) install ;;
  up)
    with_lock; install; provision "$MAIN" "$MAIN_IP"; start "$MAIN" "$MAIN_IP"; seed "$MAIN" "$MAIN_IP"
    print_env "$MAIN" "$MAIN_IP" ;;
  env) print_env "$MAIN" "$MAIN_IP" ;;
  fresh-root)
    with_lock; install
    if [ ! -f "$ROOT_TEMPLATE/.seeded" ]; then
      provision "$ROOT_TEMPLATE" "$ROOT_IP"; start "$ROOT_TEMPLATE" "$ROOT_IP"; seed "$ROOT_TEMPLATE" "$ROOT_IP"
    fi
    stop "$ROOT_TEMPLATE"; stop "$ROOT_RUN"
    rm -rf "$ROOT_RUN"; cp -a "$ROOT_TEMPLATE" "$ROOT_RUN"; rm -f "$ROOT_RUN/run/samba.pid"
    # every absolute path in smb.conf ('lock directory = DIR' has no trailing slash)
    sed -i -E "s#$ROOT_TEMPLATE(/|\$)#$ROOT_RUN\1#g" "$(dc_conf "$ROOT_RUN")"
    start "$ROOT_RUN" "$ROOT_IP"
    print_env "$ROOT_RUN" "$ROOT_IP" ;;
  down) for d in "$MAIN" "$ROOT_TEMPLATE" "$ROOT_RUN"; do [ -d "$d" ] && stop "$d"; done; true ;;
  status)
    for d in "$MAIN" "$ROOT_TEMPLATE" "$ROOT_RUN"; do
      if dc_running "$d"; then echo "$d: running (pid $(dc_pid "$d"))"; else echo "$d: stopped"; fi
    done ;;
  destroy)
    for d in "$MAIN" "$ROOT_TEMPLATE" "$ROOT_RUN"; do [ -d "$d" ] && stop "$d"; done
    rm -rf "$LAB_DIR" ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
