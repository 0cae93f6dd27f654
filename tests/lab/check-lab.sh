#!/usr/bin/env bash
# Checks the lab with command-line tools only (ldapsearch, kinit/klist/kvno, dig, openssl): Kerberos on the main
# DC, and the two-domain forest (DNS, TLS names, crossRefs, accounts, Kerberos, and what the forest cannot show).
# Brings both up with samba-dc.sh (`forest` restarts the forest from its template). Exits 1 if any check fails.
#   bash tests/lab/check-lab.sh [main|forest|all]      (also: tests/lab/samba-dc.sh selftest)
# Needs: bind9-dnsutils (dig), libsasl2-modules-gssapi-mit (ldapsearch -Y GSSAPI), libnss-wrapper (a private
# hosts file, so ldapsearch can use a DC's host name without /etc/hosts).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=${1:-all}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0

ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/      /' | head -8; }
# check NAME COMMAND...: the command must succeed
check() { local name=$1 out; shift; if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi; }
# expect NAME PATTERN COMMAND...: the command's output (stdout+stderr, any exit code) must match PATTERN (grep -E)
expect() {
  local name=$1 pattern=$2 out; shift 2
  out=$("$@" 2>&1)
  if grep -Eq -- "$pattern" <<< "$out"; then ok "$name"; else bad "$name" "wanted /$pattern/, got: $out"; fi
}
# with_hosts FILE [NAME=VALUE...] COMMAND...: resolve host names from FILE only for COMMAND (nss_wrapper;
# /etc/hosts untouched)
with_hosts() {
  local f=$1; shift
  env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_HOSTS="$f" NSS_WRAPPER_PASSWD=/etc/passwd NSS_WRAPPER_GROUP=/etc/group "$@"
}
# none NAME COMMAND...: the command must succeed and return no entry (search references do not count)
none() {
  local name=$1 out; shift
  if out=$("$@" 2>&1) && ! grep -q '^dn:' <<< "$out"; then ok "$name"; else bad "$name" "$out"; fi
}
rc_of() { "$@" > /dev/null 2>&1; echo "rc=$?"; }
lab() { bash "$here/samba-dc.sh" "$@"; }

check_main() (
  local env_text
  env_text=$(lab up) || { bad "samba-dc.sh up"; exit 1; }
  eval "$env_text"
  echo "== main DC $AD_HOST ($AD_DC_HOSTNAME)"
  export LDAPTLS_CACERT=$AD_CA_CERT
  check "KRB5_CONFIG is a file" test -s "$KRB5_CONFIG"
  check "KRB5CCNAME holds a valid ticket" klist -s -c "$KRB5CCNAME"
  expect "the ticket is Administrator@$AD_REALM's" "Default principal: Administrator@$AD_REALM" klist -c "$KRB5CCNAME"
  expect "rootDSE dnsHostName is AD_DC_HOSTNAME" "^dnsHostName: $AD_DC_HOSTNAME\$" \
    ldapsearch -LLL -x -H "$AD_LDAPS_URL" -b '' -s base dnsHostName
  expect "the KDC issues ldap/$AD_DC_HOSTNAME (SPN registered)" "kvno = " kvno -S ldap "$AD_DC_HOSTNAME"
  printf '%s %s\n' "$AD_HOST" "$AD_DC_HOSTNAME" > "$tmp/main-hosts"
  local gss=(-N -O maxssf=0 -Y GSSAPI)    # -N: the URL's host is the SPN's; maxssf=0: no sign/seal inside TLS
  expect "GSSAPI bind over LDAPS with the ticket, reads a DACL" "^nTSecurityDescriptor:: " \
    with_hosts "$tmp/main-hosts" ldapsearch -LLL -o ldif-wrap=no "${gss[@]}" -H "ldaps://$AD_DC_HOSTNAME" \
      -E '!1.2.840.113556.1.4.801=::MAMCAQQ=' -b "$AD_TARGET_OU" -s base nTSecurityDescriptor
  expect "GSSAPI bind is Administrator@$AD_REALM" "SASL username: Administrator@$AD_REALM" \
    with_hosts "$tmp/main-hosts" ldapsearch -LLL "${gss[@]}" -H "ldaps://$AD_DC_HOSTNAME" -b "$AD_BASE_DN" -s base dn
  expect "GSSAPI bind over StartTLS" "^dn: $AD_BASE_DN" \
    with_hosts "$tmp/main-hosts" ldapsearch -LLL -ZZ "${gss[@]}" -H "ldap://$AD_DC_HOSTNAME" -b "$AD_BASE_DN" -s base dn
  expect "without a ticket GSSAPI fails" "No Kerberos credentials|credentials cache file .* not found" \
    env KRB5CCNAME="FILE:$tmp/none" ldapsearch -LLL "${gss[@]}" -H "ldaps://$AD_HOST" -b "$AD_BASE_DN" -s base dn
  expect "a wrong SPN host: Server not found in Kerberos database" "Server not found in Kerberos database" \
    ldapsearch -LLL "${gss[@]}" -H "ldaps://$AD_HOST" -b "$AD_BASE_DN" -s base dn
  check "kinit from the command line" \
    bash -c 'printf "%s\n" "$AD_ADMIN_PASSWORD" | KRB5CCNAME="FILE:$1" kinit "Administrator@$AD_REALM" >/dev/null && KRB5CCNAME="FILE:$1" klist -s' _ "$tmp/cc"
  expect "simple bind over LDAPS still works" "^dn: $AD_BASE_DN" \
    ldapsearch -LLL -x -H "$AD_LDAPS_URL" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PASSWORD" -b "$AD_BASE_DN" -s base dn
  expect "simple bind over plain LDAP is refused (allow_sasl_over_tls)" "Strong\(er\) authentication required" \
    ldapsearch -LLL -x -H "$AD_LDAP_URL" -D "$AD_ADMIN_DN" -w "$AD_ADMIN_PASSWORD" -b "$AD_BASE_DN" -s base dn
  [ "$failed" -eq 0 ]
)

