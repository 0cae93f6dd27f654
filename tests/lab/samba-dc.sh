#!/usr/bin/env bash
# The project's lab: real Samba 4 AD DCs on loopback, installed from Debian packages.
#
# Usage: tests/lab/samba-dc.sh <command>
#   install      apt-get install what the lab, its checks and the Kerberos build need, when missing (root)
#   up           install, provision (once, cached), start and seed the main DC on 127.0.0.1, get a Kerberos ticket
#                for its Administrator; print its env
#   env          print the main DC's env (export lines) without starting anything or getting a ticket
#   fresh-root   a pristine DC on 127.0.0.2 (cloned from a cached, stopped template) for tests that grant on
#                the domain root, which changes what every object inherits; prints its env
#   forest       a pristine two-domain forest (root DC on 127.0.0.3, child-domain DC on 127.0.0.4), cloned from a
#                cached, stopped template (built once, about 10-25 s); every call stops the running forest and starts
#                a fresh copy (about 2 s), so call it once per test process; prints its env (FOREST_*)
#   forest-env   print the forest's env without restarting it
#   scale        the scale lab for benchmarks (issue 11): a DC on 127.0.0.5 with 1,000 + 10,000 OUs and 20,000 users,
#                cloned from a cached, stopped template (built once, about 5 minutes); every call stops the running
#                copy and starts a fresh one (about 1 s); prints its env (SCALE_*)
#   scale-env    print the scale lab's env without restarting it
#   selftest     run tests/lab/check-lab.sh: the Kerberos and forest checks with command-line tools
#   down         stop every DC of the lab
#   status       running / stopped per DC
#   destroy      down, then remove the lab directory (next `up` provisions again)
#
# Settings: WBW_LAB_DIR (default ~/.cache/writeback-wizard/lab), WBW_LAB_MAX_RUNTIME (seconds; >0 makes samba exit
# by itself, a safety net for CI). Everything lives below WBW_LAB_DIR; nothing is written to /etc.
#
# Main DC (up/env): CORP.EXAMPLE.TEST, dnsHostName dc1.corp.example.test (AD_DC_HOSTNAME), on 127.0.0.1 with
# `server services = ldap, kdc` (KDC on 127.0.0.1:88) and `ldap server require strong auth = allow_sasl_over_tls`:
# simple and SASL binds over LDAPS/StartTLS; over plain ldap:// only SASL with sign/seal (a simple bind gets rc=8).
# SPNs ldap/dc1.corp.example.test etc. are registered with samba_spnupdate. KRB5_CONFIG is a krb5.conf in the lab
# dir (realm CORP.EXAMPLE.TEST, kdc = 127.0.0.1, no DNS, rdns = false); KRB5CCNAME a FILE: ccache with a fresh
# ticket for Administrator@CORP.EXAMPLE.TEST, renewed by every `up`. There is no DNS for dc1.corp.example.test:
# connect to 127.0.0.1 and use the host name only for the SPN. A DC made by an older version of this script is
# upgraded in place by `up` (smb.conf patched, SPNs registered, restarted once).
#
# Forest (forest/forest-env): two Samba DCs built to look like one forest (Samba 4.17 cannot create or join a child
# domain, so this is a stand-in; see provision-in-forest.py):
#   root  FOREST.EXAMPLE.TEST        DC=forest,DC=example,DC=test        rootdc.forest.example.test        127.0.0.3
#   child CHILD.FOREST.EXAMPLE.TEST  DC=child,DC=forest,DC=example,DC=test  childdc.child.forest.example.test 127.0.0.4
# What it shows:
#   - both DCs list both domains: crossRef objects (systemFlags 3, nCName, dnsRoot, nETBIOSName) under
#     CN=Partitions,CN=Configuration,DC=forest,... on each DC (trustParent only on the root's copy of the child's
#     crossRef; the other domain's nCName carries only <SID=..> in extended-DN form, no <GUID=..>); the child's
#     rootDSE has rootDomainNamingContext, configurationNamingContext and schemaNamingContext of the root,
#     defaultNamingContext of its own;
#   - DNS on 127.0.0.3:53 (FOREST_DNS_SERVER) answers for both domains: SRV _ldap._tcp.dc._msdcs.<domain> and
#     _ldap._tcp.<domain> (port 389, the DC's host name), _kerberos._tcp/_udp.<domain>, and A records for
#     rootdc.forest.example.test / childdc.child.forest.example.test and for each domain name. The child's records
#     are copies in a zone on the root (the root does not follow a delegation). 127.0.0.4:53 answers for the child
#     only. Names in no zone get NXDOMAIN at once (no forwarder, nothing leaves the machine);
#   - LDAPS on 636 (and StartTLS on 389) with certificates from one lab CA (FOREST_CA_CERT) whose subjectAltNames
#     are the DC's host name, its domain name and its IP: verify against the host name from SRV while connecting
#     to the address from the A record;
#   - each DC has its own KDC and SPNs (realms FOREST.EXAMPLE.TEST, CHILD.FOREST.EXAMPLE.TEST; FOREST_KRB5_CONFIG
#     knows both; a ticket per domain's Administrator in FOREST_ROOT_KRB5CCNAME / FOREST_CHILD_KRB5CCNAME), and
#     `ldap server require strong auth = allow_sasl_over_tls` like the main DC;
#   - each domain has its own Administrator (different passwords), two OUs with one user each, and: in the root a
#     connector account (FOREST\svc-aadc); in the child CHILD\svc-child whose UPN is svc-child@forest.example.test
#     (the ROOT's suffix), and in the root a decoy FOREST\svc-child without a UPN, so a tool that takes a UPN's
#     suffix for the account's domain finds the wrong account;
#   - an ACE with a root-domain SID can be written on the child's objects.
# What it cannot show (test those by reasoning, unit tests or a real Windows forest):
#   - trust or cross-domain authentication: a root account cannot bind to the child DC, and no ticket for one
#     realm works on the other; each domain is administered by its own Administrator;
#   - referrals: the root DC holds no subordinate reference to the child; a search based at the child's DN on
#     the root DC returns noSuchObject (32), not a referral (subtree searches at a domain root still return the
#     usual continuation references to the configuration and DNS partitions);
#   - a forest-wide Global Catalog: 3268/3269 answer on both DCs, but each holds only its own domain (plus the
#     configuration and schema); the child's users are not in the root's GC;
#   - replication: the two configuration partitions are separate copies that only share the crossRefs.
#
# Scale lab (scale/scale-env): CORP.EXAMPLE.TEST again (its own database, certificate and CA), dnsHostName
# dc1.corp.example.test, on 127.0.0.5 (SCALE_HOST), `server services = ldap`, simple binds allowed (like the main DC
# before Kerberos). Only benchmarks use it (tests/bench/scale.rs); never seed big trees into the shared main DC.
#   OU=Scale1k,DC=corp,...     1,000 child OUs  OU=ou0000 .. OU=ou0999                      (SCALE_OUS_1K)
#   OU=Scale10k,DC=corp,...    10,000 child OUs OU=ou00000 .. OU=ou09999                    (SCALE_OUS_10K)
#   OU=ScaleUsers,DC=corp,...  20 OUs OU=g00 .. OU=g19 with 1,000 users each, CN=su00000 .. CN=su19999
#                              (sAMAccountName = CN; no password, so disabled: userAccountControl 546) (SCALE_USERS_OU)
#   CORP\svc-aadc in CN=Users  the connector (SCALE_CONNECTOR*), password SCALE_USER_PASSWORD. OU=ScaleUsers holds
#                              the four writeback ACEs for it (set before the users were added, so all 20,000
#                              inherit them): `check --users` finds every user covered.
# The template is seeded offline, on the stopped database, with ldbadd in batches of 1,000 objects (one transaction
# each). Measured on the 2-core lab machine (Samba 4.17, tdb backend), adding objects gets slower as the database
# grows, whichever way they arrive: every add rewrites index lists (objectClass) that grow with the database.
#   10,000 OUs below one parent (from a fresh provision): ldapadd over LDAPS 46 s; ldbadd offline as ONE
#   transaction 108 s (worse: ldb's in-transaction index cache copies the growing lists on every add); ldbadd
#   offline in batches of 1,000: 41 s (batches of 250: no better). The mdb backend: 93 s in one transaction.
#   1,000 more at ~15,000 objects: OUs ldapadd 6.1 s, ldbadd 4.9-6.1 s; users ldapadd 6.6 s, ldbadd 6.1 s
#   (--controls=relax:0: 7.8 s, no help).
# So offline batches are the fastest way found, about 10% ahead of LDAP. Building the template (31,000 objects)
# took 304 s: provision 6 s, 1,000 OUs 1 s, 10,000 OUs 35 s, 20,000 users 261 s (`scale-template.log` in the
# template directory keeps the last build's numbers). Each `scale` call then copies the stopped template
# (250 MB) and starts it: 0.9 s.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${WBW_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/writeback-wizard/lab}
REALM=CORP.EXAMPLE.TEST
DOMAIN=CORP
ADMIN_PW='Passw0rd!Admin'
USER_PW='Initial#Pass1'
MAX_RUNTIME=${WBW_LAB_MAX_RUNTIME:-0}
# What the DCs need (checked by up, fresh-root and forest); what check-lab.sh needs; what `cargo build
# --features kerberos` needs (bindgen: libclang and its headers; libgssapi-sys: krb5 headers).
PACKAGES=(samba samba-dsdb-modules samba-vfs-modules samba-ad-provision ldap-utils openssl krb5-user ldb-tools)
CHECK_PACKAGES=(bind9-dnsutils libsasl2-modules-gssapi-mit libnss-wrapper)
BUILD_PACKAGES=(libkrb5-dev libclang-dev pkg-config)

