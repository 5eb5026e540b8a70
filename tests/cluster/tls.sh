#!/usr/bin/env bash
# Peer links over TLS (wss, mutual) between two real parklogd: a CA and a
# certificate made by the openssl CLI here; the two converge; a third
# central with a certificate of another CA is never connected; `-n`
# refuses p2p_tls without its files. Usage: tls.sh PARKLOGD
. "$(dirname "$0")/lib.sh" "$1"
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 0; }

# pki DIR CN: DIR/ca.pem and DIR/c.pem, DIR/c.key signed by it (EC P-256).
pki() {
	mkdir -p "$1"
	( cd "$1" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout ca.key -out ca.pem -days 2 -subj "/CN=$2-ca" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout c.key -out c.csr -subj "/CN=$2" &&
	openssl x509 -req -in c.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out c.pem -days 2 ) >/dev/null 2>&1 || cl_fail "openssl ($1)"
}

# with_tls N DIR: add p2p_tls with DIR's files to central-N's config.
with_tls() {
	$CL_PY - "$CL_TMP/$1.json" "$2" <<'PY'
import json, sys
path, d = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["p2p_tls"] = {"cert": d + "/c.pem", "key": d + "/c.key", "ca": d + "/ca.pem"}
json.dump(c, open(path, "w"))
PY
}

pki "$CL_TMP/good" facility
pki "$CL_TMP/other" stranger
cl_ports 1 2 3
cl_conf 1 2 3
cl_conf 2 1
cl_conf 3 1
with_tls 1 "$CL_TMP/good"
with_tls 2 "$CL_TMP/good"
with_tls 3 "$CL_TMP/other"
for n in 1 2 3; do
	"$CL_BIN" -n -f "$CL_TMP/$n.json" >/dev/null 2>&1 || cl_fail "-n refuses central-$n's TLS config"
	cl_start "$n"
done
for i in 1 2 3; do cl_open 1 "40T0000$i" >/dev/null; done
cl_open 2 40T00009 >/dev/null
cl_wait 20 cl_converged 1 2 || cl_fail "no convergence over wss"
cl_open 3 40T00077 >/dev/null
sleep 1
cl_status 1 | $CL_PY -c '
import json, sys
s = json.load(sys.stdin)
p = {x["peer_id"]: x for x in s["peers"]}
assert p["central-2"]["connected"], p
assert not p["central-3"]["connected"] and p["central-3"]["connects"] == 0, p
' || cl_fail "central-1's peers over TLS"
! cl_history_has 1 40T00077 || cl_fail "central-3 (another CA) got events through"
# -n: a missing file is refused
sed -i "s#$CL_TMP/good/c.key#$CL_TMP/good/none.key#" "$CL_TMP/2.json"
if "$CL_BIN" -n -f "$CL_TMP/2.json" >"$CL_TMP/n.out" 2>&1; then cl_fail "-n accepts a missing key"; fi
grep -q 'p2p_tls.key: ' "$CL_TMP/n.out" || cl_fail "-n: $(cat "$CL_TMP/n.out")"
cl_stop 1
cl_stop 2
cl_stop 3
echo "tls: ok"