check_forest() (
  local env_text
  env_text=$(lab forest) || { bad "samba-dc.sh forest"; exit 1; }
  eval "$env_text"
  export LDAPTLS_CACERT=$FOREST_CA_CERT KRB5_CONFIG=$FOREST_KRB5_CONFIG
  local dns=(dig +time=2 +tries=1 -p "$FOREST_DNS_PORT" "@$FOREST_DNS_SERVER" +short)
  local P="CN=Partitions,CN=Configuration,$FOREST_ROOT_BASE_DN" side
  : > "$tmp/forest-hosts"
  for side in ROOT CHILD; do
    local url=FOREST_${side}_LDAPS_URL host=FOREST_${side}_HOST name=FOREST_${side}_DNS_NAME
    local dc=FOREST_${side}_DC_HOSTNAME base=FOREST_${side}_BASE_DN nb=FOREST_${side}_DOMAIN
    local adm=FOREST_${side}_ADMIN_DN pw=FOREST_${side}_ADMIN_PASSWORD cc=FOREST_${side}_KRB5CCNAME
    local bind=(-x -D "${!adm}" -w "${!pw}") realm=${!name}; realm=${realm^^}
    echo "== $side ${!name} (${!dc} on ${!host}), DNS $FOREST_DNS_SERVER:$FOREST_DNS_PORT"
    local srv
    for srv in "_ldap._tcp.dc._msdcs.${!name}" "_ldap._tcp.${!name}"; do
      expect "SRV $srv" "^0 100 389 ${!dc}\.\$" "${dns[@]}" "$srv" SRV
    done
    expect "A ${!dc}" "^${!host}\$" "${dns[@]}" "${!dc}" A
    printf '%s %s\n' "$("${dns[@]}" "${!dc}" A)" "${!dc}" >> "$tmp/forest-hosts"
    expect "TLS certificate verifies for ${!dc} at the A record's address" "Verify return code: 0 " \
      bash -c 'openssl s_client -connect "$1:636" -CAfile "$2" -verify_hostname "$3" -verify_return_error < /dev/null' \
      _ "$("${dns[@]}" "${!dc}" A)" "$FOREST_CA_CERT" "${!dc}"
    expect "TLS certificate does not verify for another name" "hostname mismatch" \
      bash -c 'openssl s_client -connect "$1:636" -CAfile "$2" -verify_hostname "$3" -verify_return_error < /dev/null' \
      _ "${!host}" "$FOREST_CA_CERT" "dc.elsewhere.example.test"
    expect "LDAPS by host name (name from DNS, CA verified)" "^dn: ${!base}\$" \
      with_hosts "$tmp/forest-hosts" ldapsearch -LLL "${bind[@]}" -H "ldaps://${!dc}" -b "${!base}" -s base dn
    expect "StartTLS by host name (CA verified)" "^dn: ${!base}\$" \
      with_hosts "$tmp/forest-hosts" ldapsearch -LLL -ZZ "${bind[@]}" -H "ldap://${!dc}" -b "${!base}" -s base dn
    local listed
    listed=$(ldapsearch -LLL -o ldif-wrap=no "${bind[@]}" -H "${!url}" -b "$P" \
      '(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))' nCName dnsRoot nETBIOSName)
    expect "lists the root domain (crossRef)" "nCName: $FOREST_ROOT_BASE_DN" echo "$listed"
    expect "lists the child domain (crossRef)" "nCName: $FOREST_CHILD_BASE_DN" echo "$listed"
    expect "two domain crossRefs with dnsRoot and nETBIOSName" "^2 2 2\$" \
      bash -c 'printf "%s %s %s\n" "$(grep -c "^nCName:" <<< "$1")" "$(grep -c "^dnsRoot:" <<< "$1")" "$(grep -c "^nETBIOSName:" <<< "$1")"' _ "$listed"
    local dse
    dse=$(ldapsearch -LLL -x -H "${!url}" -b '' -s base defaultNamingContext rootDomainNamingContext dnsHostName)
    expect "rootDSE: rootDomainNamingContext is the root's" "^rootDomainNamingContext: $FOREST_ROOT_BASE_DN\$" echo "$dse"
    expect "rootDSE: defaultNamingContext is its own" "^defaultNamingContext: ${!base}\$" echo "$dse"
    expect "rootDSE: dnsHostName" "^dnsHostName: ${!dc}\$" echo "$dse"
    local v
    for v in TARGET_OU OTHER_OU USER_DN OTHER_USER_DN; do
      local k=FOREST_${side}_$v
      expect "exists: ${!k}" "^dn: ${!k}\$" ldapsearch -LLL -o ldif-wrap=no "${bind[@]}" -H "${!url}" -b "${!k}" -s base dn
    done
    expect "simple bind as ${!nb}\\Administrator" "^dn: ${!base}\$" \
      ldapsearch -LLL -x -D "${!nb}\\Administrator" -w "${!pw}" -H "${!url}" -b "${!base}" -s base dn
    expect "KRB5CCNAME ticket is Administrator@$realm" "Default principal: Administrator@$realm" klist -c "${!cc}"
    expect "GSSAPI bind over LDAPS by host name" "SASL username: Administrator@$realm" \
      with_hosts "$tmp/forest-hosts" KRB5CCNAME="${!cc}" ldapsearch -LLL -N -O maxssf=0 -Y GSSAPI \
        -H "ldaps://${!dc}" -b "${!base}" -s base dn
    expect "GC 3269 answers for its own domain" "^dn: CN=Administrator,CN=Users,${!base}\$" \
      ldapsearch -LLL "${bind[@]}" -H "ldaps://${!host}:3269" -b '' "(sAMAccountName=Administrator)" dn
  done

  echo "== accounts"
  local R=(-x -H "$FOREST_ROOT_LDAPS_URL" -D "$FOREST_ROOT_ADMIN_DN" -w "$FOREST_ROOT_ADMIN_PASSWORD")
  local C=(-x -H "$FOREST_CHILD_LDAPS_URL" -D "$FOREST_CHILD_ADMIN_DN" -w "$FOREST_CHILD_ADMIN_PASSWORD")
  expect "connector $FOREST_CONNECTOR by UPN in the root" "^dn: $FOREST_CONNECTOR_DN\$" \
    ldapsearch -LLL -o ldif-wrap=no "${R[@]}" -b "$FOREST_ROOT_BASE_DN" "(userPrincipalName=$FOREST_CONNECTOR_UPN)" dn
  expect "child account by UPN $FOREST_CHILD_CONNECTOR_UPN is in the child" "^dn: $FOREST_CHILD_CONNECTOR_DN\$" \
    ldapsearch -LLL -o ldif-wrap=no "${C[@]}" -b "$FOREST_CHILD_BASE_DN" "(userPrincipalName=$FOREST_CHILD_CONNECTOR_UPN)" dn
  none "the root has no account with that UPN" \
    ldapsearch -LLL -o ldif-wrap=no "${R[@]}" -b "$FOREST_ROOT_BASE_DN" "(userPrincipalName=$FOREST_CHILD_CONNECTOR_UPN)" dn
  expect "the root's decoy has the same sAMAccountName" "^dn: $FOREST_ROOT_DECOY_DN\$" \
    ldapsearch -LLL -o ldif-wrap=no "${R[@]}" -b "$FOREST_ROOT_BASE_DN" "(sAMAccountName=${FOREST_CHILD_CONNECTOR#*\\})" dn
  expect "SIDs: connector in the root domain, child account in the child domain" "^ok\$" bash -c '
    case "$1" in "$2"-*) ;; *) exit 1;; esac; case "$3" in "$4"-*) ;; *) exit 1;; esac
    case "$5" in "$2"-*) ;; *) exit 1;; esac; [ "$3" != "$5" ] && echo ok' _ \
    "$FOREST_CONNECTOR_SID" "$FOREST_ROOT_SID" "$FOREST_CHILD_CONNECTOR_SID" "$FOREST_CHILD_SID" "$FOREST_ROOT_DECOY_SID"
  expect "the child account binds on the child DC with its UPN" "^dn: $FOREST_CHILD_BASE_DN\$" \
    ldapsearch -LLL -x -H "$FOREST_CHILD_LDAPS_URL" -D "$FOREST_CHILD_CONNECTOR_UPN" -w "$FOREST_USER_PASSWORD" \
      -b "$FOREST_CHILD_BASE_DN" -s base dn
  local ou="OU=check-$$,$FOREST_CHILD_BASE_DN" ace="(OA;CI;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;$FOREST_CONNECTOR_SID)"
  printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$ou" | ldapadd "${C[@]}" > /dev/null
  expect "an ACE for the root connector's SID can be written on a child OU" "$FOREST_CONNECTOR_SID" bash -c '
    s=(-s "$5" -H "ldap://$1" -U "Administrator%$2" --use-kerberos=off)
    samba-tool dsacl set "${s[@]}" --objectdn="$3" --sddl="$4" > /dev/null 2>&1
    samba-tool dsacl get "${s[@]}" --objectdn="$3"' _ \
    "$FOREST_CHILD_HOST" "$FOREST_CHILD_ADMIN_PASSWORD" "$ou" "$ace" "$(dirname "$(dirname "$FOREST_CHILD_PID_FILE")")/etc/smb.conf"
  ldapdelete "${C[@]}" "$ou" > /dev/null

  echo "== what the forest lab cannot show (asserted, so this list stays true)"
  expect "no trust: the root's Administrator cannot bind to the child DC (49)" "rc=49" \
    rc_of ldapsearch -LLL -x -H "$FOREST_CHILD_LDAPS_URL" -D "$FOREST_ROOT_ADMIN_DN" -w "$FOREST_ROOT_ADMIN_PASSWORD" \
      -b "$FOREST_CHILD_BASE_DN" -s base dn
  expect "no trust: a root ticket gets no service ticket for the child DC" "Server not found in Kerberos database" \
    env KRB5CCNAME="$FOREST_ROOT_KRB5CCNAME" kvno -S ldap "$FOREST_CHILD_DC_HOSTNAME"
  expect "no referral: the root DC answers noSuchObject (32) for the child's DN" "rc=32" \
    rc_of ldapsearch -LLL "${R[@]}" -b "$FOREST_CHILD_BASE_DN" -s base dn
  none "no forest-wide GC: the root's GC has no child user" \
    ldapsearch -LLL -x -D "$FOREST_ROOT_ADMIN_DN" -w "$FOREST_ROOT_ADMIN_PASSWORD" -H "ldaps://$FOREST_ROOT_HOST:3269" -b '' "(userPrincipalName=$FOREST_CHILD_CONNECTOR_UPN)" dn
  expect "DNS on $FOREST_DNS_SERVER: a name in no zone is NXDOMAIN" "status: NXDOMAIN" \
    dig +time=2 +tries=1 -p "$FOREST_DNS_PORT" "@$FOREST_DNS_SERVER" _ldap._tcp.dc._msdcs.nowhere.example.test SRV
  expect "DNS on the child DC ($FOREST_CHILD_HOST) knows only its own domain" "status: NXDOMAIN" \
    dig +time=2 +tries=1 "@$FOREST_CHILD_HOST" "_ldap._tcp.dc._msdcs.$FOREST_ROOT_DNS_NAME" SRV
  [ "$failed" -eq 0 ]
)

rc=0
case "$what" in
  main) check_main || rc=1 ;;
  forest) check_forest || rc=1 ;;
  all) check_main || rc=1; check_forest || rc=1 ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
[ $rc -eq 0 ] && echo "all checks passed" || echo "some checks FAILED"
exit $rc