realm_lc=${REALM,,}
BASE_DN="DC=${realm_lc//./,DC=}"

log() { echo "[lab $(date +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }
dn_of() { local d=${1,,}; echo "DC=${d//./,DC=}"; }   # dns name -> DN

# --- one DC instance: dir + ip ---------------------------------------------------------------------------
dc_conf() { echo "$1/etc/smb.conf"; }
dc_pid() { cat "$1/run/samba.pid" 2>/dev/null || true; }
# alive = exists and is not a zombie (samba -D is reparented to PID 1, which reaps it a moment later)
pid_alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$st" ] && [ "$st" != Z ]; }
dc_running() {
  local p; p=$(dc_pid "$1"); [ -n "$p" ] || return 1
  pid_alive "$p" && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q samba
}
admin_args() { echo "-x -o nettimeout=5 -H ldaps://$1 -D CN=Administrator,CN=Users,${2:-$BASE_DN}"; } # ip [base]

need() { # package...
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root, or: sudo apt-get install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install() { need "${PACKAGES[@]}"; }

# A CA in $1 (ca.pem, ca.key); label $2 goes into its name.
make_ca() {
  ( cd "$1"
    printf '[req]\ndistinguished_name=dn\nprompt=no\nx509_extensions=v3\n[dn]\nCN=writeback-wizard lab CA %s\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' "$2" > ca.cnf
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -config ca.cnf 2>/dev/null
    chmod 600 ca.key )
}
# A server certificate in $1 (cert.pem, key.pem) for CN $3 with subjectAltName $4, signed by the CA in $2.
make_cert() {
  ( cd "$1"
    printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=%s\n[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
      "$3" "$4" > srv.cnf
    openssl req -newkey rsa:2048 -nodes -keyout key.pem -out srv.csr -config srv.cnf 2>/dev/null
    # a random serial: two certificates may be signed by one CA at the same time
    openssl x509 -req -in srv.csr -CA "$2/ca.pem" -CAkey "$2/ca.key" -set_serial "0x$(openssl rand -hex 16)" -out cert.pem -days 3650 \
      -extfile srv.cnf -extensions v3 2>/dev/null
    chmod 600 key.pem )
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
  make_ca "$dir/tls" "$ip"
  make_cert "$dir/tls" "$dir/tls" "dc1.$realm_lc" "DNS:dc1.$realm_lc,DNS:localhost,${names}IP:$ip"
  # provision drops some --option values; TLS files and test-speed knobs go at the top of [global].
  local extra="\tldap server require strong auth = no\n\ttls enabled = yes\n\ttls keyfile = $dir/tls/key.pem\n\ttls certfile = $dir/tls/cert.pem\n\ttls cafile = $dir/tls/ca.pem\n\tldb:nosync = true"
  sed -i "/^\[global\]/a\\$extra" "$(dc_conf "$dir")"
  # A lab policy that lets tests reset the same password repeatedly.
  samba-tool domain passwordsettings set -s "$(dc_conf "$dir")" -H "$dir/private/sam.ldb" \
    --complexity=off --history-length=0 --min-pwd-age=0 --max-pwd-age=0 --min-pwd-length=1 >/dev/null
  touch "$dir/.provisioned"
}

# Kerberos on a provisioned DC: KDC, SASL binds without sign/seal inside TLS (what ldap3 and AD clients do), and
# the ldap/ SPNs (with --dns-backend=NONE nothing registers them). Also upgrades a DC provisioned by an older
# version of this script; the DC is stopped for it (the caller starts it again).
kerberize() { # dir
  local dir=$1 conf; conf=$(dc_conf "$1")
  [ -f "$dir/.kerberos" ] && return 0
  log "enabling Kerberos on the DC in $dir"
  stop "$dir"
  sed -i -E 's/^([[:space:]]*server services[[:space:]]*=).*/\1 ldap, kdc/;
             s/^([[:space:]]*ldap server require strong auth[[:space:]]*=).*/\1 allow_sasl_over_tls/' "$conf"
  grep -Eq '^[[:space:]]*server services = ldap, kdc$' "$conf" && grep -q 'strong auth = allow_sasl_over_tls' "$conf" \
    || die "could not patch $conf for Kerberos"
  samba_spnupdate -s "$conf" > "$dir/log/spnupdate.log" 2>&1 \
    || { tail -20 "$dir/log/spnupdate.log" >&2; die "samba_spnupdate failed"; }
  touch "$dir/.kerberos"
}

# A krb5.conf for realm=kdc pairs; written only when it changes (readers never see half a file).
write_krb5_conf() { # file realm=kdc...
  local file=$1 rv r k; shift
  {
    printf '[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_realm = false\n\tdns_lookup_kdc = false\n\trdns = false\n\tdns_canonicalize_hostname = false\n[realms]\n' "${1%%=*}"
    for rv in "$@"; do r=${rv%%=*}; k=${rv#*=}; printf '\t%s = {\n\t\tkdc = %s\n\t}\n' "$r" "$k"; done
    printf '[domain_realm]\n'
    for rv in "$@"; do r=${rv%%=*}; printf '\t.%s = %s\n\t%s = %s\n' "${r,,}" "$r" "${r,,}" "$r"; done
  } > "$file.tmp.$$"
  if cmp -s "$file.tmp.$$" "$file"; then rm -f "$file.tmp.$$"; else mv -f "$file.tmp.$$" "$file"; fi
}

# A fresh ticket for Administrator@realm in a FILE ccache, replaced atomically.
ticket() { # krb5.conf ccache-file realm password
  local tmp="$2.tmp.$$"
  rm -f "$tmp"
  printf '%s\n' "$4" | KRB5_CONFIG=$1 KRB5CCNAME="FILE:$tmp" kinit "Administrator@$3" > "$tmp.log" 2>&1 \
    || { cat "$tmp.log" >&2; rm -f "$tmp" "$tmp.log"; die "kinit Administrator@$3 failed"; }
  rm -f "$tmp.log"; mv -f "$tmp" "$2"
}

start() { # dir ip [base-dn admin-password]
  local dir=$1 ip=$2 base=${3:-$BASE_DN} pw=${4:-$ADMIN_PW}
  if ! dc_running "$dir"; then
    local args=(-D -M single -s "$(dc_conf "$dir")")
    [ "$MAX_RUNTIME" -gt 0 ] && args+=(--maximum-runtime="$MAX_RUNTIME")
    rm -f "$dir/run/samba.pid"
    # 9>&-: the daemon must not inherit the lab lock
    samba "${args[@]}" < /dev/null > "$dir/log/samba.out" 2>&1 9>&-
  fi
  local started=$SECONDS
  until LDAPTLS_CACERT="$dir/tls/ca.pem" ldapsearch -LLL $(admin_args "$ip" "$base") -w "$pw" -b "$base" -s base dn \
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
user() { # cn parent [upn-suffix|-]   (- = no UPN)
  local suffix=${3:-$realm_lc}
  printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\n' "$1" "$2" "$1"
  [ "$suffix" = - ] || printf 'userPrincipalName: %s@%s\n' "$1" "$suffix"
  printf 'unicodePwd:: %s\nuserAccountControl: 512\n\n' "$(unicodepwd "$USER_PW")"
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

sid_text() { # base64 objectSid on stdin -> S-1-...
  python3 -c '
import base64, struct, sys
b = base64.b64decode(sys.stdin.read().strip()); n = b[1]
print("S-%d-%d-" % (b[0], int.from_bytes(b[2:8], "big")) + "-".join(str(x) for x in struct.unpack("<%dI" % n, b[8:8 + 4 * n])))'
}
sid_of() { # dir ip sAMAccountName [base-dn admin-password]
  local base=${4:-$BASE_DN}
  LDAPTLS_CACERT="$1/tls/ca.pem" ldapsearch -LLL -o ldif-wrap=no $(admin_args "$2" "$base") -w "${5:-$ADMIN_PW}" \
    -b "$base" "(sAMAccountName=$3)" objectSid | awk '/^objectSid::/{print $2}' | sid_text
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
export AD_DC_HOSTNAME='dc1.$realm_lc'
EOF
}

print_krb5_env() { # dir
  cat <<EOF
export KRB5_CONFIG='$1/krb5.conf'
export KRB5CCNAME='FILE:$1/krb5cc'
EOF
}

# --- the two-domain forest ---------------------------------------------------------------------------------
F_ROOT_REALM=FOREST.EXAMPLE.TEST; F_ROOT_NB=FOREST; F_ROOT_HOST=rootdc; F_ROOT_IP=127.0.0.3; F_ROOT_PW='Passw0rd!Root'
F_CHILD_REALM=CHILD.FOREST.EXAMPLE.TEST; F_CHILD_NB=CHILD; F_CHILD_HOST=childdc; F_CHILD_IP=127.0.0.4
F_CHILD_PW='Passw0rd!Child'
F_ROOT_DNS=${F_ROOT_REALM,,}; F_CHILD_DNS=${F_CHILD_REALM,,}
F_ROOT_DN=$(dn_of "$F_ROOT_DNS"); F_CHILD_DN=$(dn_of "$F_CHILD_DNS")
F_PARTITIONS="CN=Partitions,CN=Configuration,$F_ROOT_DN"

# One forest DC, provisioned with the internal DNS, a KDC and SPNs, and a certificate from the forest's CA.
forest_provision() { # dir ip realm netbios host password services [in-forest]
  local dir=$1 ip=$2 realm=$3 nb=$4 host=$5 pw=$6 services=$7 tool=(samba-tool domain provision) conf
  local fqdn="$host.${realm,,}"
  conf=$(dc_conf "$dir")
  [ "${8:-}" = in-forest ] && tool=(env "WBW_FOREST_ROOT_DN=$F_ROOT_DN" /usr/bin/python3 "$HERE/provision-in-forest.py")
  mkdir -p "$dir"/{etc,log,run,tls}
  "${tool[@]}" --targetdir="$dir" --realm="$realm" --domain="$nb" --host-name="$host" \
    --server-role=dc --dns-backend=SAMBA_INTERNAL --host-ip="$ip" --adminpass="$pw" \
    --option="interfaces = $ip/8" --option="bind interfaces only = yes" --option="server services = $services" \
    --option="log file = $dir/log/samba.log" --option="pid directory = $dir/run" \
    --option="ncalrpc dir = $dir/run/ncalrpc" --option="winbindd socket directory = $dir/run/winbindd" \
    --option="ntp signd socket directory = $dir/run/ntp_signd" \
    > "$dir/log/provision.log" 2>&1 || { tail -20 "$dir/log/provision.log" >&2; die "provision of $realm failed"; }
  cp "$(dirname "$dir")/ca/ca.pem" "$dir/tls/ca.pem"
  make_cert "$dir/tls" "$(dirname "$dir")/ca" "$fqdn" "DNS:$fqdn,DNS:${realm,,},IP:$ip"
  local extra="\tldap server require strong auth = allow_sasl_over_tls\n\ttls enabled = yes\n\ttls keyfile = $dir/tls/key.pem\n\ttls certfile = $dir/tls/cert.pem\n\ttls cafile = $dir/tls/ca.pem\n\tldb:nosync = true"
  sed -i -e "/^\[global\]/a\\$extra" -e '/^[[:space:]]*dns forwarder[[:space:]]*=/d' "$conf"
  samba-tool domain passwordsettings set -s "$conf" -H "$dir/private/sam.ldb" \
    --complexity=off --history-length=0 --min-pwd-age=0 --max-pwd-age=0 --min-pwd-length=1 >/dev/null
  samba_spnupdate -s "$conf" > "$dir/log/spnupdate.log" 2>&1 \
    || { tail -20 "$dir/log/spnupdate.log" >&2; die "samba_spnupdate for $realm failed"; }
}

# nCName carries the domain's SID as an extended DN component, as in AD: the KDC builds the forest's routing table
# from the crossRefs and fails every service ticket ("Invalid argument") when a domain's SID is missing. A <GUID=..>
# component as well would make Samba leave nCName out of search results (the NC is not on this DC).
crossref() { # name nc-dn domain-sid dns-root netbios [trust-parent]
  printf 'dn: CN=%s,%s\nobjectClass: crossRef\nnCName: <SID=%s>;%s\ndnsRoot: %s\nnETBIOSName: %s\nsystemFlags: 3\n' \
    "$1" "$F_PARTITIONS" "$3" "$2" "$4" "$5"
  [ -z "${6:-}" ] || printf 'trustParent: %s\n' "$6"
  echo
}
domain_sid_offline() { # dc-dir base-dn   (the DC stopped)
  ldbsearch -H "$1/private/sam.ldb" -b "$2" -s base objectSid | awk '/^objectSid: S-1-5-21-/{print $2}'
}

forest_dns() { # root-dir: the child's records, copied into a zone on the root's DNS
  local s=(-s "$(dc_conf "$1")" -U "Administrator%$F_ROOT_PW" --use-kerberos=off) z=$F_CHILD_DNS fqdn="$F_CHILD_HOST.$F_CHILD_DNS" n
  samba-tool dns zonecreate "$F_ROOT_IP" "$z" "${s[@]}" > /dev/null
  samba-tool dns add "$F_ROOT_IP" "$z" "$F_CHILD_HOST" A "$F_CHILD_IP" "${s[@]}" > /dev/null
  samba-tool dns add "$F_ROOT_IP" "$z" @ A "$F_CHILD_IP" "${s[@]}" > /dev/null
  for n in _ldap._tcp _ldap._tcp.dc._msdcs; do
    samba-tool dns add "$F_ROOT_IP" "$z" "$n" SRV "$fqdn 389 0 100" "${s[@]}" > /dev/null
  done
  for n in _kerberos._tcp _kerberos._udp _kerberos._tcp.dc._msdcs; do
    samba-tool dns add "$F_ROOT_IP" "$z" "$n" SRV "$fqdn 88 0 100" "${s[@]}" > /dev/null
  done
}

forest_seed() { # dir ip base-dn admin-password function-printing-more-ldif
  local dir=$1 ip=$2 B=$3 pw=$4 rc=0; shift 4
  {
    ou "OU=Corp,$B"
    ou "OU=Users,OU=Corp,$B"      # the OU tests grant on
    ou "OU=Sales,OU=Corp,$B"      # never in an OU-scoped grant
    "$@"
  } > "$dir/log/seed.ldif"
  LDAPTLS_CACERT="$dir/tls/ca.pem" ldapadd $(admin_args "$ip" "$B") -w "$pw" -f "$dir/log/seed.ldif" \
    > "$dir/log/seed.out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || { cat "$dir/log/seed.out" >&2; die "seeding $B failed (ldapadd rc=$rc)"; }
}
root_users() {
  user alice "OU=Users,OU=Corp,$F_ROOT_DN" "$F_ROOT_DNS"
  user carol "OU=Sales,OU=Corp,$F_ROOT_DN" "$F_ROOT_DNS"
  user svc-aadc "CN=Users,$F_ROOT_DN" "$F_ROOT_DNS"      # the connector account
  user svc-child "CN=Users,$F_ROOT_DN" -                 # decoy: same sAMAccountName as CHILD\svc-child, no UPN
}
child_users() {
  user kim "OU=Users,OU=Corp,$F_CHILD_DN" "$F_CHILD_DNS"
  user lee "OU=Sales,OU=Corp,$F_CHILD_DN" "$F_CHILD_DNS"
  user svc-child "CN=Users,$F_CHILD_DN" "$F_ROOT_DNS"     # UPN suffix of the ROOT domain
}

forest_build() { # template dir
  local t=$1 started=$SECONDS
  if [ -e "$t" ]; then
    local d; for d in "$t/root" "$t/child"; do dc_running "$d" && stop "$d"; done
    rm -rf "$t"
  fi
  mkdir -p "$t/ca"
  make_ca "$t/ca" "forest"
  log "provisioning $F_ROOT_REALM and $F_CHILD_REALM into $t (in parallel)"
  # rpc: samba-tool dns talks to the DNS server over DCE/RPC
  forest_provision "$t/root" "$F_ROOT_IP" "$F_ROOT_REALM" "$F_ROOT_NB" "$F_ROOT_HOST" "$F_ROOT_PW" \
    "ldap, dns, kdc, rpc" & local p1=$!
  forest_provision "$t/child" "$F_CHILD_IP" "$F_CHILD_REALM" "$F_CHILD_NB" "$F_CHILD_HOST" "$F_CHILD_PW" \
    "ldap, dns, kdc" in-forest & local p2=$!
  local rc1=0 rc2=0; wait $p1 || rc1=$?; wait $p2 || rc2=$?
  [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] || die "forest provisioning failed"
  # Each domain's crossRef in the other's Partitions container: only on the stopped database with the relax
  # control (over LDAP Samba refuses it: rc=19, or 12 with relax).
  log "registering each domain's crossRef on the other DC"
  local root_sid child_sid
  root_sid=$(domain_sid_offline "$t/root" "$F_ROOT_DN"); child_sid=$(domain_sid_offline "$t/child" "$F_CHILD_DN")
  [ -n "$root_sid" ] && [ -n "$child_sid" ] || die "cannot read the domain SIDs"
  crossref "$F_CHILD_NB" "$F_CHILD_DN" "$child_sid" "$F_CHILD_DNS" "$F_CHILD_NB" "CN=$F_ROOT_NB,$F_PARTITIONS" \
    | ldbadd -H "$t/root/private/sam.ldb" --controls=relax:0 > /dev/null
  crossref "$F_ROOT_NB" "$F_ROOT_DN" "$root_sid" "$F_ROOT_DNS" "$F_ROOT_NB" \
    | ldbadd -H "$t/child/private/sam.ldb" --controls=relax:0 > /dev/null
  # The child's own crossRef keeps no trustParent: with one, the child's KDC fails every service ticket.
  local cr; for cr in "Enterprise Configuration" "Enterprise Schema"; do
    printf 'dn: CN=%s,%s\nchangetype: modify\nreplace: dnsRoot\ndnsRoot: %s\n-\n\n' "$cr" "$F_PARTITIONS" "$F_ROOT_DNS"
  done > "$t/child/log/partitions.ldif"
  ldbmodify -H "$t/child/private/sam.ldb" "$t/child/log/partitions.ldif" > /dev/null
  start "$t/root" "$F_ROOT_IP" "$F_ROOT_DN" "$F_ROOT_PW"
  start "$t/child" "$F_CHILD_IP" "$F_CHILD_DN" "$F_CHILD_PW"
  log "copying the child's DNS records into a zone on the root DC"
  forest_dns "$t/root"
  forest_seed "$t/root" "$F_ROOT_IP" "$F_ROOT_DN" "$F_ROOT_PW" root_users
  forest_seed "$t/child" "$F_CHILD_IP" "$F_CHILD_DN" "$F_CHILD_PW" child_users
  { # SIDs do not change in a copy
    echo "ROOT_SID=$root_sid"
    echo "CHILD_SID=$child_sid"
    echo "CONNECTOR_SID=$(sid_of "$t/root" "$F_ROOT_IP" svc-aadc "$F_ROOT_DN" "$F_ROOT_PW")"
    echo "DECOY_SID=$(sid_of "$t/root" "$F_ROOT_IP" svc-child "$F_ROOT_DN" "$F_ROOT_PW")"
    echo "CHILD_CONNECTOR_SID=$(sid_of "$t/child" "$F_CHILD_IP" svc-child "$F_CHILD_DN" "$F_CHILD_PW")"
  } > "$t/sids"
  grep -q '=S-1-5-21-' "$t/sids" && ! grep -Eq '=$' "$t/sids" || die "reading the forest's SIDs failed"
  stop "$t/child"; stop "$t/root"
  touch "$t/.ready"
  log "forest template ready in $((SECONDS - started)) s"
}

forest_krb5() { # run dir: krb5.conf for both realms, a ticket per domain's Administrator
  write_krb5_conf "$1/krb5.conf" "$F_ROOT_REALM=$F_ROOT_IP" "$F_CHILD_REALM=$F_CHILD_IP"
  ticket "$1/krb5.conf" "$1/krb5cc-root" "$F_ROOT_REALM" "$F_ROOT_PW"
  ticket "$1/krb5.conf" "$1/krb5cc-child" "$F_CHILD_REALM" "$F_CHILD_PW"
}

print_forest_env() { # run dir
  local r=$1 ROOT_SID CHILD_SID CONNECTOR_SID DECOY_SID CHILD_CONNECTOR_SID
  [ -f "$r/sids" ] || die "no forest in $r: run '$0 forest'"
  # shellcheck disable=SC1091
  . "$r/sids"
  cat <<EOF
export FOREST_NAME='$F_ROOT_DNS'
export FOREST_DNS_SERVER='$F_ROOT_IP'
export FOREST_DNS_PORT='53'
export FOREST_CA_CERT='$r/ca/ca.pem'
export FOREST_KRB5_CONFIG='$r/krb5.conf'
export FOREST_USER_PASSWORD='$USER_PW'
export FOREST_ROOT_LDAPS_URL='ldaps://$F_ROOT_IP:636'
export FOREST_ROOT_LDAP_URL='ldap://$F_ROOT_IP:389'
export FOREST_ROOT_HOST='$F_ROOT_IP'
export FOREST_ROOT_DC_HOSTNAME='$F_ROOT_HOST.$F_ROOT_DNS'
export FOREST_ROOT_DNS_NAME='$F_ROOT_DNS'
export FOREST_ROOT_REALM='$F_ROOT_REALM'
export FOREST_ROOT_DOMAIN='$F_ROOT_NB'
export FOREST_ROOT_BASE_DN='$F_ROOT_DN'
export FOREST_ROOT_SID='$ROOT_SID'
export FOREST_ROOT_ADMIN='$F_ROOT_NB\\Administrator'
export FOREST_ROOT_ADMIN_DN='CN=Administrator,CN=Users,$F_ROOT_DN'
export FOREST_ROOT_ADMIN_PASSWORD='$F_ROOT_PW'
export FOREST_ROOT_KRB5CCNAME='FILE:$r/krb5cc-root'
export FOREST_ROOT_TARGET_OU='OU=Users,OU=Corp,$F_ROOT_DN'
export FOREST_ROOT_OTHER_OU='OU=Sales,OU=Corp,$F_ROOT_DN'
export FOREST_ROOT_USER_DN='CN=alice,OU=Users,OU=Corp,$F_ROOT_DN'
export FOREST_ROOT_OTHER_USER_DN='CN=carol,OU=Sales,OU=Corp,$F_ROOT_DN'
export FOREST_ROOT_PID_FILE='$r/root/run/samba.pid'
export FOREST_CONNECTOR='$F_ROOT_NB\\svc-aadc'
export FOREST_CONNECTOR_DN='CN=svc-aadc,CN=Users,$F_ROOT_DN'
export FOREST_CONNECTOR_UPN='svc-aadc@$F_ROOT_DNS'
export FOREST_CONNECTOR_SID='$CONNECTOR_SID'
export FOREST_ROOT_DECOY='$F_ROOT_NB\\svc-child'
export FOREST_ROOT_DECOY_DN='CN=svc-child,CN=Users,$F_ROOT_DN'
export FOREST_ROOT_DECOY_SID='$DECOY_SID'
export FOREST_CHILD_LDAPS_URL='ldaps://$F_CHILD_IP:636'
export FOREST_CHILD_LDAP_URL='ldap://$F_CHILD_IP:389'
export FOREST_CHILD_HOST='$F_CHILD_IP'
export FOREST_CHILD_DC_HOSTNAME='$F_CHILD_HOST.$F_CHILD_DNS'
export FOREST_CHILD_DNS_NAME='$F_CHILD_DNS'
export FOREST_CHILD_REALM='$F_CHILD_REALM'
export FOREST_CHILD_DOMAIN='$F_CHILD_NB'
export FOREST_CHILD_BASE_DN='$F_CHILD_DN'
export FOREST_CHILD_SID='$CHILD_SID'
export FOREST_CHILD_ADMIN='$F_CHILD_NB\\Administrator'
export FOREST_CHILD_ADMIN_DN='CN=Administrator,CN=Users,$F_CHILD_DN'
export FOREST_CHILD_ADMIN_PASSWORD='$F_CHILD_PW'
export FOREST_CHILD_KRB5CCNAME='FILE:$r/krb5cc-child'
export FOREST_CHILD_TARGET_OU='OU=Users,OU=Corp,$F_CHILD_DN'
export FOREST_CHILD_OTHER_OU='OU=Sales,OU=Corp,$F_CHILD_DN'
export FOREST_CHILD_USER_DN='CN=kim,OU=Users,OU=Corp,$F_CHILD_DN'
export FOREST_CHILD_OTHER_USER_DN='CN=lee,OU=Sales,OU=Corp,$F_CHILD_DN'
export FOREST_CHILD_PID_FILE='$r/child/run/samba.pid'
export FOREST_CHILD_CONNECTOR='$F_CHILD_NB\\svc-child'
export FOREST_CHILD_CONNECTOR_DN='CN=svc-child,CN=Users,$F_CHILD_DN'
export FOREST_CHILD_CONNECTOR_UPN='svc-child@$F_ROOT_DNS'
export FOREST_CHILD_CONNECTOR_SID='$CHILD_CONNECTOR_SID'
EOF
}

# --- the scale lab (issue 11) --------------------------------------------------------------------------------
SCALE_IP=127.0.0.5
SCALE_1K="OU=Scale1k,$BASE_DN"; SCALE_10K="OU=Scale10k,$BASE_DN"; SCALE_USERS="OU=ScaleUsers,$BASE_DN"
SCALE_N_1K=1000; SCALE_N_10K=10000; SCALE_USER_OUS=20; SCALE_USERS_PER_OU=1000
WRITEBACK_GUIDS="CR;00299570-246d-11d0-a768-00aa006e0529 CR;ab721a53-1e2f-11d0-9819-00aa0040529b
  WP;28630ebf-41d5-11d1-a9c1-0000f80367c1 WP;bf967a0a-0de6-11d0-a285-00aa003049e2"

# `count` child OUs of `parent`, names prefix + zero-padded number of `width` digits, as LDIF on stdout.
scale_ous() { # parent prefix count width
  awk -v p="$1" -v x="$2" -v n="$3" -v w="$4" \
    'BEGIN { for (i = 0; i < n; i++) printf "dn: OU=%s%0*d,%s\nobjectClass: organizationalUnit\n\n", x, w, i, p }'
}
scale_users() { # parent first count
  awk -v p="$1" -v f="$2" -v n="$3" \
    'BEGIN { for (i = f; i < f + n; i++) printf "dn: CN=su%05d,%s\nobjectClass: user\nsAMAccountName: su%05d\n\n", i, p, i }'
}
# Adds the LDIF on stdin to the stopped database of $1, 1,000 records per ldbadd (one transaction each).
scale_ldbadd() { # dir label
  local dir=$1 label=$2 tmp="$1/log/scale-batch" started=$SECONDS f
  rm -rf "$tmp"; mkdir -p "$tmp"
  awk -v d="$tmp" 'BEGIN { RS = ""; ORS = "\n\n" } { print > sprintf("%s/%05d.ldif", d, int((NR - 1) / 1000)) }'
  for f in "$tmp"/*.ldif; do
    ldbadd -H "$dir/private/sam.ldb" "$f" > "$tmp/out" 2>&1 || { tail -5 "$tmp/out" >&2; die "ldbadd $f failed"; }
  done
  rm -rf "$tmp"
  log "  $label: $((SECONDS - started)) s"
  echo "$label: $((SECONDS - started)) s" >> "$dir/scale-template.log"
}

scale_build() { # template dir
  local t=$1 started=$SECONDS sid g ace aces=""
  if [ -e "$t" ]; then dc_running "$t" && stop "$t"; rm -rf "$t"; fi
  provision "$t" "$SCALE_IP"
  : > "$t/scale-template.log"
  log "seeding the scale template offline (about 5 minutes, once)"
  { printf 'dn: CN=svc-aadc,CN=Users,%s\nobjectClass: user\nsAMAccountName: svc-aadc\nuserPrincipalName: svc-aadc@%s\n' \
      "$BASE_DN" "$realm_lc"
    printf 'unicodePwd:: %s\nuserAccountControl: 512\n\n' "$(unicodepwd "$USER_PW")"
    ou "$SCALE_1K"; ou "$SCALE_10K"; ou "$SCALE_USERS"
    scale_ous "$SCALE_USERS" g "$SCALE_USER_OUS" 2
  } | scale_ldbadd "$t" "connector and parent OUs"
  sid=$(ldbsearch -H "$t/private/sam.ldb" -b "CN=svc-aadc,CN=Users,$BASE_DN" -s base objectSid \
        | awk '/^objectSid: S-1-5-21-/{print $2}')
  [ -n "$sid" ] || die "cannot read the connector's SID"
  # The writeback grant on the users' OU before any user exists: they inherit it when they are added.
  for g in $WRITEBACK_GUIDS; do aces+="(OA;CIIO;${g%%;*};${g#*;};bf967aba-0de6-11d0-a285-00aa003049e2;$sid)"; done
  samba-tool dsacl set -s "$(dc_conf "$t")" -H "$t/private/sam.ldb" --objectdn="$SCALE_USERS" --sddl="$aces" \
    > "$t/log/dsacl.out" 2>&1 || { cat "$t/log/dsacl.out" >&2; die "granting on $SCALE_USERS failed"; }
  scale_ous "$SCALE_1K" ou "$SCALE_N_1K" 4 | scale_ldbadd "$t" "$SCALE_N_1K OUs"
  scale_ous "$SCALE_10K" ou "$SCALE_N_10K" 5 | scale_ldbadd "$t" "$SCALE_N_10K OUs"
  for g in $(seq 0 $((SCALE_USER_OUS - 1))); do
    scale_users "OU=g$(printf %02d "$g"),$SCALE_USERS" $((g * SCALE_USERS_PER_OU)) "$SCALE_USERS_PER_OU"
  done | scale_ldbadd "$t" "$((SCALE_USER_OUS * SCALE_USERS_PER_OU)) users"
  echo "CONNECTOR_SID=$sid" > "$t/sids"
  echo "total: $((SECONDS - started)) s" >> "$t/scale-template.log"
  touch "$t/.ready"
  log "scale template ready in $((SECONDS - started)) s"
}

print_scale_env() { # run dir
  local r=$1 CONNECTOR_SID
  [ -f "$r/sids" ] || die "no scale lab in $r: run '$0 scale'"
  # shellcheck disable=SC1091
  . "$r/sids"
  cat <<EOF
export SCALE_LDAPS_URL='ldaps://$SCALE_IP:636'
export SCALE_LDAP_URL='ldap://$SCALE_IP:389'
export SCALE_HOST='$SCALE_IP'
export SCALE_BASE_DN='$BASE_DN'
export SCALE_REALM='$REALM'
export SCALE_DOMAIN='$DOMAIN'
export SCALE_ADMIN='$DOMAIN\\Administrator'
export SCALE_ADMIN_DN='CN=Administrator,CN=Users,$BASE_DN'
export SCALE_ADMIN_PASSWORD='$ADMIN_PW'
export SCALE_CA_CERT='$r/tls/ca.pem'
export SCALE_SMB_CONF='$(dc_conf "$r")'
export SCALE_PID_FILE='$r/run/samba.pid'
export SCALE_DC_HOSTNAME='dc1.$realm_lc'
export SCALE_CONNECTOR='$DOMAIN\\svc-aadc'
export SCALE_CONNECTOR_DN='CN=svc-aadc,CN=Users,$BASE_DN'
export SCALE_CONNECTOR_SID='$CONNECTOR_SID'
export SCALE_USER_PASSWORD='$USER_PW'
export SCALE_OUS_1K='$SCALE_1K'
export SCALE_OUS_1K_COUNT='$SCALE_N_1K'
export SCALE_OUS_10K='$SCALE_10K'
export SCALE_OUS_10K_COUNT='$SCALE_N_10K'
export SCALE_USERS_OU='$SCALE_USERS'
export SCALE_USERS_COUNT='$((SCALE_USER_OUS * SCALE_USERS_PER_OU))'
EOF
}

# Serialize concurrent callers (test processes run in parallel).
with_lock() { mkdir -p "$LAB_DIR"; exec 9>"$LAB_DIR/.lock"; flock 9; }

MAIN="$LAB_DIR/dc1"; MAIN_IP=127.0.0.1
ROOT_TEMPLATE="$LAB_DIR/root-template"; ROOT_RUN="$LAB_DIR/root-run"; ROOT_IP=127.0.0.2
FOREST_TEMPLATE="$LAB_DIR/forest-template"; FOREST_RUN="$LAB_DIR/forest-run"
SCALE_TEMPLATE="$LAB_DIR/scale-template"; SCALE_RUN="$LAB_DIR/scale-run"
ALL_DCS=("$MAIN" "$ROOT_TEMPLATE" "$ROOT_RUN" "$FOREST_TEMPLATE/root" "$FOREST_TEMPLATE/child"
         "$FOREST_RUN/root" "$FOREST_RUN/child" "$SCALE_TEMPLATE" "$SCALE_RUN")

cmd=${1:-}
case "$cmd" in
  install) need "${PACKAGES[@]}" "${CHECK_PACKAGES[@]}" "${BUILD_PACKAGES[@]}" ;;
  up)
    with_lock; install; provision "$MAIN" "$MAIN_IP"; kerberize "$MAIN"; start "$MAIN" "$MAIN_IP"
    seed "$MAIN" "$MAIN_IP"
    write_krb5_conf "$MAIN/krb5.conf" "$REALM=$MAIN_IP"
    ticket "$MAIN/krb5.conf" "$MAIN/krb5cc" "$REALM" "$ADMIN_PW"
    print_env "$MAIN" "$MAIN_IP"; print_krb5_env "$MAIN" ;;
  env) print_env "$MAIN" "$MAIN_IP"; print_krb5_env "$MAIN" ;;
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
  forest)
    with_lock; install
    [ -f "$FOREST_TEMPLATE/.ready" ] || forest_build "$FOREST_TEMPLATE"
    for d in "$FOREST_TEMPLATE/root" "$FOREST_TEMPLATE/child" "$FOREST_RUN/child" "$FOREST_RUN/root"; do
      stop "$d"
    done
    rm -rf "$FOREST_RUN"; cp -a "$FOREST_TEMPLATE" "$FOREST_RUN"
    for d in root child; do
      rm -f "$FOREST_RUN/$d/run/samba.pid"
      sed -i -E "s#$FOREST_TEMPLATE(/|\$)#$FOREST_RUN\1#g" "$(dc_conf "$FOREST_RUN/$d")"
    done
    start "$FOREST_RUN/root" "$F_ROOT_IP" "$F_ROOT_DN" "$F_ROOT_PW"
    start "$FOREST_RUN/child" "$F_CHILD_IP" "$F_CHILD_DN" "$F_CHILD_PW"
    forest_krb5 "$FOREST_RUN"
    print_forest_env "$FOREST_RUN" ;;
  forest-env) print_forest_env "$FOREST_RUN" ;;
  scale)
    # Its own lock: building the template takes minutes, and the other labs' callers need not wait for it.
    mkdir -p "$LAB_DIR"; exec 9>"$LAB_DIR/.scale-lock"; flock 9; install
    need time   # GNU time: the benchmark's peak RSS per process
    [ -f "$SCALE_TEMPLATE/.ready" ] || scale_build "$SCALE_TEMPLATE"
    stop "$SCALE_RUN"
    rm -rf "$SCALE_RUN"; cp -a "$SCALE_TEMPLATE" "$SCALE_RUN"; rm -f "$SCALE_RUN/run/samba.pid"
    sed -i -E "s#$SCALE_TEMPLATE(/|\$)#$SCALE_RUN\1#g" "$(dc_conf "$SCALE_RUN")"
    start "$SCALE_RUN" "$SCALE_IP"
    print_scale_env "$SCALE_RUN" ;;
  scale-env) print_scale_env "$SCALE_RUN" ;;
  selftest) need "${PACKAGES[@]}" "${CHECK_PACKAGES[@]}"; exec bash "$HERE/check-lab.sh" ;;
  down) for d in "${ALL_DCS[@]}"; do [ -d "$d" ] && stop "$d"; done; true ;;
  status)
    for d in "${ALL_DCS[@]}"; do
      if dc_running "$d"; then echo "$d: running (pid $(dc_pid "$d"))"; else echo "$d: stopped"; fi
    done ;;
  destroy)
    for d in "${ALL_DCS[@]}"; do [ -d "$d" ] && stop "$d"; done
    rm -rf "$LAB_DIR" ;;
  *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 2 ;;
esac
